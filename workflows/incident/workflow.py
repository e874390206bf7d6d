"""IncidentWorkflow: one durable workflow per incident occurrence, detection -> classification -> response ->
recovery -> analysis -> closed. A shell: the rules live in the pure `Incident` domain, what is due when in the
duty engine, the side effects in `Effects`. Phases read top to bottom in `run`. Containment (runbook actions,
approvals, the emergency stop) runs beside the duties in `ContainmentRunner`; phased recovery in
`RecoveryRunner` comes before the resolve gate (docs/containment.md).

Long lives: the run continues as new when the server suggests it (or at our own bounds), after its duties and
handlers are quiet, carrying the whole state; older timeline entries live in the archive, so state, queries and
activity inputs stay the same size in week three as in minute three. A resolved incident lets go within
seconds: it starts its PostmortemReviewWorkflow, which also carries the remaining duties (the regulatory clock),
and an alert that fires again meanwhile opens the next occurrence, which pages.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.aftercare import AftercareWorkflow
    from workflows.escalation import Obligation, pending_obligations
    from workflows.incident import wording
    from workflows.incident.containment_runner import ContainmentRunner
    from workflows.incident.details import render_details
    from workflows.incident.domain import SYSTEM, Incident, occurrence_of
    from workflows.incident.duty_runner import DutyRunner
    from workflows.incident.effects import QUICK_ACTIVITY, Effects
    from workflows.incident.handlers import CommandHandlers
    from workflows.incident.recovery_runner import RecoveryRunner
    from workflows.incident.state import Cause, ContinuedIncident, IncidentState, Lifecycle
    from workflows.incident.views import duty_facts, result_view, status_view
    from workflows.messages.action_items import review_workflow_id
    from workflows.messages.activities import ActivityName, LoadedPolicy, LoadPolicyRequest
    from workflows.messages.alerts import IncidentInput
    from workflows.messages.commands import Command, CommandVerdict
    from workflows.messages.common import Phase
    from workflows.messages.notifications import NotificationKind
    from workflows.messages.status import Deadline, EventKind, IncidentResult, IncidentStatus
    from workflows.metrics import observe_incident_event
    from workflows.policy import Policy
    from workflows.review.state import ReviewInput
    from workflows.review.workflow import PostmortemReviewWorkflow
    from workflows.search_attributes import (
        INCIDENT_PHASE,
        INCIDENT_SERVICE,
        INCIDENT_SEVERITY,
        search_measures,
    )

UPCOMING_SHOWN = 5
POLICY_PINNED_LOCALLY = "policy-pinned-by-local-activity"
MEASURES_PATCH = "measures-search-attributes"
# Our own bounds beside the server's suggestion: the server refuses every signal past 10,000 per run
# (an ack included); the hard history limit is 51,200 events, and the server suggests continue-as-new at
# 4,096 (a time-skipping test server never does, and a slow worker may see the suggestion late).
SIGNALS_PER_RUN = 5000
EVENTS_PER_RUN = 3000
# An alert-driven resolve whose health gate fails is re-probed with backoff; the IC hears of it at the third.
FIRST_REPROBE = timedelta(minutes=1)
LAST_REPROBE = timedelta(minutes=30)
TELL_COMMANDER_AFTER = 3
POSTMORTEM_REVIEW_PATCH = "postmortem-review"
# Supersedes POLICY_PINNED_LOCALLY for new runs (one patch marker, not two, in the first task): the policy is
# pinned by a local activity, and the first task upserts search attributes twice instead of four times (no
# repeat of the add_alert handler's upsert, no upsert of the passing 'classification' phase). Each upsert is
# an event and a visibility write the server makes before the first page goes out (docs/performance.md).
LEAN_FIRST_TASK = "lean-first-task"
# One patch marker for new runs instead of one per patch in force: it implies LEAN_FIRST_TASK, MEASURES_PATCH
# and POSTMORTEM_REVIEW_PATCH. The SDK core records each patch a run checks as a marker *and* an upsert of
# TemporalChangeVersion, a visibility write on the server: three per incident, and again after every
# continue-as-new. Runs recorded before it check each patch on its own, as they did (docs/versioning.md).
ALL_PATCHES_2026_12 = "all-patches-2026-12"
# Its successor for new runs, still one marker: everything ALL_PATCHES_2026_12 implies, and
# - search attributes upserted at most once per workflow task, by the painter, not once per change. Each
#   upsert is an event and a visibility write: the first task upserted before and after classifying, and an
#   ack with a reclassify in one task upserted twice;
# - a severity a human set before classification ran (signals wait while no worker runs) stands, raised by
#   the matrix but never lowered, as after classification; before, the matrix overwrote it.
# Checked in __init__, before the first task's signal handlers run, since those defer their upsert only under
# it; runs recorded before it replay their handlers' upserts and their classification as they were.
ALL_PATCHES_2026_12_B = "all-patches-2026-12-b"
# Its successor for new runs, still one marker: everything ALL_PATCHES_2026_12_B implies, and an ack that only
# came from every alert resolving is told apart from a person's. It still stops the pages, but MTTA (the
# IncidentMttaSeconds attribute), the time-to-ack histogram and the post-mortem leave it out, and a person's
# later ack replaces it. Before, an incident whose alerts resolved before anyone acked counted as acked then,
# which flattered MTTA. Runs recorded before it upsert the MTTA they upserted.
ALL_PATCHES_2026_12_C = "all-patches-2026-12-c"


# Not sandboxed, deliberately: the SDK fails any activation that runs over 2 s as a deadlock, and a worker
# that was down while alerts stormed in gets every queued signal in one activation. Sandboxed, 6,000 signals
# took 5-12 s and wedged the incident in a retry loop; unsandboxed 1.7 s (docs/architecture.md). Determinism
# is kept by the rules in this package (workflow.now(), no I/O) and proven by the replay tests in CI.
@workflow.defn(sandboxed=False)
class IncidentWorkflow(CommandHandlers):
    @workflow.init
    def __init__(self, inp: IncidentInput | ContinuedIncident) -> None:
        # State is built here, not in run(), because signals can arrive in the very first activation.
        now = workflow.now()
        if isinstance(inp, ContinuedIncident):
            state = inp.state
            state.runs += 1
        else:
            incident_id = workflow.info().workflow_id
            state = IncidentState(
                incident_id=incident_id,
                occurrence=occurrence_of(incident_id, now),
                lifecycle=Lifecycle(opened_at=now),
                cause=Cause(service=inp.service, summary=inp.summary, declared_by=inp.declared_by,
                            declared_severity=inp.severity, impact=inp.impact),
            )  # fmt: skip
        self.incident = Incident(state)
        self.incident.observers.append(observe_incident_event)
        self.runner = DutyRunner(self._pending_duties, self._perform, self._show)
        self.effects = Effects(self.incident, self.runner.changed)
        self.incident.people = self._people
        self.containment = ContainmentRunner(self.incident, self.effects, self._after_change)
        self.recovery = RecoveryRunner(self.incident, self.effects, self._after_change)
        self._upcoming: list[Deadline] = []
        self._signals = 0
        self._leaving = False
        self._shown: tuple[Any, ...] = ()
        self._measured: list[SearchAttributeUpdate[Any]] = []
        self._details_stale = True
        self._all_patches_c = workflow.patched(ALL_PATCHES_2026_12_C)
        self._all_patches_b = self._all_patches_c or workflow.patched(ALL_PATCHES_2026_12_B)
        self.incident.alerts_yield_to_people = self._all_patches_c
        self.runner.keep_timer = self._all_patches_c
        self._all_patches = False
        self._lean_first_task = False
        if isinstance(inp, IncidentInput):
            self._open(inp)

    def _open(self, inp: IncidentInput) -> None:
        now = workflow.now()
        if inp.declared_by:
            self.incident.record(
                now, EventKind.DECLARED, inp.declared_by, f"declared: {inp.summary or inp.service}",
                severity=inp.severity.value if inp.severity else None,
            )  # fmt: skip
        for alert in inp.alerts:  # the alerts that fired again after the previous occurrence resolved
            self.incident.add_alert(alert, now)

    @property
    def state(self) -> IncidentState:
        return self.incident.state

    # ------------------------------------------------------------------ the five phases

    @workflow.run
    async def run(self, inp: IncidentInput | ContinuedIncident) -> IncidentResult:
        self._start_painter()
        self._check_patches()
        self._sync(force=not self._lean_first_task)  # an add_alert in this task may have upserted already
        if self.state.policy is None:
            await self._pin_policy()
        return await self._phases()

    def _start_painter(self) -> None:
        self._painter = asyncio.create_task(self._keep_shown_fresh())

    def _check_patches(self) -> None:
        """First thing in a run, where the patch markers before ALL_PATCHES_2026_12_B were recorded."""
        self._all_patches = self._all_patches_b or workflow.patched(ALL_PATCHES_2026_12)
        self._lean_first_task = self._patched(LEAN_FIRST_TASK)

    def _patched(self, patch_id: str) -> bool:
        """A patch in force: implied by ALL_PATCHES_2026_12(_B) in runs that recorded it (no marker of its
        own), else `workflow.patched` as before, so older histories replay their own markers."""
        return self._all_patches or workflow.patched(patch_id)

    async def _phases(self) -> IncidentResult:
        if self.state.phase is Phase.DETECTION:
            if not await self._detect():
                return await self._close()
            self._classify()
        if not self.state.is_resolved:
            await self._respond_and_recover()
            if self._leaving:
                return await self._continue_as_new()
        await self._analyse()
        return await self._close()

    async def _pin_policy(self) -> None:
        """Read once, so a later edit on the worker never changes this incident.

        A local activity: the snapshot is still pinned in history (as a marker), but in the same workflow task
        that classifies and schedules the first page, one round trip fewer before anyone is paged
        (docs/performance.md). Histories from before the change replay the regular activity."""
        request = LoadPolicyRequest(incident_id=self.state.incident_id)
        if self._lean_first_task or workflow.patched(POLICY_PINNED_LOCALLY):
            loaded = await workflow.execute_local_activity(
                ActivityName.LOAD_POLICY, request, result_type=LoadedPolicy,
                start_to_close_timeout=QUICK_ACTIVITY,
            )  # fmt: skip
        else:
            loaded = await workflow.execute_activity(
                ActivityName.LOAD_POLICY, request, result_type=LoadedPolicy,
                start_to_close_timeout=QUICK_ACTIVITY,
            )  # fmt: skip
        # A file broken after the worker started falls back to the policy validated at start: warned, paged.
        self.incident.pin_policy(loaded.policy, loaded.warning, workflow.now())
        self._sync()

    async def _detect(self) -> bool:
        """Wait for the first valid alert or a declaration; an incident with neither closes itself."""
        self._enter(Phase.DETECTION)
        cause = self.state.cause
        if self._all_patches_b and (cause.alert_count > 0 or cause.declared_by is not None):
            return True  # no wait, no yield: the first task classifies at once and upserts once, not twice
        timeout = self._policy.detection_timeout
        self._upcoming = [Deadline(kind="detection", due_at=workflow.now() + timeout,
                                   description="close: no valid alert or declaration arrived")]  # fmt: skip
        self._sync()
        try:
            await workflow.wait_condition(
                lambda: cause.alert_count > 0 or cause.declared_by is not None,
                timeout=timeout, timeout_summary="detection",
            )  # fmt: skip
        except TimeoutError:
            self.effects.record(EventKind.RESOLVED, SYSTEM, "closed: no valid alert or declaration arrived")
            return False
        finally:
            self._upcoming = []
        return True

    def _classify(self) -> None:
        now = workflow.now()
        lean = self._lean_first_task  # the upsert at the end of this method says it all
        self._enter(Phase.CLASSIFICATION, sync=not lean)
        self.incident.classify(now, keep_earlier_choice=self._all_patches_b)
        self._enter(Phase.RESPONSE, sync=not lean)
        self.state.lifecycle.response_started_at = now
        self._assign_default_roles()
        self.containment.start_runbook()
        self._sync()

    async def _respond_and_recover(self) -> None:
        """Duties run beside this loop; the loop moves to recovery, runs the health gate, keeps the timeline
        short, and stops when resolved or when the run should continue as new."""
        duties = asyncio.create_task(self.runner.run(stop=self._duties_may_stop))
        actions = asyncio.create_task(self.containment.run(stop=self._actions_may_stop))
        lifecycle = self.state.lifecycle
        while not self.state.is_resolved:
            if self.state.phase is Phase.RESPONSE and (lifecycle.mitigated_at or lifecycle.resolve_request):
                self._enter(Phase.RECOVERY)
            if self.recovery.due():
                await self.recovery.restore()
            elif self._probe_due():
                await self._health_gate()
            elif self.effects.timeline_too_long():
                await self.effects.archive()
            elif self._should_continue_as_new():
                self._leaving = True
                break
            else:
                with suppress(TimeoutError):  # the re-probe is due: the loop's next pass probes
                    await workflow.wait_condition(self._loop_has_work, timeout=self._until_probe())
        await duties
        await actions
        if self.state.is_resolved:
            await self._notify_resolution()

    async def _analyse(self) -> None:
        self._enter(Phase.ANALYSIS)
        path = await self.effects.render_postmortem()
        if path:
            self.state.lifecycle.postmortem_path = path
            self.effects.record(EventKind.POSTMORTEM, SYSTEM, f"post-mortem draft written to {path}")
            if self.state.response.paged:
                await self.effects.notify(
                    "postmortem", NotificationKind.POSTMORTEM_READY, self.state.response.paged,
                    wording.postmortem_subject(self.state), wording.POSTMORTEM_BODY,
                )  # fmt: skip
        await self._hand_over_aftercare()

    async def _close(self) -> IncidentResult:
        self._enter(Phase.CLOSED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._publish()  # before the run ends, whichever coroutine the event loop wakes first
        if self.state.recurrences:
            # Alerts fired again while this occurrence was closing: the next occurrence pages for them.
            workflow.continue_as_new(
                IncidentInput(incident_key=self.state.incident_id, alerts=self.state.recurrences)
            )
        return result_view(self.state)

    async def _continue_as_new(self) -> IncidentResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._publish()
        workflow.continue_as_new(ContinuedIncident(state=self.state))

    # ------------------------------------------------------------------ recovery: the health gate

    def _probe_due(self) -> bool:
        lifecycle = self.state.lifecycle
        if lifecycle.resolve_request is None or not self.recovery.settled():
            return False  # a resolve waits for phased recovery (or a human's override of it)
        return lifecycle.next_probe_at is None or workflow.now() >= lifecycle.next_probe_at

    def _until_probe(self) -> timedelta | None:
        next_probe = self.state.lifecycle.next_probe_at
        if self.state.lifecycle.resolve_request is None or next_probe is None:
            return None
        return max(next_probe - workflow.now(), timedelta(0))

    async def _health_gate(self) -> None:
        """Resolve through the gate (or with force). A human hears a refusal at once; an alert-driven resolve
        is re-probed with backoff, and the incident commander is told when it keeps failing."""
        lifecycle = self.state.lifecycle
        assert lifecycle.resolve_request is not None
        health = await self.effects.check_health()
        now = workflow.now()
        request = lifecycle.resolve_request  # a person's resolve may have replaced the alerts' meanwhile
        assert request is not None
        if health.healthy or not health.checked or request.force:
            lifecycle.next_probe_at = None
            self.incident.resolved(now)
            self._after_change()
            return
        self.incident.resolve_refused(now, health.detail)
        if lifecycle.resolve_request is None:
            lifecycle.next_probe_at = None
        else:
            refusals = lifecycle.resolve_refusals
            lifecycle.next_probe_at = now + min(FIRST_REPROBE * 2 ** (refusals - 1), LAST_REPROBE)
            self.effects.record(
                EventKind.HEALTH_CHECK, SYSTEM,
                f"alerts resolved but the health gate failed ({refusals}x); probing again at "
                f"{lifecycle.next_probe_at:%H:%M:%S} UTC",
            )  # fmt: skip
            if refusals == TELL_COMMANDER_AFTER:
                await self._tell_commander_gate_is_stuck(health.detail)
        self._after_change()

    async def _tell_commander_gate_is_stuck(self, detail: str) -> None:
        people = self.effects.resolve_targets(["role:incident_commander"]) or self.state.response.paged
        if not people:
            people = self._policy.escalation.fallback_targets
        await self.effects.notify(
            "health-gate-stuck", NotificationKind.ESCALATION, people, wording.health_gate_stuck_subject(self.state),
            wording.health_gate_stuck_body(self.state.lifecycle.resolve_refusals, detail),
        )  # fmt: skip

    async def _notify_resolution(self) -> None:
        paged = self.state.response.paged
        if not paged:
            return
        delivery = await self.effects.notify(
            "resolution", NotificationKind.RESOLUTION, paged, wording.resolution_subject(self.state),
            wording.resolution_body(self.state),
        )  # fmt: skip
        self.effects.record(EventKind.NOTE, SYSTEM, f"resolution sent to {', '.join(paged)}",
                            delivered=delivery.delivered, detail=delivery.detail)  # fmt: skip

    # ------------------------------------------------------------------ duties

    def _pending_duties(self) -> list[Obligation]:
        return pending_obligations(self._policy, duty_facts(self.state))

    async def _perform(self, duty: Obligation) -> None:
        await self.effects.perform(duty)
        self._sync()

    def _show(self, waiting: list[Obligation]) -> None:
        self._upcoming = [
            Deadline(kind=duty.kind, due_at=duty.due_at, description=duty.description,
                     targets=self.effects.resolve_targets(duty.targets))
            for duty in waiting[:UPCOMING_SHOWN]
        ]  # fmt: skip
        self._sync()

    def _actions_may_stop(self) -> bool:
        """Continue-as-new, or resolved: the running action finishes first (the runner waits for it)."""
        return self._leaving or self.state.is_resolved

    def _people(self, references: list[str]) -> list[str]:
        """Who a reference means now (approvers); nobody before the policy is pinned."""
        return self.effects.resolve_targets(references) if self.state.policy is not None else []

    def _duties_may_stop(self) -> bool:
        """Stop for continue-as-new, or once resolved and nothing is due now (later duties go to aftercare)."""
        if self._leaving:
            return True
        return self.state.is_resolved and not self.runner.due_now()

    async def _hand_over_aftercare(self) -> None:
        """What outlives resolution runs in a workflow of its own, so this occurrence closes now and a recurrence
        of its alert always finds the door open: the post-mortem review, which also carries the duties still
        due (the regulatory clock). Incidents that reached this point before the review existed keep their
        old hand-over (an aftercare workflow, only when duties remain), so their histories replay."""
        if self._patched(POSTMORTEM_REVIEW_PATCH):
            await self._start_review()
            return
        if not self._pending_duties():
            return
        workflow_id = f"aftercare-{self.state.occurrence}"
        self.state.lifecycle.aftercare_workflow_id = workflow_id
        await workflow.start_child_workflow(
            AftercareWorkflow.run, ContinuedIncident(state=self._state_to_hand_over()), id=workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"aftercare of {self.state.incident_id}",
        )  # fmt: skip
        self.effects.record(EventKind.NOTE, SYSTEM, f"duties after resolution continue in {workflow_id}")

    async def _start_review(self) -> None:
        workflow_id = review_workflow_id(self.state.occurrence)
        self.state.lifecycle.aftercare_workflow_id = workflow_id
        await workflow.start_child_workflow(
            PostmortemReviewWorkflow.run, ReviewInput(incident=self._state_to_hand_over()), id=workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"post-mortem review of {self.state.incident_id}",
        )  # fmt: skip
        self.effects.record(
            EventKind.NOTE,
            SYSTEM,
            f"post-mortem review (and any duties after resolution) continue in {workflow_id}",
        )

    def _state_to_hand_over(self) -> IncidentState:
        """The state a follow-on workflow starts from, without the recent timeline (the analysis phase archived
        it; the follow-on reads it from there). A shallow copy: the child's start command serializes it before
        this workflow runs another line, and a deep copy of the whole state (pinned policy included) was a
        fifth of an incident's workflow-task CPU in bench.lifecycle."""
        timeline = self.state.timeline.model_copy(update={"recent": []})
        return self.state.model_copy(update={"timeline": timeline})

    def _assign_default_roles(self) -> None:
        roles, now = self.state.response.roles, workflow.now()
        for role, references in self._policy.roles.defaults.items():
            if role in roles:
                continue
            candidates = self.effects.resolve_targets(references)
            if candidates:
                roles[role] = candidates[0]
                self.incident.record(
                    now, EventKind.ROLE_ASSIGNED, SYSTEM, f"{role}: {candidates[0]} (from the roster)"
                )
        severity = self.state.severity
        for role in self._policy.roles.required.get(severity, []) if severity else []:
            if role not in roles:
                self.incident.record(
                    now, EventKind.WARNING, SYSTEM,
                    f"{severity.value if severity else ''} requires a {role} and none could be assigned: "
                    f'send assign_role {{"by": "you", "role": "{role}", "person": "..."}}',
                )  # fmt: skip

    # ------------------------------------------------------------------ long life

    def _should_continue_as_new(self) -> bool:
        if self.state.lifecycle.resolve_request is not None and not self.state.lifecycle.resolve_by_alerts:
            return False  # a human's resolve update is waiting for the gate's verdict in this run
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= EVENTS_PER_RUN
            or self._signals >= SIGNALS_PER_RUN
        )

    def _loop_has_work(self) -> bool:
        lifecycle = self.state.lifecycle
        return (
            self.state.is_resolved
            or (
                self.state.phase is Phase.RESPONSE
                and bool(lifecycle.mitigated_at or lifecycle.resolve_request)
            )
            or self.recovery.due()
            or self._probe_due()
            or self.effects.timeline_too_long()
            or self._should_continue_as_new()
        )

    # ------------------------------------------------------------------ signals, updates, query

    def _alert(self, payload: Any) -> None:
        """Most alerts re-fire what the incident already knows; only one that changes what the duty engine
        reads (severity, impact, teams, acknowledgement) wakes the duty loop to recompute."""
        self._signals += 1
        before = self._duty_inputs()
        self.incident.add_alert(payload, workflow.now())
        if self._duty_inputs() != before:
            self.runner.changed()
        self._sync()

    def _duty_inputs(self) -> tuple[Any, ...]:
        state = self.state
        return (state.severity, state.cause.impact, len(state.cause.teams), state.is_acknowledged,
                state.regulatory.since)  # fmt: skip

    def _signal(self, name: str, payload: Any) -> None:
        self._signals += 1
        self.incident.handle_signal(name, payload, workflow.now())
        self._after_change()

    def _validate(self, name: str, command: Command) -> None:
        reason = self.incident.refusal(name, command)
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    async def _update(self, name: str, command: Command) -> CommandVerdict:
        decision = self.incident.execute(name, command, workflow.now())
        self._after_change()
        if name != "resolve" or not decision.applied:
            return decision.verdict
        # A resolve is answered once the health gate has decided: resolved, or refused with the reason.
        lifecycle = self.state.lifecycle
        await workflow.wait_condition(
            lambda: (
                self.state.is_resolved
                or lifecycle.resolve_request is None
                or self.state.phase is Phase.CLOSED
            )
        )
        if self.state.is_resolved:
            return decision.verdict.model_copy(update={"reason": "resolved"})
        refusal = next(
            (e.summary for e in reversed(self.state.timeline.recent) if e.kind is EventKind.REJECTED),
            "refused",
        )
        return decision.verdict.model_copy(update={"outcome": "rejected", "reason": refusal})

    @workflow.query(
        description="Phase, severity with reasons, who is paged and acked, next deadline, recent timeline."
    )
    def status(self) -> IncidentStatus:
        return status_view(self.state, self._upcoming)

    # ------------------------------------------------------------------ bookkeeping

    def _after_change(self) -> None:
        self.runner.changed()
        self._sync()

    def _enter(self, phase: Phase, sync: bool = True) -> None:
        self.state.lifecycle.phase = phase
        self.effects.record(EventKind.PHASE, SYSTEM, f"phase {phase.value}")
        if sync:
            self._sync()

    def _sync(self, force: bool = False) -> None:
        """Search attributes and the Web UI details are stale. The painter renders the details once per
        activation, and upserts the attributes there too in runs under ALL_PATCHES_2026_12_B; older runs upsert
        here, on every change, as they were recorded."""
        self._details_stale = True
        if not self._all_patches_b:
            self._upsert(force)

    def _publish(self) -> None:
        """The once-per-task upsert of runs under ALL_PATCHES_2026_12_B; `_upsert` compares with what it last
        upserted, so it does nothing when nothing changed. (`force` is only ever asked of older runs.)"""
        if self._all_patches_b:
            self._upsert()

    def _upsert(self, force: bool = False) -> None:
        """Search attributes when phase, severity or service changed, and the measures (MTTA, MTTR, false
        positive) once known."""
        shown = (self.state.phase, self.state.severity, self.state.cause.service)
        measures = search_measures(self.state)
        if force or shown != self._shown:
            self._shown, self._measured = shown, measures
            updates = [INCIDENT_PHASE.value_set(self.state.phase.value)]
            if self.state.severity:
                updates.append(INCIDENT_SEVERITY.value_set(self.state.severity.value))
            if self.state.cause.service:
                updates.append(INCIDENT_SERVICE.value_set(self.state.cause.service))
            workflow.upsert_search_attributes(updates + measures)
        elif measures != self._measured and self._patched(MEASURES_PATCH):
            # An ack or a resolve without a phase change: histories before the measures had no upsert here.
            self._measured = measures
            workflow.upsert_search_attributes(measures)

    async def _keep_shown_fresh(self) -> None:
        """Render the Web UI details (and upsert search attributes) once per activation, not once per signal:
        a burst of 200 signals in one workflow task would otherwise render 200 times and trip the SDK's 2 s
        deadlock detector. The first task's upsert waits for the policy: pinning it by local activity spans
        two activations of that task, and classifying follows at once."""
        while True:
            await workflow.wait_condition(lambda: self._details_stale)
            self._details_stale = False
            if self.state.policy is not None:
                self._publish()
            workflow.set_current_details(render_details(self.state, self._upcoming))

    @property
    def _policy(self) -> Policy:
        assert self.state.policy is not None, "policy is pinned before any phase runs"
        return self.state.policy
