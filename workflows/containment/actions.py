"""The action book: every transition of an incident's actions, with the authorization rules. Pure (no Temporal
import), so the rules are unit-tested without a server (tests/unit/test_action_book.py).

Who may decide is checked here, not trusted from the sender: the Web UI records no sender identity, so the
approver named in the payload must be one the runbook allows, a two-person action needs a second person who is
not the requester, and a decision on an action already decided, expired or halted is refused with the reason.
An emergency stop (halt) withdraws every action not yet running and blocks new ones until resume.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from workflows.containment.policy import ActionSpec, Runbook
from workflows.containment.records import ActionRecord, Containment
from workflows.messages.containment import ContainmentOutcome, ContainmentResult
from workflows.messages.status import ActionState, ApprovalView

AUTOMATION = "warroom"  # the requester of runbook actions proposed when the response starts
People = Callable[[list[str]], list[str]]


class ActionBook:
    """The containment state of one incident with its pinned runbook; `people` resolves references now."""

    def __init__(self, containment: Containment, runbook: Runbook | None, people: People) -> None:
        self.containment = containment
        self.runbook = runbook
        self.people = people

    # ------------------------------------------------------------------ questions

    def spec_of(self, action: ActionRecord) -> ActionSpec | None:
        return self.runbook.action(action.name) if self.runbook else None

    def allowed_deciders(self, action: ActionRecord) -> list[str]:
        spec = self.spec_of(action)
        return self.people(spec.may_approve) if spec else []

    def pending_approvals(self) -> list[ActionRecord]:
        return [a for a in self.containment.actions if a.state is ActionState.AWAITING_APPROVAL]

    def open_tasks(self) -> list[ActionRecord]:
        return [a for a in self.containment.actions if a.is_task and a.state is ActionState.RUNNING]

    def next_to_run(self) -> ActionRecord | None:
        """Approved actions run one at a time in the order they were proposed: a runbook is ordered."""
        if self.containment.halted:
            return None
        return next((a for a in self.containment.actions if a.state is ActionState.APPROVED), None)

    def due_asks(self, now: datetime) -> list[ActionRecord]:
        """Approvals never asked yet, or whose round timed out."""
        return [
            action for action in self.pending_approvals()
            if action.ask_deadline is None or action.ask_deadline <= now
        ]  # fmt: skip

    def next_ask_deadline(self) -> datetime | None:
        deadlines = [a.ask_deadline for a in self.pending_approvals() if a.ask_deadline is not None]
        return min(deadlines, default=None)

    # ------------------------------------------------------------------ refusals (pure)

    def refuse_proposal(self, name: str) -> str | None:
        if self.containment.halted:
            return self._halted_reason()
        if self.runbook is None:
            return "no runbook applies to this incident (policy containment.runbooks names its service)"
        spec = self.runbook.action(name)
        if spec is None:
            offered = ", ".join(action.name for action in self.runbook.actions)
            return f"unknown action '{name}'; runbook '{self.runbook.name}' offers: {offered}"
        busy = next((a for a in self.containment.actions if a.name == name and a.is_open), None)
        if busy is not None:
            return f"{name} is already {busy.state.value} as {busy.id}"
        return None

    def refuse_decision(self, action_id: str, by: str, approving: bool) -> str | None:
        action = self.containment.find(action_id)
        if action is None:
            known = ", ".join(a.id for a in self.pending_approvals()) or "none"
            return f"unknown action id '{action_id}' (awaiting approval: {known})"
        if action.is_task:
            return f"{action_id} ({action.name}) is a human-only task: send complete_task when it is done"
        if action.state is not ActionState.AWAITING_APPROVAL:
            return f"{action_id} ({action.name}) is already {action.state.value}; nothing to decide"
        allowed = self.allowed_deciders(action)
        if by not in allowed:
            return (
                f"{by} may not decide {action_id} ({action.name}); "
                f"allowed now: {', '.join(allowed) or 'nobody (check the roster and roles)'}"
            )
        if any(approval.by == by for approval in action.approvals):
            return f"{by} already approved {action_id}; a second approval must come from someone else"
        if approving and action.two_person and by == action.requested_by:
            return (
                f"{action_id} ({action.name}) needs two people: {by} requested it and cannot also approve "
                "it; a second approver must"
            )
        return None

    def refuse_task_done(self, action_id: str) -> str | None:
        action = self.containment.find(action_id)
        if action is None or not action.is_task:
            tasks = ", ".join(a.id for a in self.open_tasks()) or "none"
            return f"'{action_id}' is not a human-only task of this incident (open tasks: {tasks})"
        if action.state is not ActionState.RUNNING:
            return f"{action_id} ({action.name}) is already {action.state.value}"
        return None

    def refuse_halt(self) -> str | None:
        return self._halted_reason() if self.containment.halted else None

    def refuse_resume(self) -> str | None:
        return None if self.containment.halted else "automation is not halted"

    # ------------------------------------------------------------------ transitions

    def propose(
        self, spec: ActionSpec, by: str, params: dict[str, Any], reason: str | None, now: datetime
    ) -> ActionRecord:
        risk = spec.risk_class
        state = {"automatic": ActionState.APPROVED, "approval": ActionState.AWAITING_APPROVAL,
                 "human_only": ActionState.RUNNING}[risk]  # fmt: skip
        action = ActionRecord(
            id=f"a{self.containment.next_number}", name=spec.name, adapter=spec.adapter,
            operation=spec.operation, params={**spec.params, **params}, risk=risk, state=state,
            requested_by=by, requested_at=now, reason=reason, two_person=spec.two_person,
            safe_default=spec.safe_default, owners=list(spec.owners) if risk == "human_only" else [],
            restore=spec.restore,
        )  # fmt: skip
        self.containment.add(action)
        return action

    def approve(self, action_id: str, by: str, reason: str | None, now: datetime) -> ActionRecord:
        """Record the approval; the action is approved once enough distinct people agreed."""
        action = self._get(action_id)
        action.approvals.append(ApprovalView(by=by, at=now, decision="approved", reason=reason))
        if len({approval.by for approval in action.approvals}) >= self.approvals_needed(action):
            action.state = ActionState.APPROVED
            action.ask_deadline = None
        return action

    @staticmethod
    def approvals_needed(action: ActionRecord) -> int:
        """Two people: a human requester is the first, so one other approver; an action warroom proposed
        itself needs two approvers."""
        if not action.two_person:
            return 1
        return 2 if action.requested_by == AUTOMATION else 1

    def reject(self, action_id: str, by: str, reason: str, now: datetime) -> ActionRecord:
        action = self._get(action_id)
        action.approvals.append(ApprovalView(by=by, at=now, decision="rejected", reason=reason))
        action.state, action.ask_deadline, action.result = ActionState.REJECTED, None, f"rejected by {by}"
        return action

    def ask(self, action: ActionRecord, now: datetime) -> list[str] | None:
        """Move to the next round of asking: the references to notify, or None after the last round."""
        spec = self.spec_of(action)
        rounds = spec.ask_rounds if spec else []
        if action.asked_round + 1 >= len(rounds):
            return None
        action.asked_round += 1
        assert spec is not None
        action.ask_deadline = now + spec.approval_timeout
        return rounds[action.asked_round]

    def expire(self, action: ActionRecord) -> str:
        """Nobody decided after the last round: the safe default, said in words."""
        action.ask_deadline = None
        if action.safe_default == "act":
            action.state = ActionState.APPROVED
            action.result = "no decision in time; the runbook's safe default is to act"
        else:
            action.state = ActionState.EXPIRED
            action.result = "no decision in time; safe default: not done"
        return action.result

    def complete_task(self, action_id: str, by: str, note: str | None) -> ActionRecord:
        action = self._get(action_id)
        action.state = ActionState.SUCCEEDED
        action.result = f"done by {by}" + (f": {note}" if note else "")
        return action

    def halt(self, by: str, reason: str, now: datetime) -> list[ActionRecord]:
        """Stop: every action not yet running is withdrawn; running ones are cancelled by the shell."""
        containment = self.containment
        containment.halted_by, containment.halted_at, containment.halt_reason = by, now, reason
        withdrawn = [
            a for a in containment.actions
            if a.state in (ActionState.AWAITING_APPROVAL, ActionState.APPROVED)
        ]  # fmt: skip
        for action in withdrawn:
            action.state, action.ask_deadline = ActionState.HALTED, None
            action.result = f"withdrawn: automation halted by {by}"
        return withdrawn

    def resume(self) -> None:
        containment = self.containment
        containment.halted_by = containment.halted_at = containment.halt_reason = None

    def running(self) -> list[ActionRecord]:
        return [a for a in self.containment.actions if not a.is_task and a.state is ActionState.RUNNING]

    def started(self, action: ActionRecord) -> None:
        action.state = ActionState.RUNNING

    def finished(self, action: ActionRecord, result: ContainmentResult, cancelled: bool) -> None:
        """The adapter's report: a cancelled action (halt) is halted whatever the adapter managed to undo."""
        action.result, action.observed = result.detail, result.observed
        if cancelled or result.outcome in (ContainmentOutcome.UNDONE, ContainmentOutcome.PARTIAL):
            action.state = ActionState.HALTED
        elif result.outcome is ContainmentOutcome.SUCCEEDED:
            action.state = ActionState.SUCCEEDED
        else:
            action.state = ActionState.FAILED

    def to_restore(self) -> list[ActionRecord]:
        """Succeeded actions recovery must put back: traffic first (in order), then the one-shot restores."""
        pending = [a for a in self.containment.actions if a.state is ActionState.SUCCEEDED and a.restore
                   and not a.restored]  # fmt: skip
        return sorted(pending, key=lambda a: 0 if a.restore and a.restore.kind == "traffic" else 1)

    def _get(self, action_id: str) -> ActionRecord:
        action = self.containment.find(action_id)
        assert action is not None, f"{action_id} was checked before"
        return action

    def _halted_reason(self) -> str:
        c = self.containment
        return f"automation is halted by {c.halted_by} ({c.halt_reason}); send resume_automation first"
