"""The Approve / Reject buttons of an approval request in Slack (Block Kit `actions` block).

A click goes to the Slack app's Interactivity Request URL, which is the intake's `/slack/interactivity` route:
it verifies Slack's signature, maps the clicking Slack user to a roster person and sends `approve_action` or
`reject_action` to the incident. The buttons carry only the incident and action ids (workflows/messages/
approval_buttons.py); who approves is Slack's verified user, never something in the message.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from workflows.messages.approval_buttons import (
    APPROVE_BUTTON,
    REJECT_BUTTON,
    VALUE_LIMIT,
    ApprovalButtonValue,
)
from workflows.messages.notifications import Notification, NotificationKind

BLOCK_ID = "warroom_approval"
CONFIRM_TEXT_LIMIT = 300  # Slack's limit on a confirmation dialog's text


def approval_buttons(notification: Notification) -> dict[str, Any] | None:
    """The `actions` block for an approval request that names its action; None for anything else, or when
    the ids do not fit a button (the message still carries the CLI and Web UI hints)."""
    if notification.kind is not NotificationKind.APPROVAL_REQUEST:
        return None
    try:
        value = ApprovalButtonValue(
            incident_id=notification.facts.get("incident_id") or notification.incident_id,
            action_id=notification.facts.get("action_id", ""),
        ).compact()
    except ValidationError:
        return None
    if len(value) > VALUE_LIMIT:
        return None
    action = notification.facts.get("action_name") or notification.facts.get("action") or value
    return {
        "type": "actions",
        "block_id": BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE_BUTTON,
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": value,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Approve this action?"},
                    "text": {
                        "type": "plain_text",
                        "text": f"warroom will run: {action}"[:CONFIRM_TEXT_LIMIT],
                    },
                    "confirm": {"type": "plain_text", "text": "Approve"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
            {
                "type": "button",
                "action_id": REJECT_BUTTON,
                "text": {"type": "plain_text", "text": "Reject"},
                "style": "danger",
                "value": value,
            },
        ],
    }
