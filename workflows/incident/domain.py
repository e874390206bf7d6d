"""The incident as a pure domain object: state plus every human and alert command -> verdict and events.

No Temporal import: the workflow shell passes `now`, calls a command, and acts on what changed. So the rules
(idempotent commands, stale commands rejected with a reason, an upgrade to SEV-1 ending a snooze, alerts after
resolution opening the next occurrence) are unit-tested without a server (tests/unit/test_incident_domain.py).

Signals and updates share this code: a signal's payload is parsed here and a bad one is *recorded* as rejected;
an update's validator asks `refusal()` first, so a rejected update never enters history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from workflows.containment.commands import CONTAINMENT_COMMANDS, ContainmentCommands
from workflows.escalation import has_data_or_compliance_impact
from workflows.incident.state import RECURRENCES_KEPT, SEEN_IDS_LIMIT, IncidentState, PostedUpdate
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.commands import (
    Acknowledge,
    AddNote,
    AssignRole,
    Command,
    CommandVerdict,
    Escalate,
    Mitigate,
    PostUpdate,
    Reclassify,
    RecordRegulatoryNotification,
    Resolve,
    Snooze,
)
from workflows.messages.common import Severity
from workflows.messages.status import Classification, ClassificationReason, EventKind, TimelineEvent
from workflows.messages.validation import describe_validation_error
from workflows.policy import Policy
from workflows.severity import classify

SYSTEM = "warroom"

COMMANDS: dict[str, type[Command]] = {
    "acknowledge": Acknowledge,
    "add_note": AddNote,
    "reclassify": Reclassify,
    "mitigate": Mitigate,
    "resolve": Resolve,
    "assign_role": AssignRole,
    "escalate": Escalate,
    "snooze": Snooze,
    "post_update": PostUpdate,
    "record_regulatory_notification": RecordRegulatoryNotification,
    **CONTAINMENT_COMMANDS,
}
ALLOWED_AFTER_RESOLUTION = {"add_note", "record_regulatory_notification"}


@dataclass
class Decision:
    """What one command did: the verdict for its sender and the timeline events it recorded."""

    verdict: CommandVerdict
    events: list[TimelineEvent] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.verdict.outcome == "applied"


def occurrence_of(incident_id: str, opened_at: datetime) -> str:
    """`incident-x@20261130T101500.123Z`: a recurrence under the same id is a new occurrence, a new key."""
    return f"{incident_id}@{opened_at:%Y%m%dT%H%M%S}.{opened_at.microsecond // 1000:03d}Z"


class Incident(ContainmentCommands):
    """Wraps the state; every method that changes it records why in the timeline."""

    def __init__(self, state: IncidentState) -> None:
        self.state = state
        self._recording: list[TimelineEvent] | None = None
        # Told of every recorded event (the workflow counts metrics from them); must not raise.
        self.observers: list[Callable[[TimelineEvent, IncidentState], None]] = []
        # Whether what the alerts' resolution did on its own yields to a person: its ack measures no time to
        # acknowledge and a person's later ack replaces it; a person's resolve (with force, say) replaces its
        # pending resolve. The workflow sets it for runs that recorded the marker all-patches-2026-12-c;
        # older runs replay their acks and resolves as they were.
        self.alerts_yield_to_people = False

    # ------------------------------------------------------------------ timeline

    def record(
        self, now: datetime, kind: EventKind, actor: str, summary: str, command_id: str | None = None,
        **details: Any,
    ) -> TimelineEvent:  # fmt: skip
        timeline = self.state.timeline
        event = TimelineEvent(
            at=now, kind=kind, actor=actor, summary=summary, command_id=command_id, details=details,
            seq=timeline.next_seq,
        )  # fmt: skip
        timeline.next_seq += 1
        timeline.recent.append(event)
        timeline.counts[kind] = timeline.counts.get(kind, 0) + 1
        if self._recording is not None:
            self._recording.append(event)
        for observe in self.observers:
            observe(event, self.state)
        return event

    def remember(self, seen_id: str) -> bool:
        """True the first time an id is seen; the window is bounded so long incidents stay small."""
        if seen_id in self.state.seen_ids:
            return False
        self.state.seen_ids.append(seen_id)
        del self.state.seen_ids[:-SEEN_IDS_LIMIT]
        return True

    # ------------------------------------------------------------------ commands: parse, refuse, apply

    def parse(self, name: str, payload: Any, now: datetime) -> Command | Decision:
        """A signal's payload as its command, or the recorded rejection (a bad payload never raises)."""
        model = COMMANDS[name]
        if payload is None:
            return self._rejected(
                now, name, "unknown", None,
                f"{name}: empty payload; send a JSON object (see the examples in this incident's details)",
            )  # fmt: skip
        try:
            return model.model_validate(payload)
        except ValidationError as error:
            # Keep who sent it and its command id, so the sender (e.g. the CLI) can find its verdict.
            fields = payload if isinstance(payload, dict) else {}
            actor, command_id = fields.get("by"), fields.get("command_id")
            return self._rejected(
                now, name, actor if isinstance(actor, str) and actor else "unknown",
                command_id if isinstance(command_id, str) else None,
                f"{name}: {describe_validation_error(error)}",
            )  # fmt: skip

    def handle_signal(self, name: str, payload: Any, now: datetime) -> Decision:
        parsed = self.parse(name, payload, now)
        return parsed if isinstance(parsed, Decision) else self.execute(name, parsed, now)

    def refusal(self, name: str, command: Command) -> str | None:
        """Why this command cannot apply now, or None. Pure: an update's validator calls it."""
        if self.state.is_resolved and name not in ALLOWED_AFTER_RESOLUTION:
            return f"{name}: incident already resolved"
        check: Callable[[Any], str | None] | None = getattr(self, f"_refuse_{name}", None)
        return check(command) if check else None

    def execute(self, name: str, command: Command, now: datetime) -> Decision:
        """Apply a parsed command: a repeat of its command id is a no-op, a refusal is recorded."""
        if command.command_id and f"command:{command.command_id}" in self.state.seen_ids:
            return Decision(
                self._verdict(name, command, "ignored", f"repeat of command {command.command_id}")
            )
        reason = self.refusal(name, command)
        if reason is not None:
            return self._rejected(now, name, command.by, command.command_id, reason)
        if command.command_id:
            self.remember(f"command:{command.command_id}")
        self._recording = []
        try:
            outcome, summary = getattr(self, f"_apply_{name}")(command, now)
            return Decision(self._verdict(name, command, outcome, summary), self._recording)
        finally:
            self._recording = None

    def _rejected(
        self, now: datetime, name: str, actor: str, command_id: str | None, reason: str
    ) -> Decision:
        event = self.record(now, EventKind.REJECTED, actor, reason, command_id, signal=name)
        verdict = CommandVerdict(command=name, outcome="rejected", reason=reason, command_id=command_id)
        return Decision(verdict, [event])

    def _ignored(self, now: datetime, command: Command, summary: str) -> tuple[str, str]:
        self.record(now, EventKind.IGNORED, command.by, summary, command.command_id)
        return "ignored", summary

    @staticmethod
    def _verdict(name: str, command: Command, outcome: Any, reason: str) -> CommandVerdict:
        return CommandVerdict(command=name, outcome=outcome, reason=reason, command_id=command.command_id)

    # ------------------------------------------------------------------ refusals (pure)

    def _refuse_assign_role(self, command: AssignRole) -> str | None:
        if self.state.policy is None:
            return "assign_role: the incident is still loading its policy; send it again"
        people = self.state.policy.roster.people
        if people and command.person not in people:
            return (
                f"assign_role: unknown person '{command.person}' "
                f"(the roster knows: {', '.join(sorted(people))})"
            )
        return None

    def _refuse_escalate(self, command: Escalate) -> str | None:
        levels = len(self.state.policy.escalation.levels) if self.state.policy else 0
        if self.state.lifecycle.response_started_at is None:
            return "escalate: the response has not started yet"
        if command.level > levels:
            return f"escalate: level {command.level} does not exist (1..{levels})"
        return None

    def _refuse_snooze(self, command: Snooze) -> str | None:
        if self.state.severity is None or self.state.policy is None:
            return "snooze: the incident is still being classified; send it again in a moment"
        if self.state.severity is Severity.SEV1:
            return "snooze: a SEV-1 cannot be snoozed"
        limit = self.state.policy.escalation.max_snooze
        if not timedelta(0) < command.duration <= limit:
            return (
                f"snooze: duration must be more than 0 and at most {limit} (the policy's max_snooze), "
                f"got {command.duration}"
            )
        return None

    def _refuse_resolve(self, command: Resolve) -> str | None:
        cause = self.state.cause
        if cause.alert_count == 0 and cause.declared_by is None:
            return "resolve: nothing to resolve yet (no alert or declaration has opened this incident)"
        recovery = self.state.containment.recovery
        if recovery.status == "stalled":
            return f"resolve: phased recovery stalled ({recovery.detail}); send override_recovery with a reason first"
        return None

    def _refuse_record_regulatory_notification(self, command: RecordRegulatoryNotification) -> str | None:
        if self.state.regulatory.since is None:
            return "record_regulatory_notification: no regulatory notification is due"
        return None

    # ------------------------------------------------------------------ applying commands

    def acknowledge(
        self, now: datetime, by: str, summary: str, command_id: str | None = None, by_alerts: bool = False
    ) -> None:
        """Takes effect at once: the duty engine drops every page of the ack chain on its next look.

        `by_alerts`: nobody acked; every alert resolved. That stops the pages all the same, but it is no time
        to acknowledge, so MTTA, the time-to-ack histogram, the post-mortem and drills leave it out."""
        response = self.state.response
        response.acknowledged_by, response.acknowledged_at = by, now
        response.acknowledged_by_alerts = by_alerts and self.alerts_yield_to_people
        details = {"by_alerts": True} if response.acknowledged_by_alerts else {}
        self.record(now, EventKind.ACKNOWLEDGED, by, summary, command_id, **details)

    def _acknowledge_implicitly(
        self, now: datetime, by: str, how: str, command_id: str | None, by_alerts: bool = False
    ) -> None:
        if not self._acknowledged_by_a_person():
            self.acknowledge(now, by, f"acknowledged by {how}", command_id, by_alerts)

    def _acknowledged_by_a_person(self) -> bool:
        """An ack stands unless it only came from the alerts resolving: a person's ack then replaces it."""
        return self.state.is_acknowledged and not self.state.response.acknowledged_by_alerts

    def _apply_acknowledge(self, command: Acknowledge, now: datetime) -> tuple[str, str]:
        if self._acknowledged_by_a_person():
            return self._ignored(
                now, command, f"already acknowledged by {self.state.response.acknowledged_by}"
            )
        summary = f"acknowledged{_suffix(command.note)}"
        self.acknowledge(now, command.by, summary, command.command_id)
        return "applied", summary

    def _apply_add_note(self, command: AddNote, now: datetime) -> tuple[str, str]:
        self.record(now, EventKind.NOTE, command.by, command.text, command.command_id)
        return "applied", "note added"

    def _apply_reclassify(self, command: Reclassify, now: datetime) -> tuple[str, str]:
        reason = ClassificationReason(
            dimension="human", severity=command.severity, explanation=command.reason
        )
        classification = Classification(severity=command.severity, reasons=[reason], decided_by=command.by)
        self.set_classification(now, classification, EventKind.RECLASSIFIED, command.by, command.command_id)
        return "applied", f"severity is now {command.severity.value}"

    def _apply_mitigate(self, command: Mitigate, now: datetime) -> tuple[str, str]:
        if self.state.lifecycle.mitigated_at is not None:
            return self._ignored(now, command, "already mitigated")
        self._acknowledge_implicitly(now, command.by, "mitigate", command.command_id)
        self.state.lifecycle.mitigated_at = now
        summary = f"mitigated{_suffix(command.note)}"
        self.record(now, EventKind.MITIGATED, command.by, summary, command.command_id)
        return "applied", summary

    def _apply_resolve(self, command: Resolve, now: datetime) -> tuple[str, str]:
        lifecycle = self.state.lifecycle
        alerts_pending = lifecycle.resolve_request is not None and lifecycle.resolve_by_alerts
        takes_over = alerts_pending and self.alerts_yield_to_people and command.force
        if lifecycle.resolve_request is not None and not takes_over:
            if alerts_pending and self.alerts_yield_to_people:  # same gate: a refusal would drop the alerts'
                return self._ignored(now, command, ALERTS_RESOLVE_PENDING)
            return self._ignored(now, command, "resolution already in progress")
        self._acknowledge_implicitly(now, command.by, "resolve", command.command_id)
        lifecycle.resolve_request, lifecycle.resolve_by_alerts, lifecycle.resolve_refusals = command, False, 0
        summary = "resolve requested; checking health"
        if takes_over:  # the alerts' resolve waits on a failing gate: the person's forced one goes now
            lifecycle.next_probe_at = None
            summary = "resolve requested with force, in place of the alerts' (their health gate kept failing)"
        self.record(now, EventKind.RESOLVE_REQUESTED, command.by, summary, command.command_id)
        return "applied", summary

    def _apply_assign_role(self, command: AssignRole, now: datetime) -> tuple[str, str]:
        self.state.response.roles[command.role] = command.person
        summary = f"{command.role}: {command.person}"
        self.record(now, EventKind.ROLE_ASSIGNED, command.by, summary, command.command_id)
        return "applied", summary

    def _apply_escalate(self, command: Escalate, now: datetime) -> tuple[str, str]:
        response = self.state.response
        if command.level in response.engaged_levels or command.level in response.manual_requests:
            return self._ignored(now, command, f"level {command.level} is already engaged")
        response.manual_requests[command.level] = now
        summary = f"escalation to level {command.level} requested: {command.reason}"
        self.record(now, EventKind.ESCALATED, command.by, summary, command.command_id, level=command.level)
        return "applied", summary

    def _apply_snooze(self, command: Snooze, now: datetime) -> tuple[str, str]:
        until = now + command.duration
        self.state.response.snoozed_until = until
        summary = f"pages and nudges held until {until:%Y-%m-%d %H:%M:%S} UTC: {command.reason}"
        self.record(now, EventKind.SNOOZED, command.by, summary, command.command_id)
        return "applied", summary

    def _apply_post_update(self, command: PostUpdate, now: datetime) -> tuple[str, str]:
        comms = self.state.communications
        comms.unsent.append(
            PostedUpdate(index=comms.updates_posted, at=now, by=command.by, text=command.text,
                         audience=command.audience)
        )  # fmt: skip
        comms.updates_posted += 1
        comms.last_update_at = now
        summary = f"{command.audience} update: {command.text}"
        self.record(now, EventKind.STATUS_UPDATE, command.by, summary, command.command_id)
        return "applied", f"{command.audience} update posted; it goes out now"

    def _apply_record_regulatory_notification(
        self, command: RecordRegulatoryNotification, now: datetime
    ) -> tuple[str, str]:
        regulatory = self.state.regulatory
        if regulatory.notified_by is not None:
            return self._ignored(now, command, f"already recorded by {regulatory.notified_by}")
        regulatory.notified_by, regulatory.reference = command.by, command.reference
        reference = f" (reference {command.reference})" if command.reference else ""
        summary = f"regulatory notification recorded{reference}{_suffix(command.note)}"
        self.record(now, EventKind.REGULATORY, command.by, summary, command.command_id)
        return "applied", summary

    # ------------------------------------------------------------------ alerts

    def add_alert(self, payload: Any, now: datetime) -> Alert | None:
        """An alert joins (or, after resolution, is queued for the next occurrence). Returns it if it counted."""
        alert = self._parse_alert(payload, now)
        if alert is None:
            return None
        if alert.event_id and not self.remember(f"alert:{alert.event_id}"):
            self.state.cause.repeated_alerts += 1
            return None
        if self.state.is_resolved:
            return self._recurrence(alert, now)
        cause = self.state.cause
        cause.alert_count += 1
        cause.service = cause.service or alert.service
        self.state.containment.note_labels(alert.labels)
        cause.summary = cause.summary or alert.summary
        self.record(
            now, EventKind.ALERT, alert.source, f"{alert.status.value}: {alert.summary}",
            dedup_key=alert.dedup_key, service=alert.service, severity_hint=alert.severity_hint,
            **({"starts_at": alert.starts_at.isoformat()} if alert.starts_at else {}),
        )  # fmt: skip
        if alert.correlation:
            self.record(now, EventKind.CORRELATED, alert.source, alert.correlation, dedup_key=alert.dedup_key)
        if alert.status is AlertStatus.FIRING:
            cause.alerts.fire(alert.identity)
            self._widen_impact(alert, now)
        elif alert.status is AlertStatus.ACKNOWLEDGED:
            self._acknowledge_implicitly(now, f"{alert.source} (alert acknowledged)", "add_alert", None)
        else:
            self._resolve_alert(alert, now)
        return alert

    def _parse_alert(self, payload: Any, now: datetime) -> Alert | None:
        if payload is None:
            self.record(now, EventKind.REJECTED, "unknown", "add_alert: empty payload", signal="add_alert")
            return None
        try:
            return Alert.model_validate(payload)
        except ValidationError as error:
            reason = f"add_alert: {describe_validation_error(error)}"
            self.record(now, EventKind.REJECTED, "unknown", reason, signal="add_alert")
            return None

    def _recurrence(self, alert: Alert, now: datetime) -> Alert | None:
        """A firing alert after resolution is a new occurrence: it pages as soon as this one closes."""
        if alert.status is not AlertStatus.FIRING:
            self.record(
                now,
                EventKind.IGNORED,
                alert.source,
                f"{alert.status.value} after resolution: {alert.summary}",
            )
            return None
        self.state.recurrences.append(alert)
        del self.state.recurrences[:-RECURRENCES_KEPT]
        self.record(
            now, EventKind.ALERT, alert.source,
            f"firing again after resolution: {alert.summary} (opens the next occurrence, which pages)",
            dedup_key=alert.dedup_key, recurrence=True,
        )  # fmt: skip
        return alert

    def _resolve_alert(self, alert: Alert, now: datetime) -> None:
        """A resolved alert clears its firing twin; when none is left firing, the incident resolves itself
        through the same health gate as a human resolve (docs/intake.md, "Resolves")."""
        if not self.state.cause.alerts.resolve(alert.identity) or self.state.lifecycle.resolve_request:
            return
        actor = f"{alert.source} (all alerts resolved)"
        self._acknowledge_implicitly(now, actor, "alert resolution", None, by_alerts=True)
        lifecycle = self.state.lifecycle
        lifecycle.resolve_request = Resolve(by=actor, note="every alert of this incident resolved")
        lifecycle.resolve_by_alerts, lifecycle.resolve_refusals = True, 0
        self.record(now, EventKind.RESOLVE_REQUESTED, actor, "all alerts resolved; checking health")

    # ------------------------------------------------------------------ classification and impact

    def classify(self, now: datetime, keep_earlier_choice: bool = False) -> None:
        """The matrix (or the declarer) decides; with keep_earlier_choice, a severity a human set before this
        ran is only ever raised, as after it (`_widen_impact`)."""
        cause = self.state.cause
        if cause.declared_severity and cause.declared_by:
            reason = ClassificationReason(
                dimension="declared", severity=cause.declared_severity,
                explanation=f"declared {cause.declared_severity.value} by {cause.declared_by}",
            )  # fmt: skip
            classification = Classification(
                severity=cause.declared_severity, reasons=[reason], decided_by=cause.declared_by
            )
        else:
            classification = self._matrix_classification()
        earlier = self.state.lifecycle.classification
        if keep_earlier_choice and earlier and classification.severity.rank >= earlier.severity.rank:
            self.record(
                now, EventKind.CLASSIFIED, SYSTEM,
                f"{earlier.severity.value} kept, set by {earlier.decided_by} before classification ran "
                f"({classification.decided_by}: {classification.severity.value})",
                severity=earlier.severity.value,
            )  # fmt: skip
        else:
            self.set_classification(now, classification, EventKind.CLASSIFIED, SYSTEM)
        self.note_service(cause.service, now)
        self._note_impact_flags(now)

    def set_classification(
        self, now: datetime, classification: Classification, kind: EventKind, actor: str,
        command_id: str | None = None,
    ) -> None:  # fmt: skip
        previous = self.state.severity
        self.state.lifecycle.classification = classification
        change = f"{previous.value} -> " if previous and previous != classification.severity else ""
        reasons = "; ".join(reason.explanation for reason in classification.reasons)
        self.record(
            now, kind, actor, f"{change}{classification.severity.value}: {reasons}", command_id,
            severity=classification.severity.value,
        )  # fmt: skip
        response = self.state.response
        if (
            classification.severity is Severity.SEV1
            and response.snoozed_until
            and response.snoozed_until > now
        ):
            response.snoozed_until = None
            self.record(now, EventKind.SNOOZED, SYSTEM, "snooze ended: a SEV-1 is never snoozed")

    def _widen_impact(self, alert: Alert, now: datetime) -> None:
        cause = self.state.cause
        cause.impact = cause.impact.widened_by(alert.impact)
        self.note_service(alert.service, now)
        self._note_impact_flags(now)
        if alert.severity_hint and alert.severity_hint not in cause.severity_hints:
            cause.severity_hints.append(alert.severity_hint)
        current = self.state.lifecycle.classification
        if current is None or self.state.policy is None:
            return  # classification has not run yet; it will read the widened impact
        proposed = self._matrix_classification()
        # New evidence may raise severity, never lower it, and a human's choice is only ever raised.
        if proposed.severity.rank < current.severity.rank:
            self.set_classification(now, proposed, EventKind.RECLASSIFIED, SYSTEM)

    def note_service(self, service: str | None, now: datetime) -> None:
        """Track the teams an incident touches; a second team makes it cross-team."""
        policy, cause = self.state.policy, self.state.cause
        team = policy.roster.team_of(service) if policy and service else None
        if team is None or team in cause.teams:
            return
        cause.teams.append(team)
        if len(cause.teams) == 2:
            cause.cross_team_since = now
            self.record(now, EventKind.NOTE, SYSTEM, f"crosses team boundaries: {', '.join(cause.teams)}")

    def _note_impact_flags(self, now: datetime) -> None:
        if self.state.regulatory.since is None and has_data_or_compliance_impact(self.state.cause.impact):
            self.state.regulatory.since = now

    def _matrix_classification(self) -> Classification:
        assert self.state.policy is not None
        return classify(self.state.cause.impact, self.state.policy.severity, self.state.cause.severity_hints)

    # ------------------------------------------------------------------ lifecycle moments the shell reports

    def pin_policy(self, policy: Policy, warning: str | None, now: datetime) -> None:
        self.state.policy, self.state.policy_warning = policy, warning
        self.record(now, EventKind.POLICY, SYSTEM, f"policy '{policy.name}' pinned")
        if warning:
            self.record(now, EventKind.WARNING, SYSTEM, warning)

    def resolved(self, now: datetime) -> Resolve:
        request = self.state.lifecycle.resolve_request
        assert request is not None
        lifecycle = self.state.lifecycle
        lifecycle.resolved_by, lifecycle.resolved_at = request.by, now
        if request.false_positive:
            self.record(
                now, EventKind.RESOLVED, request.by, f"resolved as a false positive{_suffix(request.note)}",
                request.command_id, false_positive=True,
            )  # fmt: skip
        else:
            self.record(
                now, EventKind.RESOLVED, request.by, f"resolved{_suffix(request.note)}", request.command_id
            )
        return request

    def resolve_refused(self, now: datetime, detail: str) -> Resolve:
        """A failed health gate: a human's resolve is refused (they are there to hear it); an alert-driven one
        stays pending and is re-probed by the shell."""
        request = self.state.lifecycle.resolve_request
        assert request is not None
        self.state.lifecycle.resolve_refusals += 1
        if not self.state.lifecycle.resolve_by_alerts:
            self.record(
                now, EventKind.REJECTED, request.by,
                f'resolve refused: health gate failed ({detail}); fix it or resend with "force": true',
                request.command_id,
            )  # fmt: skip
            self.state.lifecycle.resolve_request = None
        return request


ALERTS_RESOLVE_PENDING = (
    "the alerts' resolve is already waiting for the health gate (it probes again until healthy); "
    'resend with "force": true to resolve now'
)


def _suffix(note: str | None) -> str:
    return f": {note}" if note else ""
