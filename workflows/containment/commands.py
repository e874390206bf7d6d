"""The containment commands of the incident domain: propose, approve, reject, halt, resume, task done, recovery
override. Mixed into `Incident` (workflows/incident/domain.py), whose `execute` finds `_refuse_<name>` and
`_apply_<name>` here, so signals and updates of these commands run exactly the same rules as the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workflows.containment.actions import ActionBook
from workflows.containment.records import ActionRecord
from workflows.messages.approvals import (
    ApproveAction,
    CompleteTask,
    HaltAutomation,
    OverrideRecovery,
    ProposeAction,
    RejectAction,
    ResumeAutomation,
)
from workflows.messages.commands import Command
from workflows.messages.status import ActionState, EventKind, TimelineEvent

if TYPE_CHECKING:
    from workflows.incident.state import IncidentState

CONTAINMENT_COMMANDS: dict[str, type[Command]] = {
    "propose_action": ProposeAction,
    "approve_action": ApproveAction,
    "reject_action": RejectAction,
    "halt_automation": HaltAutomation,
    "resume_automation": ResumeAutomation,
    "complete_task": CompleteTask,
    "override_recovery": OverrideRecovery,
}


def _identity(references: list[str]) -> list[str]:
    """Without a roster at hand, a reference is a person only when it names one (no `kind:` prefix)."""
    return [reference for reference in references if ":" not in reference]


class ContainmentCommands:
    """Needs `state`, `record` and may be given `people` (the shell resolves references with the roster)."""

    state: IncidentState
    people: Callable[[list[str]], list[str]] = staticmethod(_identity)

    def record(
        self, now: datetime, kind: EventKind, actor: str, summary: str, command_id: str | None = None,
        **details: Any,
    ) -> TimelineEvent:  # fmt: skip
        raise NotImplementedError

    @property
    def actions(self) -> ActionBook:
        policy = self.state.policy
        containment = self.state.containment
        runbook = policy.containment.named(containment.runbook) if policy else None
        return ActionBook(containment, runbook, self.people)

    # ------------------------------------------------------------------ refusals

    def _refuse_propose_action(self, command: ProposeAction) -> str | None:
        if self.state.lifecycle.response_started_at is None:
            return "propose_action: the response has not started yet"
        reason = self.actions.refuse_proposal(command.action)
        return f"propose_action: {reason}" if reason else None

    def _refuse_approve_action(self, command: ApproveAction) -> str | None:
        reason = self.actions.refuse_decision(command.action_id, command.by, approving=True)
        return f"approve_action: {reason}" if reason else None

    def _refuse_reject_action(self, command: RejectAction) -> str | None:
        reason = self.actions.refuse_decision(command.action_id, command.by, approving=False)
        return f"reject_action: {reason}" if reason else None

    def _refuse_halt_automation(self, command: HaltAutomation) -> str | None:
        reason = self.actions.refuse_halt()
        return f"halt_automation: {reason}" if reason else None

    def _refuse_resume_automation(self, command: ResumeAutomation) -> str | None:
        reason = self.actions.refuse_resume()
        return f"resume_automation: {reason}" if reason else None

    def _refuse_complete_task(self, command: CompleteTask) -> str | None:
        reason = self.actions.refuse_task_done(command.action_id)
        return f"complete_task: {reason}" if reason else None

    def _refuse_override_recovery(self, command: OverrideRecovery) -> str | None:
        recovery = self.state.containment.recovery
        if recovery.status in ("restored", "overridden"):
            return f"override_recovery: recovery is already {recovery.status}"
        return None

    # ------------------------------------------------------------------ applying

    def propose(
        self, name: str, by: str, params: dict[str, Any], reason: str | None, now: datetime,
        command_id: str | None = None,
    ) -> ActionRecord:  # fmt: skip
        """Propose a runbook action (also used by the shell for the runbook's response-triggered actions)."""
        book = self.actions
        assert book.runbook is not None
        spec = book.runbook.action(name)
        assert spec is not None
        action = book.propose(spec, by, params, reason, now)
        what = {"automatic": "runs now (automatic)", "approval": "awaits approval",
                "human_only": f"is a task for {', '.join(action.owners)} (human only, never executed)"}  # fmt: skip
        self.record(
            now, EventKind.ACTION, by,
            f"{action.id} {action.name} proposed{_why(reason)}: {what[action.risk]}", command_id,
            action_id=action.id, action=action.name, state=action.state.value,
        )  # fmt: skip
        return action

    def _apply_propose_action(self, command: ProposeAction, now: datetime) -> tuple[str, str]:
        action = self.propose(
            command.action, command.by, command.params, command.reason, now, command.command_id
        )
        return "applied", f"{action.id} {action.name}: {action.state.value}"

    def _apply_approve_action(self, command: ApproveAction, now: datetime) -> tuple[str, str]:
        action = self.actions.approve(command.action_id, command.by, command.reason, now)
        done = action.state is ActionState.APPROVED
        summary = (
            f"{action.id} {action.name} approved{_why(command.reason)}"
            if done
            else f"{action.id} {action.name}: first approval{_why(command.reason)}; a second person must approve"
        )
        self.record(now, EventKind.APPROVAL, command.by, summary, command.command_id,
                    action_id=action.id, decision="approved")  # fmt: skip
        return "applied", summary

    def _apply_reject_action(self, command: RejectAction, now: datetime) -> tuple[str, str]:
        action = self.actions.reject(command.action_id, command.by, command.reason, now)
        summary = f"{action.id} {action.name} rejected: {command.reason}"
        self.record(now, EventKind.APPROVAL, command.by, summary, command.command_id,
                    action_id=action.id, decision="rejected")  # fmt: skip
        return "applied", summary

    def _apply_halt_automation(self, command: HaltAutomation, now: datetime) -> tuple[str, str]:
        book = self.actions
        running = [action.id for action in book.running()]
        withdrawn = [action.id for action in book.halt(command.by, command.reason, now)]
        summary = (
            f"automation HALTED: {command.reason}"
            + (f"; cancelling {', '.join(running)}" if running else "")
            + (f"; withdrawn {', '.join(withdrawn)}" if withdrawn else "")
            + "; nothing new runs until resume_automation"
        )
        self.record(now, EventKind.AUTOMATION, command.by, summary, command.command_id, halted=True)
        return "applied", summary

    def _apply_resume_automation(self, command: ResumeAutomation, now: datetime) -> tuple[str, str]:
        self.actions.resume()
        summary = f"automation resumed{_why(command.reason)}"
        self.record(now, EventKind.AUTOMATION, command.by, summary, command.command_id, halted=False)
        return "applied", summary

    def _apply_complete_task(self, command: CompleteTask, now: datetime) -> tuple[str, str]:
        action = self.actions.complete_task(command.action_id, command.by, command.note)
        summary = f"{action.id} {action.name}: {action.result}"
        self.record(now, EventKind.ACTION, command.by, summary, command.command_id, action_id=action.id)
        return "applied", summary

    def _apply_override_recovery(self, command: OverrideRecovery, now: datetime) -> tuple[str, str]:
        recovery = self.state.containment.recovery
        recovery.status, recovery.overridden_by, recovery.override_reason = (
            "overridden",
            command.by,
            command.reason,
        )
        summary = f"phased recovery overridden: {command.reason} (traffic left at {recovery.percent}%)"
        self.record(now, EventKind.RECOVERY, command.by, summary, command.command_id)
        return "applied", summary


def _why(reason: str | None) -> str:
    return f" ({reason})" if reason else ""
