"""The containment part of an incident's state: every action with its approvals, the emergency stop, and the
progress of phased recovery. One serializable model carried across continue-as-new; its lists are bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from workflows.containment.policy import Restore, RiskClass
from workflows.messages.common import Contract, RoleName
from workflows.messages.status import ActionState, ApprovalView

ACTIONS_KEPT = 50
LABELS_KEPT = 50
OPEN_STATES = frozenset({ActionState.AWAITING_APPROVAL, ActionState.APPROVED, ActionState.RUNNING})


class ActionRecord(Contract):
    """One action of this incident: proposed, decided, run (or a human-only task tracked to done)."""

    id: str = Field(description="a1, a2, ...: what approve_action and reject_action name")
    name: str
    adapter: str | None
    operation: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    risk: RiskClass
    state: ActionState
    requested_by: str
    requested_at: datetime
    reason: str | None = None
    approvals: list[ApprovalView] = Field(default_factory=list)
    two_person: bool = False
    safe_default: Literal["skip", "act"] = "skip"
    asked_round: int = Field(default=-1, description="the escalation round last asked (-1: not yet)")
    ask_deadline: datetime | None = None
    owners: list[RoleName] = Field(default_factory=list, description="human_only: the roles it is for")
    restore: Restore | None = None
    restored: bool = False
    result: str | None = None
    observed: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_task(self) -> bool:
        return self.risk == "human_only"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_finished(self) -> bool:
        """Closed, and nothing left for recovery to put back."""
        return not self.is_open and (self.restore is None or self.restored or self.state != "succeeded")


class Recovery(Contract):
    """Phased restoration: where the traffic is, whether a gate failed, whether a human overrode it."""

    status: Literal["idle", "restoring", "stalled", "restored", "overridden"] = "idle"
    percent: int = Field(default=0, description="traffic restored so far, in percent of the policy's steps")
    rollbacks: int = 0
    overridden_by: str | None = None
    override_reason: str | None = None
    detail: str | None = None


class Containment(Contract):
    runbook: str | None = Field(default=None, description="the runbook chosen when the response started")
    runbook_started: bool = Field(default=False, description="its response-triggered actions were proposed")
    labels: dict[str, str] = Field(default_factory=dict, description="labels of the incident's alerts")
    actions: list[ActionRecord] = Field(default_factory=list)
    next_number: int = 1
    halted_by: str | None = None
    halted_at: datetime | None = None
    halt_reason: str | None = None
    recovery: Recovery = Field(default_factory=Recovery)

    @property
    def halted(self) -> bool:
        return self.halted_at is not None

    def find(self, action_id: str) -> ActionRecord | None:
        return next((action for action in self.actions if action.id == action_id), None)

    def add(self, action: ActionRecord) -> None:
        """Keep every open action; the oldest finished ones leave first (the timeline keeps their story)."""
        self.actions.append(action)
        self.next_number += 1
        while len(self.actions) > ACTIONS_KEPT:
            finished = next((old for old in self.actions if old.is_finished), None)
            if finished is None:
                break
            self.actions.remove(finished)

    def note_labels(self, labels: dict[str, str]) -> None:
        for key, value in labels.items():
            if key in self.labels or len(self.labels) < LABELS_KEPT:
                self.labels[key] = value
