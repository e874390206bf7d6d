"""Approve from Slack, end to end: a real incident on the dev server asks for approval of its drain, the
approval request goes out through the real Slack adapter to a local HTTP server playing Slack, and a click on
that message's Approve button comes back to the real intake, signed the way Slack signs, and the drain runs.

The system acted on is the stand-in of tests/workflow/containment_system.py, registered under the real
`run_containment_action` / `observe_health` names (it records each operation): what is proven here is the way
from a Slack click to the action, not an adapter.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.app import create_app
from intake.config import IntakeConfig
from intake.handoff import Handoff
from intake.server import serving
from intake.slack_approvals import FixedSlackPeople, SlackApprovals
from tests.conftest import declared_incident, start_incident, status_when
from tests.notify.conftest import Receiver, notifiers_for
from tests.workflow.containment_system import StandInSystem, worker_with
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import ActionState, ActionView, IncidentStatus

SIGNING_SECRET = "slack-signing-secret-e2e-41f7"
# tom is the shop's tech lead (an allowed approver of the drain); sue is in the roster but may not approve it.
SLACK_MEMBERS = {"U0TOM": "tom", "U0SUE": "sue"}
WEBHOOK_PATH = "/services/T0ACME/B0INC/webhook-token"
RESPONSE_PATH = "/actions/T0ACME/42/response-token"


def drain(status: IncidentStatus) -> ActionView | None:
    return next((action for action in status.actions if action.name == "drain"), None)


def drain_is(*states: ActionState) -> Any:
    return lambda status: (found := drain(status)) is not None and found.state in states


@dataclass
class Slack:
    """The local HTTP server playing Slack: the incoming webhook and the response_url of a click."""

    server: Receiver

    def posted(self, path: str) -> list[dict[str, Any]]:
        return [request.json() for request in self.server.requests if request.path == path]

    async def approval_message(self) -> dict[str, Any]:
        """The approval request the incident sent, once it has arrived (bounded wait)."""
        async with asyncio.timeout(20):
            while True:
                for message in self.posted(WEBHOOK_PATH):
                    blocks = message["attachments"][0]["blocks"]
                    if any(block["type"] == "actions" for block in blocks):
                        return message
                await asyncio.sleep(0.05)

    async def replies(self, count: int) -> list[str]:
        async with asyncio.timeout(20):
            while len(self.posted(RESPONSE_PATH)) < count:  # noqa: ASYNC110 - another thread's server records
                await asyncio.sleep(0.05)
        return [reply["text"] for reply in self.posted(RESPONSE_PATH)]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    [actions] = [block for block in message["attachments"][0]["blocks"] if block["type"] == "actions"]
    found: dict[str, Any] = next(
        element for element in actions["elements"] if element["action_id"] == action_id
    )
    return found


def slack_click(pressed: dict[str, Any], member: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    """What Slack posts to the Interactivity Request URL when `member` clicks `pressed`, signed like Slack."""
    payload = {
        "type": "block_actions",
        "user": {"id": member, "username": member.lower(), "team_id": "T0ACME"},
        "api_app_id": "A0WARROOM",
        "container": {"type": "message", "message_ts": "1764547200.000100", "channel_id": "C0INC"},
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": "T0ACME", "domain": "acme"},
        "channel": {"id": "C0INC", "name": "incidents"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": pressed["action_id"],
                "block_id": "warroom_approval",
                "text": pressed["text"],
                "value": pressed["value"],
                "style": pressed.get("style"),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={signature.hexdigest()}",
    }


@pytest.fixture
def slack(httpserver: HTTPServer) -> Slack:
    server = Receiver(httpserver)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(server.handle)
    return Slack(server)


@pytest.fixture
async def intake_url(dev_env: WorkflowEnvironment, settings: Settings, slack: Slack) -> AsyncIterator[str]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(slack.server.url("/")))
    config = IntakeConfig(tokens=(SecretStr("intake-token"),), slack_signing_secret=SecretStr(SIGNING_SECRET))
    approvals = SlackApprovals(FixedSlackPeople(SLACK_MEMBERS), response_origins=frozenset({origin}))
    app = create_app(config, Handoff(dev_env.client, settings.task_queue, timedelta(0)), slack=approvals)
    async with serving(app, "127.0.0.1", 0) as url:
        yield url


async def close(handle: WorkflowHandle[Any, Any]) -> None:
    await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
    await handle.signal(IncidentWorkflow.override_recovery, {"by": "tom", "reason": "test ends here"})
    await asyncio.wait_for(handle.result(), 60)


async def test_a_click_on_approve_in_slack_runs_the_pending_drain_as_the_verified_approver(
    dev_env: WorkflowEnvironment, settings: Settings, slack: Slack, intake_url: str
) -> None:
    client, system = dev_env.client, StandInSystem()
    # The test policy's channel is named "console"; here it is a real Slack webhook channel.
    slack_channel = notifiers_for(
        {"console": {"type": "slack", "webhook_url": slack.server.url(WEBHOOK_PATH)}}
    )
    async with worker_with(client, settings, system, slack_channel["console"]), httpx.AsyncClient() as http:
        handle = await start_incident(
            client, settings, declared_incident(service="shop", severity=Severity.SEV2)
        )
        pending = await status_when(handle, drain_is(ActionState.AWAITING_APPROVAL), seconds=30)
        assert drain(pending) is not None and "drain" not in [call.operation for call in system.calls]

        approve = button(await slack.approval_message(), "warroom_approve")
        response_url = slack.server.url(RESPONSE_PATH)

        # sue's click is verified, but she may not approve a drain: the incident refuses, nothing runs.
        body, headers = slack_click(approve, "U0SUE", response_url)
        refused = await http.post(f"{intake_url}/slack/interactivity", content=body, headers=headers)
        assert refused.status_code == 200 and refused.json()["status"] == "rejected", refused.text
        assert "sue" in refused.json()["text"]
        # tom's click approves it, as tom: the approver comes from Slack's signed user id, not from the message.
        body, headers = slack_click(approve, "U0TOM", response_url)
        approved = await http.post(f"{intake_url}/slack/interactivity", content=body, headers=headers)
        assert approved.status_code == 200 and approved.json()["status"] == "applied", approved.text

        status = await status_when(handle, drain_is(ActionState.SUCCEEDED), seconds=30)
        ran = drain(status)
        assert ran is not None and ran.state is ActionState.SUCCEEDED
        assert [(approval.by, approval.decision) for approval in ran.approvals] == [("tom", "approved")]
        assert "Slack user U0TOM" in (ran.approvals[0].reason or "")
        assert [call.operation for call in system.calls].count("drain") == 1
        first, second = await slack.replies(2)
        assert first.startswith("approve_action rejected") and second.startswith("approve_action applied")
        await close(handle)
