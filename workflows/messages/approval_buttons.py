"""The Approve / Reject buttons of an approval message in Slack: what the Slack adapter puts in a button and
what the intake's Slack interactivity route reads back. One contract, so neither side can drift.

A button's `value` names the incident and the action, nothing else: never who may approve (the intake takes the
approver from Slack's signed request and the roster) and never a secret (anyone in the channel sees it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workflows.messages.common import WORKFLOW_ID_PREFIX, Contract

APPROVE_BUTTON = "warroom_approve"
REJECT_BUTTON = "warroom_reject"
# The incident command each button sends (the signal and update of the same name on IncidentWorkflow).
COMMAND_OF_BUTTON: dict[str, Literal["approve_action", "reject_action"]] = {
    APPROVE_BUTTON: "approve_action",
    REJECT_BUTTON: "reject_action",
}
VALUE_LIMIT = 2000  # Slack's limit on a button's value


class ApprovalButtonValue(Contract):
    """The button's `value`, as compact JSON: `{"incident_id": "incident-...", "action_id": "a1"}`."""

    incident_id: str = Field(min_length=len(WORKFLOW_ID_PREFIX) + 1, max_length=1000, pattern=r"^incident-")
    action_id: str = Field(min_length=1, max_length=200)

    def compact(self) -> str:
        return self.model_dump_json()
