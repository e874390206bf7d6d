"""The approval request in Slack carries Approve / Reject buttons, posted to a real local HTTP server playing
Slack's incoming webhook. The button value is what the intake's Slack route reads back (same contract)."""

from __future__ import annotations

import json
from typing import Any

from tests.notify.conftest import Receiver, notifiers_for
from workflows.messages.approval_buttons import ApprovalButtonValue
from workflows.messages.common import Severity
from workflows.messages.notifications import Notification, NotificationKind

WEBHOOK_SECRET_PATH = "/services/T1/B1/s3cr3t-webhook-token"


def approval_request(**facts: str) -> Notification:
    return Notification(
        idempotency_key="incident-db/approval/a2/chan",
        incident_id="incident-db",
        kind=NotificationKind.APPROVAL_REQUEST,
        channel="chan",
        recipients=["tom"],
        severity=Severity.SEV2,
        service="checkout",
        subject="[SEV-2] checkout: approve drain of region eu?",
        body="drain_region (haproxy drain shop/eu) waits for tom's approval.",
        facts={
            "incident_id": "incident-db",
            "action_id": "a2",
            "action_name": "drain_region <!channel>",
            "approve_hint": 'approve_action {"by": "<you>", "action_id": "a2", "reason": "..."}',
        }
        | facts,
    )


async def posted_blocks(receiver: Receiver, notification: Notification) -> list[dict[str, Any]]:
    notifier = notifiers_for({"chan": {"type": "slack", "webhook_url": receiver.url(WEBHOOK_SECRET_PATH)}})
    result = await notifier["chan"].send(notification)
    assert result.delivered
    [request] = receiver.requests
    blocks: list[dict[str, Any]] = request.json()["attachments"][0]["blocks"]
    return blocks


async def test_an_approval_request_has_approve_and_reject_buttons_naming_incident_and_action(
    receiver: Receiver,
) -> None:
    blocks = await posted_blocks(receiver, approval_request())

    actions = blocks[-1]
    assert actions["type"] == "actions"
    approve, reject = actions["elements"]
    assert (approve["type"], approve["action_id"], approve["style"]) == (
        "button",
        "warroom_approve",
        "primary",
    )
    assert (reject["type"], reject["action_id"], reject["style"]) == ("button", "warroom_reject", "danger")
    assert approve["text"] == {"type": "plain_text", "text": "Approve"}
    # The value is compact JSON of the ids and nothing else: no approver, no webhook token.
    assert approve["value"] == reject["value"] == '{"incident_id":"incident-db","action_id":"a2"}'
    assert ApprovalButtonValue.model_validate_json(approve["value"]).action_id == "a2"
    # Approving asks for confirmation; the confirmation is plain_text, so "<!channel>" stays inert text.
    confirm = approve["confirm"]
    assert {confirm[key]["type"] for key in ("title", "text", "confirm", "deny")} == {"plain_text"}
    assert "drain_region" in confirm["text"]["text"]
    assert "s3cr3t-webhook-token" not in json.dumps(blocks)
    # The CLI / Web UI hint stays beside the buttons for those not in Slack's roster.
    assert any(block["type"] == "context" for block in blocks)


async def test_a_page_has_no_buttons(receiver: Receiver) -> None:
    page = approval_request().model_copy(update={"kind": NotificationKind.PAGE})

    blocks = await posted_blocks(receiver, page)

    assert all(block["type"] != "actions" for block in blocks)


async def test_an_approval_request_without_an_action_id_keeps_the_hints_and_has_no_buttons(
    receiver: Receiver,
) -> None:
    blocks = await posted_blocks(receiver, approval_request(action_id=""))

    assert all(block["type"] != "actions" for block in blocks)
    assert blocks[-1]["type"] == "context"


async def test_ids_too_long_for_a_button_value_leave_the_buttons_out(receiver: Receiver) -> None:
    blocks = await posted_blocks(receiver, approval_request(incident_id="incident-" + "x" * 1990))

    assert all(block["type"] != "actions" for block in blocks)
