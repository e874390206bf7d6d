"""The containment commands humans send (Web UI Send a Signal, CLI, Slack buttons): public field names."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from workflows.messages.commands import Command

ActionId = Field(min_length=1, max_length=20, description="the action's id in this incident: a1, a2, ...")


class ProposeAction(Command):
    action: str = Field(min_length=1, max_length=100, description="an action of the incident's runbook")
    params: dict[str, Any] = Field(default_factory=dict, description="merged over the runbook's params")
    reason: str | None = Field(default=None, max_length=2000)


class ApproveAction(Command):
    action_id: str = ActionId
    reason: str | None = Field(default=None, max_length=2000)


class RejectAction(Command):
    action_id: str = ActionId
    reason: str = Field(min_length=1, max_length=2000)


class HaltAutomation(Command):
    reason: str = Field(min_length=1, max_length=2000)


class ResumeAutomation(Command):
    reason: str | None = Field(default=None, max_length=2000)


class CompleteTask(Command):
    action_id: str = ActionId
    note: str | None = Field(default=None, max_length=2000)


class OverrideRecovery(Command):
    reason: str = Field(min_length=1, max_length=2000)
