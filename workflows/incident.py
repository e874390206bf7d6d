"""IncidentWorkflow: one durable workflow per incident, detection -> classification -> response -> recovery ->
analysis. It decides; activities do. Phases read top to bottom in `run` as small named methods.

Signal handlers are synchronous on purpose: they never await, so they cannot interleave with each other or
with the phase code half-way through a state change, and an acknowledgement takes effect in the very workflow
task that delivers it (the escalation loop re-checks it before every page).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.details import render_details
    from workflows.escalation import EscalationStep, escalation_plan
    from workflows.messages import (
        Acknowledge,
        ActivityName,
        AddNote,
        Alert,
        AlertStatus,
        Classification,
        ClassificationReason,
        Deadline,
        DeliveryResult,
        EventKind,
        HealthCheckRequest,
        HealthCheckResult,
        IncidentInput,
        IncidentResult,
        IncidentStatus,
        LoadPolicyRequest,
        Mitigate,
        Notification,
        NotificationKind,
        Phase,
        PostmortemRequest,
        PostmortemResult,
        Reclassify,
        Resolve,
        Severity,
    )
    from workflows.policy import Policy
    from workflows.search_attributes import INCIDENT_PHASE, INCIDENT_SERVICE, INCIDENT_SEVERITY
    from workflows.severity import classify
    from workflows.state import IncidentState

ModelT = TypeVar("ModelT", bound=BaseModel)

SYSTEM = "warroom"
QUICK_ACTIVITY = timedelta(seconds=30)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
HEALTH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


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
        # Bumped whenever the escalation plan may have changed, to wake the escalation timer early.
        self._plan_version = 0

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

    async def _respond(self) -> None:
        """Page level by level until someone acknowledges, then wait for mitigation or resolution."""
        self._enter(Phase.RESPONSE)
        self.state.response_started_at = workflow.now()
        next_step = 0
        while not self.state.is_acknowledged:
            step = self._escalation_step(next_step)
            if step is None:
                self._set_deadline(None)
                await workflow.wait_condition(lambda: self.state.is_acknowledged)
                break
            if await self._acknowledged_before(step):
                break
            await self._page(step)
            next_step += 1
        self._set_deadline(None)
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

    # ------------------------------------------------------------------ response mechanics

    def _escalation_step(self, index: int) -> EscalationStep | None:
        severity = self.state.severity or self._policy.severity.default_severity
        plan = escalation_plan(self._policy.escalation, severity)
        return plan[index] if index < len(plan) else None

    async def _acknowledged_before(self, step: EscalationStep) -> bool:
        """Wait until the step is due; True if an acknowledgement came first.

        The plan is recomputed when it changes (a reclassification moves the deadline), and the ack is checked
        again after the timer fires: an ack delivered in the same workflow task as the timer still wins.
        """
        while True:
            started = self.state.response_started_at
            assert started is not None
            due_at = started + step.after
            self._set_deadline(
                Deadline(
                    kind="ack" if step.index else "escalation",
                    due_at=due_at,
                    description=f"page level {step.level} ({step.level_name})",
                    targets=step.targets,
                )
            )
            remaining = due_at - workflow.now()
            if remaining <= timedelta(0):
                return self.state.is_acknowledged
            try:
                await workflow.wait_condition(
                    self._acknowledged_or_replanned(),
                    timeout=remaining,
                    timeout_summary=f"ack deadline, then level {step.level}",
                )
            except TimeoutError:
                return self.state.is_acknowledged
            if self.state.is_acknowledged:
                return True
            refreshed = self._escalation_step(step.index)
            if refreshed is None:
                return False
            step = refreshed

    def _acknowledged_or_replanned(self) -> Callable[[], bool]:
        version = self._plan_version
        return lambda: self.state.is_acknowledged or self._plan_version != version

    async def _page(self, step: EscalationStep) -> None:
        kind = NotificationKind.PAGE if step.is_first_page else NotificationKind.ESCALATION
        subject = f"[{self._severity_label}] {self.state.service or 'incident'}: {self.state.summary or ''}"
        delivery = await self._notify(
            f"page/{step.index}",
            kind,
            step.targets,
            subject,
            f"{self._ack_hint()}\nEscalation level {step.level} ({step.level_name}).",
        )
        self.state.escalation_level = step.level
        for target in step.targets:
            if target not in self.state.paged:
                self.state.paged.append(target)
        event_kind = EventKind.PAGED if step.is_first_page else EventKind.ESCALATED
        outcome = "paged" if delivery.delivered else "page FAILED for"
        self._record(
            event_kind,
            SYSTEM,
            f"{outcome} level {step.level} ({step.level_name}): {', '.join(step.targets)}",
            channel=delivery.channel,
            delivered=delivery.delivered,
            detail=delivery.detail,
        )

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
        self, step: str, kind: NotificationKind, recipients: list[str], subject: str, body: str
    ) -> DeliveryResult:
        """Send via the notify activity; the idempotency key (workflow id + step) is stable across retries."""
        notification = Notification(
            idempotency_key=f"{self.state.incident_id}/{step}",
            incident_id=self.state.incident_id,
            kind=kind,
            channel=self._policy.page_channel,
            recipients=recipients,
            severity=self.state.severity,
            service=self.state.service,
            subject=subject,
            body=body,
        )
        try:
            return await workflow.execute_activity(
                ActivityName.NOTIFY,
                notification,
                result_type=DeliveryResult,
                start_to_close_timeout=QUICK_ACTIVITY,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as error:
            # A channel that stays down must not stop the escalation: the failure is recorded and the
            # next level is still paged on time.
            cause = error.cause or error
            return DeliveryResult(
                channel=notification.channel, recipients=recipients, delivered=False, detail=str(cause)
            )

    async def _check_health(self) -> HealthCheckResult:
        try:
            health = await workflow.execute_activity(
                ActivityName.CHECK_HEALTH,
                HealthCheckRequest(incident_id=self.state.incident_id, service=self.state.service),
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
        self.state.acknowledged_by = by
        self.state.acknowledged_at = workflow.now()
        self.state.next_deadline = None
        self._record(EventKind.ACKNOWLEDGED, by, summary, command_id=command_id)

    def _acknowledge_implicitly(self, by: str, signal: str, command_id: str | None) -> None:
        if not self.state.is_acknowledged:
            self._acknowledge(by, f"acknowledged by {signal}", command_id)

    def _widen_impact(self, alert: Alert) -> None:
        self.state.impact = self.state.impact.widened_by(alert.impact)
        if alert.severity_hint and alert.severity_hint not in self.state.severity_hints:
            self.state.severity_hints.append(alert.severity_hint)
        current = self.state.classification
        if current is None or self.state.policy is None:
            return  # classification has not run yet; it will read the widened impact
        proposed = self._matrix_classification()
        # New evidence may raise severity, never lower it, and a human's choice is only ever raised.
        if proposed.severity.rank < current.severity.rank:
            self._set_classification(proposed, EventKind.RECLASSIFIED, SYSTEM)

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
        self._plan_version += 1
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
