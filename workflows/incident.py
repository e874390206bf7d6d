"""IncidentWorkflow: one durable workflow per incident, detection -> classification -> response -> recovery ->
analysis. It decides; activities do. Phases read top to bottom in `run` as small named methods.

Signal handlers are synchronous on purpose: they never await, so they cannot interleave with each other or
with the phase code half-way through a state change, and an acknowledgement takes effect in the very workflow
task that delivers it (the escalation loop re-checks it before every page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.delivery import deliver
    from workflows.details import render_details
    from workflows.escalation import (
        EscalationFacts,
        Obligation,
        has_data_or_compliance_impact,
        pending_obligations,
    )
    from workflows.message_facts import incident_facts
    from workflows.messages.activities import (
        ActivityName,
        HealthCheckRequest,
        HealthCheckResult,
        LoadPolicyRequest,
        PostmortemRequest,
        PostmortemResult,
    )
    from workflows.messages.alerts import Alert, AlertStatus, IncidentInput
    from workflows.messages.commands import (
        Acknowledge,
        AddNote,
        AssignRole,
        Escalate,
        Mitigate,
        PostUpdate,
        Reclassify,
        RecordRegulatoryNotification,
        Resolve,
        Snooze,
    )
    from workflows.messages.common import Phase, Severity
    from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
    from workflows.messages.status import (
        Classification,
        ClassificationReason,
        Deadline,
        EventKind,
        IncidentResult,
        IncidentStatus,
    )
    from workflows.policy import Policy
    from workflows.routing import plan_routes
    from workflows.search_attributes import INCIDENT_PHASE, INCIDENT_SERVICE, INCIDENT_SEVERITY
    from workflows.severity import classify
    from workflows.state import IncidentState, PostedUpdate
    from workflows.targets import resolve_people

ModelT = TypeVar("ModelT", bound=BaseModel)

SYSTEM = "warroom"
QUICK_ACTIVITY = timedelta(seconds=30)
DELIVERIES_KEPT = 200  # the status query shows the latest; the timeline keeps every one
HEALTH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
UPCOMING_SHOWN = 5
# How each non-page duty is sent and recorded.
DUTY_NOTIFICATIONS = {
    "notice": (NotificationKind.ESCALATION, EventKind.NOTIFIED),
    "business": (NotificationKind.ESCALATION, EventKind.NOTIFIED),
    "regulatory": (NotificationKind.ESCALATION, EventKind.REGULATORY),
    "nudge": (NotificationKind.ESCALATION, EventKind.NUDGED),
    "update": (NotificationKind.STATUS_UPDATE, EventKind.STATUS_UPDATE),
    "customer_update": (NotificationKind.CUSTOMER_COMMUNICATION, EventKind.STATUS_UPDATE),
    "ack_notice": (NotificationKind.ACKNOWLEDGEMENT, EventKind.NOTIFIED),
}


def _validation_reason(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


@workflow.defn
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        # State is built here, not in run(), because signals can arrive in the very first activation.
        self.state = IncidentState(
            incident_id=workflow.info().workflow_id,
            service=inp.service,
            summary=inp.summary,
            declared_by=inp.declared_by,
            declared_severity=inp.severity,
            impact=inp.impact,
            opened_at=workflow.now(),
        )
        if inp.declared_by:
            self.state.record(
                workflow.now(),
                EventKind.DECLARED,
                inp.declared_by,
                f"declared: {inp.summary or inp.service}",
                severity=inp.severity.value if inp.severity else None,
            )
        # Bumped by every change that may alter what is due, to wake the duty loop early and recompute.
        self._version = 0
        self._duties: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ the five phases

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentResult:
        await self._load_policy()
        if await self._detect():
            self._classify()
            await self._respond()
            await self._recover()
            await self._analyse()
        self._enter(Phase.CLOSED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _load_policy(self) -> None:
        """Pin the policy: read once, so a later edit on the worker never changes this incident."""
        self.state.policy = await workflow.execute_activity(
            ActivityName.LOAD_POLICY,
            LoadPolicyRequest(incident_id=self.state.incident_id),
            result_type=Policy,
            start_to_close_timeout=QUICK_ACTIVITY,
        )
        self._record(EventKind.POLICY, SYSTEM, f"policy '{self.state.policy.name}' pinned")

    async def _detect(self) -> bool:
        """Wait for the first valid alert or a declaration; an incident with neither closes itself."""
        self._enter(Phase.DETECTION)
        timeout = self._policy.detection_timeout
        self.state.next_deadline = Deadline(
            kind="detection",
            due_at=workflow.now() + timeout,
            description="close: no valid alert or declaration arrived",
        )
        try:
            await workflow.wait_condition(self._has_cause, timeout=timeout, timeout_summary="detection")
        except TimeoutError:
            self._record(EventKind.RESOLVED, SYSTEM, "closed: no valid alert or declaration arrived")
            return False
        finally:
            self.state.next_deadline = None
        return True

    def _classify(self) -> None:
        self._enter(Phase.CLASSIFICATION)
        if self.state.declared_severity and self.state.declared_by:
            reason = ClassificationReason(
                dimension="declared",
                severity=self.state.declared_severity,
                explanation=f"declared {self.state.declared_severity.value} by {self.state.declared_by}",
            )
            classification = Classification(
                severity=self.state.declared_severity, reasons=[reason], decided_by=self.state.declared_by
            )
        else:
            classification = self._matrix_classification()
        self._set_classification(classification, EventKind.CLASSIFIED, SYSTEM)
        self._note_service(self.state.service)
        self._note_impact_flags()

    async def _respond(self) -> None:
        """Start the duty loop (pages, escalations, notices, cadence), then wait for mitigation or resolution."""
        self._enter(Phase.RESPONSE)
        self.state.response_started_at = workflow.now()
        self._assign_default_roles()
        self._duties = asyncio.create_task(self._run_duties())
        await workflow.wait_condition(lambda: self.state.mitigated_at is not None or self._resolve_requested)

    async def _recover(self) -> None:
        """Resolve only through the health gate (or with force): a failed gate keeps the incident open."""
        self._enter(Phase.RECOVERY)
        while True:
            await workflow.wait_condition(lambda: self._resolve_requested)
            request = self.state.resolve_request
            assert request is not None
            health = await self._check_health()
            if health.healthy or not health.checked or request.force:
                break
            self._record(
                EventKind.REJECTED,
                request.by,
                f'resolve refused: health gate failed ({health.detail}); fix it or resend with "force": true',
                command_id=request.command_id,
            )
            self.state.resolve_request = None
        self.state.resolved_by = request.by
        self.state.resolved_at = workflow.now()
        self._changed()
        self._record(
            EventKind.RESOLVED,
            request.by,
            f"resolved{self._suffix(request.note)}",
            command_id=request.command_id,
        )
        await self._notify_resolution()

    async def _analyse(self) -> None:
        self._enter(Phase.ANALYSIS)
        result = await workflow.execute_activity(
            ActivityName.RENDER_POSTMORTEM,
            PostmortemRequest(incident_id=self.state.incident_id, status=self.state.to_status()),
            result_type=PostmortemResult,
            start_to_close_timeout=QUICK_ACTIVITY,
        )
        self.state.postmortem_path = result.path
        self._record(EventKind.POSTMORTEM, SYSTEM, f"post-mortem draft written to {result.path}")
        if self.state.paged:
            await self._notify(
                "postmortem",
                NotificationKind.POSTMORTEM_READY,
                self.state.paged,
                f"[POST-MORTEM] {self.state.service or 'incident'}: {self.state.summary or ''}",
                "Review the draft and add the timeline's missing context before the review meeting.",
            )
        if self._duties is not None:
            await self._duties  # what outlives resolution: business notices, regulatory reminders

    # ------------------------------------------------------------------ duties: every timed obligation

    async def _run_duties(self) -> None:
        """Sleep until the earliest pending duty, perform it, recompute; return once resolved and nothing is left.

        After a timer fires, yield once before recomputing: signal handlers delivered in the same workflow
        task run first, so an acknowledgement that races the ack deadline always wins.
        """
        while True:
            pending = self._pending_duties()
            self._show_upcoming(pending)
            if not pending:
                if self.state.is_finished:
                    return
                await workflow.wait_condition(self._changed_since())
                continue
            wait = pending[0].due_at - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        self._changed_since(), timeout=wait, timeout_summary=pending[0].description
                    )
                    continue
                except TimeoutError:
                    await asyncio.sleep(0)
            due = [duty for duty in self._pending_duties() if duty.due_at <= workflow.now()]
            if due:
                await self._perform(due[0])

    def _pending_duties(self) -> list[Obligation]:
        state, severity = self.state, self.state.severity
        assert severity is not None and state.response_started_at is not None
        facts = EscalationFacts(
            severity=severity,
            impact=state.impact,
            response_started_at=state.response_started_at,
            acknowledged=state.is_acknowledged,
            acknowledged_at=state.acknowledged_at,
            resolved_at=state.resolved_at,
            engaged_levels=state.engaged_levels,
            teams=state.teams,
            cross_team_since=state.cross_team_since,
            last_update_at=state.last_update_at,
            snoozed_until=state.snoozed_until,
            regulatory_since=state.regulatory_since,
            regulatory_done=state.regulatory_notified_by is not None,
            manual_requests=state.manual_requests,
            posted_updates=[(update.at, update.audience) for update in state.posted_updates],
            done=set(state.duties_done),
        )
        return pending_obligations(self._policy, facts)

    def _show_upcoming(self, pending: list[Obligation]) -> None:
        self.state.upcoming = [
            Deadline(
                kind=duty.kind,
                due_at=duty.due_at,
                description=duty.description,
                targets=self._resolve_targets(duty.targets),
            )
            for duty in pending[:UPCOMING_SHOWN]
        ]
        self._set_deadline(self.state.upcoming[0] if self.state.upcoming else None)

    async def _perform(self, duty: Obligation) -> None:
        people = self._resolve_targets(duty.targets)
        if duty.kind == "page":
            await self._page(duty, people)
        else:
            await self._send_duty(duty, people)
        self.state.duties_done.append(duty.id)
        self._changed()

    async def _page(self, duty: Obligation, people: list[str]) -> None:
        level = duty.level or 1
        if not people:
            people = self._policy.escalation.fallback_targets
            self._record(
                EventKind.WARNING, SYSTEM, f"level {level} resolves to nobody; paging {', '.join(people)}"
            )
        first = not self.state.engaged_levels
        delivery = await self._notify(
            duty.id,
            NotificationKind.PAGE if first else NotificationKind.ESCALATION,
            people,
            f"[{self._severity_label}] {self.state.service or 'incident'}: {self.state.summary or ''}",
            f"{self._ack_hint()}\n{duty.description}.",
        )
        self.state.engaged_levels.append(level)
        self.state.escalation_level = max(self.state.engaged_levels)
        self.state.paged += [person for person in people if person not in self.state.paged]
        outcome = "paged" if delivery.delivered else "page FAILED for"
        self._record(
            EventKind.PAGED if first else EventKind.ESCALATED,
            SYSTEM,
            f"{outcome} level {level}: {', '.join(people)} ({duty.description})",
            channel=delivery.channel,
            delivered=delivery.delivered,
            detail=delivery.detail,
            duty=duty.id,
        )

    async def _send_duty(self, duty: Obligation, people: list[str]) -> None:
        kind, event = DUTY_NOTIFICATIONS[duty.kind]
        if not people:
            self._record(
                EventKind.WARNING, SYSTEM, f"{duty.description}: nobody to notify (check the roster)"
            )
            return
        body = self._duty_body(duty)
        delivery = await self._notify(
            duty.id,
            kind,
            people,
            f"[{self._severity_label}] {self.state.service or 'incident'}: {duty.description}",
            body,
        )
        outcome = "" if delivery.delivered else "FAILED: "
        self._record(
            event,
            SYSTEM,
            f"{outcome}{duty.description} -> {', '.join(people)}",
            channel=delivery.channel,
            delivered=delivery.delivered,
            detail=delivery.detail,
            duty=duty.id,
        )

    def _duty_body(self, duty: Obligation) -> str:
        if duty.kind in ("update", "customer_update"):
            update = self.state.posted_updates[int(duty.id.split("/")[1])]
            return f"Status update from {update.by}: {update.text}"
        state = "resolved" if self.state.is_finished else self.state.phase.value
        return f"{self.state.summary or ''}\nPhase: {state}. Acknowledged by: {self.state.acknowledged_by or 'nobody yet'}."

    def _resolve_targets(self, references: list[str]) -> list[str]:
        """References to people now, resolved exactly as the policy tooling resolves them (workflows/targets)."""
        return resolve_people(
            self._policy, references, team=self.state.teams[0] if self.state.teams else None,
            moment=workflow.now(), roles=self.state.roles, other_teams=self.state.teams[1:],
            paged=self.state.paged,
        )  # fmt: skip

    def _assign_default_roles(self) -> None:
        for role, references in self._policy.roles.defaults.items():
            if role in self.state.roles:
                continue
            candidates = self._resolve_targets(references)
            if candidates:
                self.state.roles[role] = candidates[0]
                self._record(EventKind.ROLE_ASSIGNED, SYSTEM, f"{role}: {candidates[0]} (from the roster)")
        severity = self.state.severity
        for role in self._policy.roles.required.get(severity, []) if severity else []:
            if role not in self.state.roles:
                self._record(
                    EventKind.WARNING,
                    SYSTEM,
                    f"{severity.value if severity else ''} requires a {role} and none could be assigned: "
                    f'send assign_role {{"by": "you", "role": "{role}", "person": "..."}}',
                )

    def _changed(self) -> None:
        self._version += 1

    def _changed_since(self) -> Callable[[], bool]:
        version = self._version
        return lambda: self._version != version

    async def _notify_resolution(self) -> None:
        if not self.state.paged:
            return
        delivery = await self._notify(
            "resolution",
            NotificationKind.RESOLUTION,
            self.state.paged,
            f"[RESOLVED] {self.state.service or 'incident'}: {self.state.summary or ''}",
            f"Resolved by {self.state.resolved_by}.",
        )
        self._record(
            EventKind.NOTE,
            SYSTEM,
            f"resolution sent to {', '.join(self.state.paged)}",
            delivered=delivery.delivered,
            detail=delivery.detail,
        )

    async def _notify(
        self,
        step: str,
        kind: NotificationKind,
        recipients: list[str],
        subject: str,
        body: str,
        links: list[str] | None = None,
        **facts: str,
    ) -> DeliveryResult:
        """Deliver over the routed channels (fallback per person/role) and record what happened.

        The idempotency key starts with workflow id + step and is stable across retries; `facts` add to or
        override what templates read (impact, incident_commander, bridge, next_update_at, ...). Never
        raises: a channel that stays down is a recorded failure and the escalation goes on on time."""
        policy = self._policy
        draft = Notification(
            idempotency_key=f"{self.state.incident_id}/{step}",
            incident_id=self.state.incident_id,
            kind=kind,
            channel=policy.page_channel,
            recipients=recipients,
            severity=self.state.severity,
            service=self.state.service,
            subject=subject,
            body=body,
            facts={**incident_facts(self.state, policy, workflow.now()), **facts},
            links=links or [],
        )
        groups = plan_routes(
            policy.routing, policy.roster, policy.page_channel, recipients, self.state.service,
            self.state.severity, kind,
        )  # fmt: skip
        delivery = await deliver(draft, step, groups, policy.routing)
        self.state.deliveries.append(delivery)
        del self.state.deliveries[:-DELIVERIES_KEPT]
        self._record(
            EventKind.DELIVERY,
            SYSTEM,
            f"{kind.value} {delivery.outcome}: {delivery.detail}",
            step=step,
            outcome=delivery.outcome,
            channels=[attempt.channel for attempt in delivery.tried],
            fell_back=delivery.fell_back,
        )
        return delivery

    async def _check_health(self) -> HealthCheckResult:
        try:
            health = await workflow.execute_activity(
                ActivityName.CHECK_HEALTH,
                HealthCheckRequest(
                    incident_id=self.state.incident_id,
                    service=self.state.service,
                    url=self._policy.health_checks.get(self.state.service or ""),
                ),
                result_type=HealthCheckResult,
                start_to_close_timeout=QUICK_ACTIVITY,
                retry_policy=HEALTH_RETRY,
            )
        except ActivityError as error:
            health = HealthCheckResult(
                healthy=False, checked=True, detail=f"health check error: {error.cause}"
            )
        self._record(
            EventKind.HEALTH_CHECK, SYSTEM, health.detail, healthy=health.healthy, checked=health.checked
        )
        return health

    # ------------------------------------------------------------------ signals (never raise)

    @workflow.signal(description="An alert joins this incident. Normally sent by the intake, not by hand.")
    def add_alert(self, payload: Any = None) -> None:
        alert = self._parse(Alert, payload, "add_alert")
        if alert is None:
            return
        if alert.event_id and not self.state.remember(f"alert:{alert.event_id}"):
            self.state.repeated_alerts += 1
            return
        if self.state.is_finished:
            # The workflow is only finishing its analysis; once it closes, the sender's next delivery of a
            # still-firing alert opens a new incident under the same id (docs/intake.md).
            self._record(EventKind.IGNORED, alert.source, f"alert after resolution ignored: {alert.summary}")
            return
        self.state.alert_count += 1
        self.state.service = self.state.service or alert.service
        self.state.summary = self.state.summary or alert.summary
        self._record(
            EventKind.ALERT,
            alert.source,
            f"{alert.status.value}: {alert.summary}",
            dedup_key=alert.dedup_key,
            service=alert.service,
            severity_hint=alert.severity_hint,
        )
        if alert.correlation:
            self._record(EventKind.CORRELATED, alert.source, alert.correlation, dedup_key=alert.dedup_key)
        if alert.status is AlertStatus.FIRING:
            self.state.alerts.fire(alert.identity)
            self._widen_impact(alert)
        elif alert.status is AlertStatus.ACKNOWLEDGED:
            self._acknowledge_implicitly(f"{alert.source} (alert acknowledged)", "add_alert", None)
        else:
            self._resolve_alert(alert)

    def _resolve_alert(self, alert: Alert) -> None:
        """A resolved alert clears its firing twin; when none is left firing, the incident resolves itself
        through the same health gate as a human resolve (docs/intake.md, "Resolves")."""
        if not self.state.alerts.resolve(alert.identity) or self._resolve_requested:
            return
        actor = f"{alert.source} (all alerts resolved)"
        self._acknowledge_implicitly(actor, "alert resolution", None)
        self.state.resolve_request = Resolve(by=actor, note="every alert of this incident resolved")
        self._record(EventKind.RESOLVE_REQUESTED, actor, "all alerts resolved; checking health")

    @workflow.signal(description='Stop the paging: {"by": "your-name", "note": "optional"}')
    def acknowledge(self, payload: Any = None) -> None:
        command = self._parse_command(Acknowledge, payload, "acknowledge")
        if command is None:
            return
        if self.state.is_acknowledged:
            self._record(
                EventKind.IGNORED,
                command.by,
                f"already acknowledged by {self.state.acknowledged_by}",
                command_id=command.command_id,
            )
            return
        self._acknowledge(command.by, f"acknowledged{self._suffix(command.note)}", command.command_id)

    @workflow.signal(description='Add to the timeline: {"by": "your-name", "text": "what you found"}')
    def add_note(self, payload: Any = None) -> None:
        command = self._parse_command(AddNote, payload, "add_note", allow_after_resolution=True)
        if command is not None:
            self._record(EventKind.NOTE, command.by, command.text, command_id=command.command_id)

    @workflow.signal(description='Change severity: {"by": "your-name", "severity": "SEV-2", "reason": "why"}')
    def reclassify(self, payload: Any = None) -> None:
        command = self._parse_command(Reclassify, payload, "reclassify")
        if command is None:
            return
        reason = ClassificationReason(
            dimension="human", severity=command.severity, explanation=command.reason
        )
        self._set_classification(
            Classification(severity=command.severity, reasons=[reason], decided_by=command.by),
            EventKind.RECLASSIFIED,
            command.by,
            command.command_id,
        )

    @workflow.signal(description='The bleeding stopped: {"by": "your-name", "note": "what was done"}')
    def mitigate(self, payload: Any = None) -> None:
        command = self._parse_command(Mitigate, payload, "mitigate")
        if command is None:
            return
        if self.state.mitigated_at is not None:
            self._record(EventKind.IGNORED, command.by, "already mitigated", command_id=command.command_id)
            return
        self._acknowledge_implicitly(command.by, "mitigate", command.command_id)
        self.state.mitigated_at = workflow.now()
        self._record(
            EventKind.MITIGATED,
            command.by,
            f"mitigated{self._suffix(command.note)}",
            command_id=command.command_id,
        )

    @workflow.signal(description='Close it: {"by": "your-name", "note": "optional", "force": false}')
    def resolve(self, payload: Any = None) -> None:
        command = self._parse_command(Resolve, payload, "resolve")
        if command is None:
            return
        if self._resolve_requested:
            self._record(
                EventKind.IGNORED, command.by, "resolution already in progress", command_id=command.command_id
            )
            return
        self._acknowledge_implicitly(command.by, "resolve", command.command_id)
        self.state.resolve_request = command
        self._record(
            EventKind.RESOLVE_REQUESTED,
            command.by,
            "resolve requested; checking health",
            command_id=command.command_id,
        )

    @workflow.signal(
        description='Give a role: {"by": "you", "role": "incident_commander", "person": "alice"}'
    )
    def assign_role(self, payload: Any = None) -> None:
        command = self._parse_command(AssignRole, payload, "assign_role")
        if command is None:
            return
        if self.state.policy is None:
            self._reject(command, "assign_role: the incident is still loading its policy; send it again")
            return
        people = self.state.policy.roster.people
        if people and command.person not in people:
            self._reject(
                command,
                f"assign_role: unknown person '{command.person}' "
                f"(the roster knows: {', '.join(sorted(people))})",
            )
            return
        self.state.roles[command.role] = command.person
        self._changed()
        self._record(
            EventKind.ROLE_ASSIGNED,
            command.by,
            f"{command.role}: {command.person}",
            command_id=command.command_id,
        )

    @workflow.signal(description='Engage a level now: {"by": "you", "level": 2, "reason": "why"}')
    def escalate(self, payload: Any = None) -> None:
        command = self._parse_command(Escalate, payload, "escalate")
        if command is None:
            return
        levels = len(self._policy.escalation.levels) if self.state.policy else 0
        if self.state.response_started_at is None:
            self._reject(command, "escalate: the response has not started yet")
        elif command.level > levels:
            self._reject(command, f"escalate: level {command.level} does not exist (1..{levels})")
        elif command.level in self.state.engaged_levels or command.level in self.state.manual_requests:
            self._record(
                EventKind.IGNORED,
                command.by,
                f"level {command.level} is already engaged",
                command_id=command.command_id,
            )
        else:
            self.state.manual_requests[command.level] = workflow.now()
            self._changed()
            self._record(
                EventKind.ESCALATED,
                command.by,
                f"escalation to level {command.level} requested: {command.reason}",
                command_id=command.command_id,
            )

    @workflow.signal(
        description='Hold pages of a non-SEV-1: {"by": "you", "duration": "30m", "reason": "why"}'
    )
    def snooze(self, payload: Any = None) -> None:
        command = self._parse_command(Snooze, payload, "snooze")
        if command is None:
            return
        limit = self._policy.escalation.max_snooze if self.state.policy else timedelta(0)
        if self.state.severity is None or self.state.policy is None:
            self._reject(command, "snooze: the incident is still being classified; send it again in a moment")
        elif self.state.severity is Severity.SEV1:
            self._reject(command, "snooze: a SEV-1 cannot be snoozed")
        elif not timedelta(0) < command.duration <= limit:
            self._reject(
                command,
                f"snooze: duration must be more than 0 and at most {limit} (the policy's "
                f"max_snooze), got {command.duration}",
            )
        else:
            self.state.snoozed_until = workflow.now() + command.duration
            self._changed()
            self._record(
                EventKind.SNOOZED,
                command.by,
                f"pages and nudges held until "
                f"{self.state.snoozed_until:%Y-%m-%d %H:%M:%S} UTC: {command.reason}",
                command_id=command.command_id,
            )

    @workflow.signal(description='Post a status update: {"by": "you", "text": "...", "audience": "internal"}')
    def post_update(self, payload: Any = None) -> None:
        command = self._parse_command(PostUpdate, payload, "post_update")
        if command is None:
            return
        now = workflow.now()
        update = PostedUpdate(at=now, by=command.by, text=command.text, audience=command.audience)
        self.state.posted_updates.append(update)
        self.state.last_update_at = now
        self._changed()
        self._record(
            EventKind.STATUS_UPDATE,
            command.by,
            f"{command.audience} update: {command.text}",
            command_id=command.command_id,
        )

    @workflow.signal(description='Regulator notified: {"by": "you", "reference": "case 42"}')
    def record_regulatory_notification(self, payload: Any = None) -> None:
        command = self._parse_command(
            RecordRegulatoryNotification,
            payload,
            "record_regulatory_notification",
            allow_after_resolution=True,
        )
        if command is None:
            return
        if self.state.regulatory_since is None:
            self._reject(command, "record_regulatory_notification: no regulatory notification is due")
        elif self.state.regulatory_notified_by is not None:
            self._record(
                EventKind.IGNORED,
                command.by,
                f"already recorded by {self.state.regulatory_notified_by}",
                command_id=command.command_id,
            )
        else:
            self.state.regulatory_notified_by = command.by
            self._changed()
            reference = f" (reference {command.reference})" if command.reference else ""
            self._record(
                EventKind.REGULATORY,
                command.by,
                f"regulatory notification recorded{reference}{self._suffix(command.note)}",
                command_id=command.command_id,
            )

    @workflow.query(
        description="Phase, severity with reasons, who is paged and acked, next deadline, timeline."
    )
    def status(self) -> IncidentStatus:
        return self.state.to_status()

    # ------------------------------------------------------------------ validation and bookkeeping

    def _parse(self, model: type[ModelT], payload: Any, signal: str) -> ModelT | None:
        """Validate a signal payload; a bad one is recorded as rejected, never raised."""
        if payload is None:
            self._record(
                EventKind.REJECTED,
                "unknown",
                f"{signal}: empty payload; send a JSON object (see the examples in this incident's details)",
                signal=signal,
            )
            return None
        try:
            return model.model_validate(payload)
        except ValidationError as error:
            # Keep who sent it and its command id, so the sender (e.g. the CLI) can find its verdict.
            fields = payload if isinstance(payload, dict) else {}
            actor, command_id = fields.get("by"), fields.get("command_id")
            self._record(
                EventKind.REJECTED,
                actor if isinstance(actor, str) and actor else "unknown",
                f"{signal}: {_validation_reason(error)}",
                command_id=command_id if isinstance(command_id, str) else None,
                signal=signal,
            )
            return None

    def _parse_command(
        self, model: type[ModelT], payload: Any, signal: str, allow_after_resolution: bool = False
    ) -> ModelT | None:
        command = self._parse(model, payload, signal)
        if command is None:
            return None
        by, command_id = getattr(command, "by"), getattr(command, "command_id")  # noqa: B009
        if command_id and not self.state.remember(f"command:{command_id}"):
            return None
        if self.state.is_finished and not allow_after_resolution:
            self._record(
                EventKind.REJECTED, by, f"{signal}: incident already resolved", command_id=command_id
            )
            return None
        return command

    def _acknowledge(self, by: str, summary: str, command_id: str | None) -> None:
        """Takes effect in this workflow task: the duty loop wakes and drops every page of the ack chain."""
        self.state.acknowledged_by = by
        self.state.acknowledged_at = workflow.now()
        self._changed()
        self._record(EventKind.ACKNOWLEDGED, by, summary, command_id=command_id)

    def _reject(self, command: Any, reason: str) -> None:
        self._record(EventKind.REJECTED, command.by, reason, command_id=command.command_id)

    def _acknowledge_implicitly(self, by: str, signal: str, command_id: str | None) -> None:
        if not self.state.is_acknowledged:
            self._acknowledge(by, f"acknowledged by {signal}", command_id)

    def _widen_impact(self, alert: Alert) -> None:
        self.state.impact = self.state.impact.widened_by(alert.impact)
        self._note_service(alert.service)
        self._note_impact_flags()
        if alert.severity_hint and alert.severity_hint not in self.state.severity_hints:
            self.state.severity_hints.append(alert.severity_hint)
        current = self.state.classification
        if current is None or self.state.policy is None:
            return  # classification has not run yet; it will read the widened impact
        proposed = self._matrix_classification()
        # New evidence may raise severity, never lower it, and a human's choice is only ever raised.
        if proposed.severity.rank < current.severity.rank:
            self._set_classification(proposed, EventKind.RECLASSIFIED, SYSTEM)

    def _note_service(self, service: str | None) -> None:
        """Track the teams an incident touches; a second team makes it cross-team."""
        team = self._policy.roster.team_of(service) if self.state.policy and service else None
        if team is None or team in self.state.teams:
            return
        self.state.teams.append(team)
        if len(self.state.teams) == 2:
            self.state.cross_team_since = workflow.now()
            self._record(EventKind.NOTE, SYSTEM, f"crosses team boundaries: {', '.join(self.state.teams)}")
        self._changed()

    def _note_impact_flags(self) -> None:
        if self.state.regulatory_since is None and has_data_or_compliance_impact(self.state.impact):
            self.state.regulatory_since = workflow.now()
            self._changed()

    def _matrix_classification(self) -> Classification:
        return classify(self.state.impact, self._policy.severity, self.state.severity_hints)

    def _set_classification(
        self, classification: Classification, kind: EventKind, actor: str, command_id: str | None = None
    ) -> None:
        previous = self.state.severity
        self.state.classification = classification
        change = f"{previous.value} -> " if previous and previous != classification.severity else ""
        reasons = "; ".join(reason.explanation for reason in classification.reasons)
        self._record(
            kind, actor, f"{change}{classification.severity.value}: {reasons}", command_id=command_id
        )
        self._changed()
        self._upsert_search_attributes()

    def _enter(self, phase: Phase) -> None:
        self.state.phase = phase
        self._record(EventKind.PHASE, SYSTEM, f"phase {phase.value}")
        self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        updates = [INCIDENT_PHASE.value_set(self.state.phase.value)]
        if self.state.severity:
            updates.append(INCIDENT_SEVERITY.value_set(self.state.severity.value))
        if self.state.service:
            updates.append(INCIDENT_SERVICE.value_set(self.state.service))
        workflow.upsert_search_attributes(updates)

    def _set_deadline(self, deadline: Deadline | None) -> None:
        self.state.next_deadline = deadline
        workflow.set_current_details(render_details(self.state))

    def _record(
        self, kind: EventKind, actor: str, summary: str, command_id: str | None = None, **details: Any
    ) -> None:
        self.state.record(workflow.now(), kind, actor, summary, command_id, **details)
        workflow.set_current_details(render_details(self.state))

    def _has_cause(self) -> bool:
        return self.state.alert_count > 0 or self.state.declared_by is not None

    @property
    def _resolve_requested(self) -> bool:
        return self.state.resolve_request is not None

    @property
    def _policy(self) -> Policy:
        assert self.state.policy is not None, "policy is loaded before any phase runs"
        return self.state.policy

    @property
    def _severity_label(self) -> str:
        return self.state.severity.value if self.state.severity else "SEV-?"

    def _ack_hint(self) -> str:
        return (
            f"Acknowledge: warroom ack {self.state.incident_id} --by <you>  "
            f'(or signal \'acknowledge\' with {{"by": "<you>"}})'
        )

    @staticmethod
    def _suffix(note: str | None) -> str:
        return f": {note}" if note else ""

    def _result(self) -> IncidentResult:
        opened = self.state.opened_at
        assert opened is not None

        def seconds_since_open(moment: Any) -> float | None:
            return (moment - opened).total_seconds() if moment else None

        return IncidentResult(
            incident_id=self.state.incident_id,
            severity=self.state.severity,
            acknowledged_by=self.state.acknowledged_by,
            resolved_by=self.state.resolved_by,
            postmortem_path=self.state.postmortem_path,
            time_to_acknowledge_seconds=seconds_since_open(self.state.acknowledged_at),
            time_to_resolve_seconds=seconds_since_open(self.state.resolved_at),
        )


__all__ = ["IncidentWorkflow", "Severity"]
