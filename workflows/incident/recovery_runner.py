"""Phased recovery: once the incident is mitigated, put back what containment took away. Traffic returns in
the policy's steps (10 -> 25 -> 50 -> 100 % by default) with a health gate after each (error rate and latency
observed for a soak time, the `observe_health` activity); a failed gate rolls back to the previous step and
pages the tech lead. Features disabled during containment are re-enabled after the traffic is back. Only then
may the health gate before resolve run; a human may override the whole phase with a reason (recorded).

Why this blocks the recovery loop instead of running beside it: nothing else in recovery may happen while
traffic moves (a resolve waits for it), and every step is an activity with a key of its own
(`<occurrence>/<action_id>/<percent>`), so a worker crash mid-way repeats no step twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.containment.actions import AUTOMATION, ActionBook
    from workflows.containment.records import ActionRecord, Recovery
    from workflows.incident import wording
    from workflows.incident.containment_runner import outcome_of, run_adapter
    from workflows.incident.domain import Incident
    from workflows.incident.effects import Effects
    from workflows.messages.activities import ActivityName
    from workflows.messages.common import Phase
    from workflows.messages.containment import (
        ContainmentOutcome,
        HealthObservationRequest,
        HealthObservationResult,
    )
    from workflows.messages.notifications import NotificationKind
    from workflows.messages.status import ActionState, EventKind

OBSERVE_MARGIN = timedelta(minutes=2)
# The observation heartbeats every sample (at most 2 s apart): a worker killed mid-soak is noticed within this,
# and the gate is observed again on another worker, instead of waiting out the soak plus the margin.
OBSERVE_HEARTBEAT = timedelta(seconds=20)
OBSERVE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=2)


class RecoveryRunner:
    def __init__(self, incident: Incident, effects: Effects, changed: Callable[[], None]) -> None:
        self.incident, self.effects, self._changed = incident, effects, changed

    @property
    def book(self) -> ActionBook:
        return self.incident.actions

    @property
    def progress(self) -> Recovery:
        return self.incident.state.containment.recovery

    def due(self) -> bool:
        """In recovery, something to put back, not stalled or overridden, and automation not halted."""
        return (
            self.incident.state.phase is Phase.RECOVERY
            and self.progress.status not in ("stalled", "overridden")
            and not self.book.containment.halted
            and bool(self.book.to_restore())
        )

    def settled(self) -> bool:
        """The resolve gate may run: a human overrode the phase, or nothing is left to put back and no action
        is still about to change the system (one that finishes later would otherwise stay in place)."""
        if self.progress.status == "overridden":
            return True
        if self.progress.status == "stalled" or self.book.to_restore():
            return False
        return not any(
            not action.is_task and action.state in (ActionState.APPROVED, ActionState.RUNNING)
            for action in self.book.containment.actions
        )

    async def restore(self) -> None:
        progress = self.progress
        if progress.status in ("idle", "restored"):  # restored: an action that finished later took traffic
            progress.status = "restoring"
            steps = " -> ".join(f"{step}%" for step in self.effects.policy.recovery.steps)
            self._record(f"phased recovery starts: traffic back in steps {steps}, a health gate after each")
        for action in self.book.to_restore():
            if self._stopped():
                return
            restore = action.restore
            assert restore is not None
            if restore.kind == "traffic":
                if not await self._ramp(action):
                    return
            elif not await self._once(action):
                return
            action.restored, action.state = True, ActionState.ROLLED_BACK
            action.result = f"{action.result or ''}; put back by recovery".lstrip("; ")
        if progress.status == "restoring":
            progress.status = "restored"
            self._record("phased recovery done: everything containment changed is back")
        self._changed()

    def _stopped(self) -> bool:
        return self.progress.status != "restoring" or self.book.containment.halted

    # ------------------------------------------------------------------ traffic, step by step

    async def _ramp(self, action: ActionRecord) -> bool:
        progress, steps = self.progress, self.effects.policy.recovery.steps
        previous = 0
        for percent in steps:
            if percent <= progress.percent:
                previous = percent
                continue
            if self._stopped():
                return False
            if not await self._set_weight(action, percent, f"{percent}"):
                return False
            progress.percent = percent
            self._record(
                f"{action.id} {action.name}: traffic at {percent}%", action_id=action.id, percent=percent
            )
            health = await self._observe()
            if not health.healthy:
                await self._roll_back(action, percent, previous, health.detail)
                return False
            previous = percent
        progress.percent = 0  # the next traffic action ramps from its own zero
        return True

    async def _set_weight(self, action: ActionRecord, percent: int, step: str) -> bool:
        restore = action.restore
        assert restore is not None
        params: dict[str, Any] = {**action.params, **restore.params, "percent": percent}
        key = f"{self.incident.state.occurrence}/{action.id}/{step}"
        result = await outcome_of(run_adapter(self.incident, action, restore.operation, params, key))
        if result.outcome is not ContainmentOutcome.SUCCEEDED:
            self._stall(f"{action.id} {action.name}: {restore.operation} {percent}% {result.outcome.value}: "
                        f"{result.detail}")  # fmt: skip
            return False
        return True

    async def _observe(self) -> HealthObservationResult:
        policy, service = self.effects.policy, self.incident.state.cause.service or ""
        recovery = policy.recovery
        url = recovery.health_urls.get(service) or policy.health_checks.get(service)
        if url is None:
            self._record(
                f"no health URL for {service or 'this service'}: step not observed (recovery.health_urls)"
            )
            return HealthObservationResult(healthy=True, samples=0, worst_error_rate=0, worst_latency_ms=0,
                                           detail="not observed")  # fmt: skip
        try:
            health: HealthObservationResult = await workflow.execute_activity(
                ActivityName.OBSERVE_HEALTH,
                HealthObservationRequest(
                    incident_id=self.incident.state.incident_id,
                    url=url,
                    soak_seconds=recovery.soak.total_seconds(),
                    max_error_rate=recovery.max_error_rate,
                    max_latency_ms=recovery.max_latency_ms,
                ),
                result_type=HealthObservationResult,
                start_to_close_timeout=recovery.soak + OBSERVE_MARGIN,
                heartbeat_timeout=OBSERVE_HEARTBEAT,
                retry_policy=OBSERVE_RETRY,
                summary="recovery health gate",
            )
        except ActivityError as error:
            health = HealthObservationResult(healthy=False, samples=0, worst_error_rate=1, worst_latency_ms=0,
                                             detail=f"health observation failed: {error.cause}")  # fmt: skip
        self._record(
            f"health gate {'passed' if health.healthy else 'FAILED'}: {health.detail}",
            healthy=health.healthy, error_rate=health.worst_error_rate, latency_ms=health.worst_latency_ms,
        )  # fmt: skip
        return health

    async def _roll_back(self, action: ActionRecord, percent: int, previous: int, detail: str) -> None:
        progress = self.progress
        progress.rollbacks += 1
        await self._set_weight(action, previous, f"rollback-{progress.rollbacks}-{previous}")
        progress.percent = previous
        self._record(f"{action.id} {action.name}: rolled back to {previous}% after the gate failed at {percent}%",
                     action_id=action.id, percent=previous)  # fmt: skip
        self._stall(f"gate failed at {percent}%, back at {previous}%: {detail}")
        state = self.incident.state
        people = self.effects.resolve_targets(self.effects.policy.recovery.page_on_failure)
        await self.effects.notify(
            f"recovery-rollback/{progress.rollbacks}", NotificationKind.ESCALATION,
            people or self.effects.policy.escalation.fallback_targets, wording.recovery_failed_subject(state),
            wording.recovery_failed_body(percent, previous, detail, state.incident_id),
        )  # fmt: skip

    # ------------------------------------------------------------------ one-shot restores (features)

    async def _once(self, action: ActionRecord) -> bool:
        restore = action.restore
        assert restore is not None
        key = f"{self.incident.state.occurrence}/{action.id}/restore"
        params = {**action.params, **restore.params}
        result = await outcome_of(run_adapter(self.incident, action, restore.operation, params, key))
        if result.outcome is not ContainmentOutcome.SUCCEEDED:
            self._stall(
                f"{action.id} {action.name}: {restore.operation} {result.outcome.value}: {result.detail}"
            )
            return False
        self._record(
            f"{action.id} {action.name}: {restore.operation} done: {result.detail}", action_id=action.id
        )
        return True

    # ------------------------------------------------------------------ bookkeeping

    def _stall(self, detail: str) -> None:
        """Recovery waits for a human; a human's pending resolve hears why at once."""
        progress = self.progress
        if progress.status == "restoring":
            progress.status, progress.detail = "stalled", detail
        self._record(f"phased recovery stalled: {detail}; send override_recovery with a reason to go on")
        lifecycle = self.incident.state.lifecycle
        request = lifecycle.resolve_request
        if request is not None and not lifecycle.resolve_by_alerts:
            self.incident.record(
                workflow.now(), EventKind.REJECTED, request.by,
                f"resolve refused: phased recovery stalled ({detail}); send override_recovery first",
                request.command_id,
            )  # fmt: skip
            lifecycle.resolve_request = None
        self._changed()

    def _record(self, summary: str, **details: Any) -> None:
        self.effects.record(EventKind.RECOVERY, AUTOMATION, summary, **details)
        self._changed()
