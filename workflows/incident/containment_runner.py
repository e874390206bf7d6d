"""The containment loop of an incident: ask approvers (re-asking the next round when nobody answers, then the
safe default), run approved actions one at a time through the `run_containment_action` activity, and cancel
the running one when a human pulls the emergency stop.

Why the running action is an activity handle cancelled with WAIT_CANCELLATION_COMPLETED: the adapter hears
of the cancellation at its next heartbeat, undoes what it can, and its report (undone, or partial with what was
left done) is what the timeline records; the workflow never pretends an action stopped before the system did.
Why one at a time: a runbook is ordered, and two traffic changes racing each other is how outages grow.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from contextlib import suppress
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError
from temporalio.workflow import ActivityCancellationType, ActivityHandle

with workflow.unsafe.imports_passed_through():
    from workflows.containment.actions import AUTOMATION, ActionBook
    from workflows.containment.records import ActionRecord
    from workflows.incident import wording
    from workflows.incident.domain import Incident
    from workflows.incident.effects import Effects
    from workflows.messages.activities import ActivityName
    from workflows.messages.common import incident_workflow_id
    from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult
    from workflows.messages.notifications import NotificationKind
    from workflows.messages.status import ActionState, EventKind

ACTION_TIMEOUT = timedelta(minutes=10)
ACTION_HEARTBEAT = timedelta(seconds=30)
# An adapter call is idempotent by its key, so a retry after a worker crash never acts twice.
ACTION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)


def approve_json(action: ActionRecord) -> str:
    return json.dumps({"by": "your-name", "action_id": action.id, "reason": "why"})


def reject_json(action: ActionRecord) -> str:
    return json.dumps({"by": "your-name", "action_id": action.id, "reason": "why not"})


def run_adapter(
    incident: Incident, action: ActionRecord, operation: str, params: dict[str, object], key: str
) -> ActivityHandle[ContainmentResult]:
    """Start one adapter call (cancellable by the caller through the returned handle)."""
    return workflow.start_activity(
        ActivityName.CONTAIN,
        ContainmentRequest(
            incident_id=incident.state.incident_id,
            action_id=action.id,
            adapter=action.adapter or "",
            operation=operation,
            params=params,
            idempotency_key=key,
        ),
        result_type=ContainmentResult,
        start_to_close_timeout=ACTION_TIMEOUT,
        heartbeat_timeout=ACTION_HEARTBEAT,
        retry_policy=ACTION_RETRY,
        cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        summary=f"{action.id} {action.name}: {operation}",
    )


async def outcome_of(handle: ActivityHandle[ContainmentResult]) -> ContainmentResult:
    """The adapter's report; an activity that failed or acknowledged the cancellation becomes one too."""
    try:
        return await handle
    except ActivityError as error:
        if isinstance(error.cause, CancelledError):
            details = ", ".join(str(detail) for detail in error.cause.details) or "no report from the adapter"
            return ContainmentResult(outcome=ContainmentOutcome.PARTIAL, detail=f"cancelled: {details}")
        return ContainmentResult(outcome=ContainmentOutcome.FAILED, detail=f"failed: {error.cause}")


class ContainmentRunner:
    def __init__(self, incident: Incident, effects: Effects, changed: Callable[[], None]) -> None:
        self.incident, self.effects, self._changed = incident, effects, changed
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: tuple[str, ActivityHandle[ContainmentResult]] | None = None
        self._cancelled: set[str] = set()

    @property
    def book(self) -> ActionBook:
        return self.incident.actions

    @property
    def idle(self) -> bool:
        return not self._tasks

    # ------------------------------------------------------------------ the runbook at response start

    def start_runbook(self) -> None:
        """Choose the runbook once, when the response starts, and propose its response-triggered actions."""
        state, containment = self.incident.state, self.incident.state.containment
        if containment.runbook_started or state.policy is None:
            return
        containment.runbook_started = True
        runbook = state.policy.containment.runbook_for(state.cause.service, containment.labels)
        if runbook is None:
            return
        containment.runbook = runbook.name
        self.effects.record(EventKind.ACTION, AUTOMATION, f"runbook '{runbook.name}' applies")
        for spec in runbook.actions:
            if spec.trigger != "response":
                continue
            reason = self.book.refuse_proposal(spec.name)
            if reason is None:
                self.incident.propose(spec.name, AUTOMATION, {}, "runbook", workflow.now())
            else:
                self.effects.record(EventKind.ACTION, AUTOMATION, f"{spec.name} not proposed: {reason}")
        self._changed()

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: Callable[[], bool]) -> None:
        """Until `stop()` holds and nothing is in flight (continue-as-new and resolution wait for the running
        action: an adapter call is never abandoned half-way)."""
        while True:
            if stop():
                await workflow.wait_condition(lambda: self.idle)
                if stop():
                    self._withdraw_if_resolved()
                    return
            self._cancel_if_halted()
            self._ask_due(stop)
            self._notify_new_tasks()
            self._start_next(stop)
            deadline = self.book.next_ask_deadline()
            timeout = max(deadline - workflow.now(), timedelta(0)) if deadline else None
            with suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: stop() or self._has_work(), timeout=timeout, timeout_summary="approval deadline"
                )

    def _has_work(self) -> bool:
        """Evaluated after every signal of an activation (thousands in a storm): cheap when nothing is open."""
        containment = self.incident.state.containment
        if not containment.actions:
            return False
        if self._running is not None and containment.halted and self._running[0] not in self._cancelled:
            return True
        for action in containment.actions:
            if action.state is ActionState.AWAITING_APPROVAL and action.ask_deadline is None:
                return True
            if action.state is ActionState.APPROVED and not containment.halted and self._running is None:
                return True
            if action.is_task and action.state is ActionState.RUNNING and action.asked_round < 0:
                return True
        return False

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[Any] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ approvals

    def _ask_due(self, stop: Callable[[], bool]) -> None:
        if stop():
            return
        now = workflow.now()
        due = self.book.due_asks(now)
        if not due:
            return  # waking the duty loop for nothing would change the incident's command order
        for action in due:
            references = self.book.ask(action, now)
            if references is None:
                outcome = self.book.expire(action)
                self.effects.record(
                    EventKind.ACTION, AUTOMATION, f"{action.id} {action.name}: {outcome}",
                    action_id=action.id, state=action.state.value, approval="timed_out",
                )  # fmt: skip
                continue
            people = (
                self.effects.resolve_targets(references) or self.effects.policy.escalation.fallback_targets
            )
            round_ = action.asked_round + 1
            self.effects.record(
                EventKind.ACTION, AUTOMATION,
                f"{action.id} {action.name}: approval asked (round {round_}) of {', '.join(people)}; "
                f"decide by {action.ask_deadline:%H:%M:%S} UTC",
                action_id=action.id, round=round_,
            )  # fmt: skip
            self._spawn(self._ask(action, people, round_))
        self._changed()

    async def _ask(self, action: ActionRecord, people: list[str], round_: int) -> None:
        state = self.incident.state
        await self.effects.notify(
            f"approval/{action.id}/{round_}", NotificationKind.APPROVAL_REQUEST, people,
            wording.approval_subject(state, action), wording.approval_body(state, action),
            action_id=action.id, action=action.name, incident_id=state.incident_id,
            workflow_id=incident_workflow_id(state.incident_id),
            approve_signal=approve_json(action), reject_signal=reject_json(action),
            approve_command=f"warroom approve {state.incident_id} {action.id} --by YOUR-NAME",
            reject_command=f'warroom reject {state.incident_id} {action.id} --by YOUR-NAME --reason "why not"',
            two_person="yes" if action.two_person else "no",
        )  # fmt: skip
        self._changed()

    def _notify_new_tasks(self) -> None:
        for task in self.book.open_tasks():
            if task.asked_round >= 0:
                continue
            task.asked_round = 0
            references = [f"role:{role}" for role in task.owners]
            people = (
                self.effects.resolve_targets(references) or self.effects.policy.escalation.fallback_targets
            )
            self._spawn(
                self.effects.notify(
                    f"task/{task.id}",
                    NotificationKind.ESCALATION,
                    people,
                    wording.task_subject(self.incident.state, task),
                    wording.task_body(self.incident.state, task),
                    action_id=task.id,
                    action=task.name,
                )
            )

    def _withdraw_if_resolved(self) -> None:
        if not self.incident.state.is_resolved:
            return
        for action in self.book.pending_approvals():
            action.state, action.ask_deadline = ActionState.EXPIRED, None
            action.result = "withdrawn: the incident resolved before a decision"
            self.effects.record(EventKind.ACTION, AUTOMATION, f"{action.id} {action.name}: {action.result}")

    # ------------------------------------------------------------------ execution

    def _start_next(self, stop: Callable[[], bool]) -> None:
        if self._running is not None or stop():
            return
        action = self.book.next_to_run()
        if action is None:
            return
        self.book.started(action)
        self.effects.record(
            EventKind.ACTION, AUTOMATION, f"{action.id} {action.name} running: {action.adapter}/{action.operation}",
            action_id=action.id, state=action.state.value,
        )  # fmt: skip
        self._spawn(self._execute(action))
        self._changed()

    async def _execute(self, action: ActionRecord) -> None:
        key = f"{self.incident.state.occurrence}/{action.id}"
        handle = run_adapter(self.incident, action, action.operation or "", action.params, key)
        self._running = (action.id, handle)
        try:
            result = await outcome_of(handle)
        finally:
            self._running = None
        cancelled = action.id in self._cancelled
        self.book.finished(action, result, cancelled)
        verb = "stopped by the halt" if cancelled else action.state.value
        self.effects.record(
            EventKind.ACTION, AUTOMATION, f"{action.id} {action.name} {verb}: {result.outcome.value}, {result.detail}",
            action_id=action.id, state=action.state.value, outcome=result.outcome.value,
        )  # fmt: skip
        self._changed()

    def _cancel_if_halted(self) -> None:
        if self._running is None or not self.book.containment.halted:
            return
        action_id, handle = self._running
        if action_id not in self._cancelled:
            self._cancelled.add(action_id)
            handle.cancel()
