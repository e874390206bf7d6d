"""`POST /slack/interactivity` on a real intake (uvicorn) against the real dev server, with a real local HTTP
server as Slack's `response_url`.

Requests are built the way Slack builds them: a form body `payload=<block_actions JSON>`, signed with the
app's signing secret over `v0:<timestamp>:<body>` (computed here with hmac, independently of the intake).

The incident is a stand-in workflow (`SlackApprovalProbe`) that records every update and signal it receives:
it proves what reached Temporal, and that a refused request sent nothing at all. The end-to-end test with the
real IncidentWorkflow, its pending action and the action running is tests/e2e/test_slack_approval.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import uuid4

import httpx
import pytest
import yaml
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RawValue
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.settings import Settings
from intake.app import create_app
from intake.config import IntakeConfig
from intake.handoff import Handoff
from intake.server import serving
from intake.slack_approvals import FixedSlackPeople, SlackApprovals
from tests.cli.conftest import inherited_env
from tests.conftest import TEST_POLICY, free_port, write_policy
from tests.notify.conftest import Receiver
from workflows.messages.commands import CommandVerdict

SIGNING_SECRET = "slack-signing-secret-5e0c1d9a"
PEOPLE = {"U0TOM": "tom", "U0OLIVIA": "olivia"}


@workflow.defn(name="SlackApprovalProbe", sandboxed=False)
class SlackApprovalProbe:
    """Records every update and signal, whatever its name; answers the two approval updates with a verdict."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update(name="approve_action")
    async def approve_action(self, command: dict[str, Any]) -> CommandVerdict:
        self.received.append({"name": "approve_action", **command})
        return CommandVerdict(
            command="approve_action", outcome="applied", reason=f"approved by {command['by']}"
        )

    @workflow.update(name="reject_action")
    async def reject_action(self, command: dict[str, Any]) -> CommandVerdict:
        self.received.append({"name": "reject_action", **command})
        return CommandVerdict(
            command="reject_action", outcome="applied", reason=f"rejected by {command['by']}"
        )

    @workflow.update(dynamic=True)
    async def any_update(self, name: str, args: Sequence[RawValue]) -> None:
        self.received.append({"name": name})

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self.received.append({"name": name})

    @workflow.query
    def commands(self) -> list[dict[str, Any]]:
        return self.received


@dataclass
class SlackIntake:
    url: str
    http: httpx.AsyncClient
    client: Client
    replies: Receiver
    response_url: str

    async def click(
        self,
        incident_id: str,
        user: str = "U0TOM",
        button: str = "warroom_approve",
        secret: str = SIGNING_SECRET,
        age: int = 0,
        action_id: str = "a2",
    ) -> httpx.Response:
        payload = block_actions(incident_id, action_id, user, button, self.response_url)
        body, headers = signed(payload, secret, int(time.time()) - age)
        return await self.http.post(f"{self.url}/slack/interactivity", content=body, headers=headers)

    async def replies_received(self, count: int) -> list[str]:
        """The ephemeral messages posted back to response_url (after the HTTP answer: bounded wait)."""
        async with asyncio.timeout(10):
            while len(self.replies.requests) < count:  # noqa: ASYNC110 - another thread's server records
                await asyncio.sleep(0.02)
        return [request.json()["text"] for request in self.replies.requests]


def block_actions(
    incident_id: str, action_id: str, user: str, button: str, response_url: str
) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it for a click on one of warroom's buttons."""
    value = json.dumps({"incident_id": incident_id, "action_id": action_id}, separators=(",", ":"))
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0ACME"},
        "api_app_id": "A0WARROOM",
        "token": "legacy-verification-token-unused",
        "container": {"type": "message", "message_ts": "1764547200.000100", "channel_id": "C0INC", "is_ephemeral": False},
        "trigger_id": f"{uuid4().int % 10**13}.1.abc",
        "team": {"id": "T0ACME", "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": "C0INC", "name": "incidents"},
        "message": {"type": "message", "text": "approval", "ts": "1764547200.000100"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": button,
                "block_id": "warroom_approval",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": value,
                "style": "primary",
                "type": "button",
                "action_ts": f"{time.time():.6f}-{uuid4().hex[:6]}",
            }
        ],
    }  # fmt: skip


def signed(payload: dict[str, Any], secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


@pytest.fixture
def make_slack_intake(
    dev_env: WorkflowEnvironment, settings: Settings, httpserver: HTTPServer
) -> Callable[..., AbstractAsyncContextManager[SlackIntake]]:
    """`async with make_slack_intake(**SlackApprovals options) as intake:` served, with a probe worker."""

    @asynccontextmanager
    async def start(**options: Any) -> AsyncIterator[SlackIntake]:
        replies = Receiver(httpserver)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(replies.handle)
        response_url = httpserver.url_for("/actions/T0ACME/1234/response-token")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(response_url))
        config = IntakeConfig(
            tokens=(SecretStr("intake-token"),), slack_signing_secret=SecretStr(SIGNING_SECRET)
        )
        handoff = Handoff(dev_env.client, settings.task_queue, timedelta(0))
        approvals = SlackApprovals(FixedSlackPeople(PEOPLE), response_origins=frozenset({origin}), **options)
        app = create_app(config, handoff, slack=approvals)
        async with (
            Worker(dev_env.client, task_queue=settings.task_queue, workflows=[SlackApprovalProbe]),
            serving(app, "127.0.0.1", 0) as url,
            httpx.AsyncClient(timeout=20) as http,
        ):
            yield SlackIntake(url, http, dev_env.client, replies, response_url)

    return start


@pytest.fixture
async def slack_intake(
    make_slack_intake: Callable[..., AbstractAsyncContextManager[SlackIntake]],
) -> AsyncIterator[SlackIntake]:
    async with make_slack_intake() as running:
        yield running


@pytest.fixture
async def incident(slack_intake: SlackIntake, settings: Settings) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    handle = await slack_intake.client.start_workflow(
        SlackApprovalProbe.run, id=f"incident-slack-{uuid4()}", task_queue=settings.task_queue
    )
    yield handle
    with contextlib.suppress(RPCError):  # a test may have closed it already
        await handle.terminate("test over")


async def commands_of(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = await handle.query(SlackApprovalProbe.commands)
    return received


async def update_events(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return sum(
        1
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
        or event.HasField("workflow_execution_signaled_event_attributes")
    )


async def test_a_signed_approve_click_sends_approve_action_as_the_roster_person(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    answer = await slack_intake.click(incident.id, user="U0TOM")

    assert answer.status_code == 200, answer.text
    assert answer.json() | {"text": ""} == {
        "status": "applied", "text": "", "incident_id": incident.id, "action_id": "a2", "by": "tom",
    }  # fmt: skip
    [command] = await commands_of(incident)
    assert command["name"] == "approve_action"
    assert (command["by"], command["action_id"]) == ("tom", "a2")  # the roster name, not the Slack handle
    assert command["command_id"].startswith("slack/U0TOM/") and "U0TOM" in command["reason"]
    [reply] = await slack_intake.replies_received(1)
    assert reply == "approve_action applied: approved by tom"
    [posted] = slack_intake.replies.requests
    assert posted.json()["response_type"] == "ephemeral" and posted.json()["replace_original"] is False


async def test_a_verdict_slower_than_slacks_patience_is_answered_sent_and_follows_in_slack(
    make_slack_intake: Callable[..., AbstractAsyncContextManager[SlackIntake]], settings: Settings
) -> None:
    async with make_slack_intake(answer_within=0) as slack_intake:  # the incident can never be quick enough
        incident = await slack_intake.client.start_workflow(
            SlackApprovalProbe.run, id=f"incident-slack-{uuid4()}", task_queue=settings.task_queue
        )

        answer = await slack_intake.click(incident.id)

        assert answer.status_code == 200 and answer.json()["status"] == "sent"
        assert "has not answered yet" in answer.json()["text"]
        [reply] = await slack_intake.replies_received(1)
        assert reply == "approve_action applied: approved by tom"
        assert [command["by"] for command in await commands_of(incident)] == ["tom"]
        await incident.terminate("test over")


async def test_a_reject_click_sends_reject_action(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    answer = await slack_intake.click(incident.id, user="U0OLIVIA", button="warroom_reject")

    assert answer.status_code == 200 and answer.json()["by"] == "olivia"
    [command] = await commands_of(incident)
    assert (command["name"], command["by"]) == ("reject_action", "olivia")


async def test_the_same_signed_request_sent_twice_reaches_the_incident_once(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    """A replay within the 5-minute window (or Slack re-sending) carries the same click: one update id."""
    payload = block_actions(incident.id, "a2", "U0TOM", "warroom_approve", slack_intake.response_url)
    body, headers = signed(payload, SIGNING_SECRET, int(time.time()))

    first = await slack_intake.http.post(
        f"{slack_intake.url}/slack/interactivity", content=body, headers=headers
    )
    again = await slack_intake.http.post(
        f"{slack_intake.url}/slack/interactivity", content=body, headers=headers
    )

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "applied"
    assert len(await commands_of(incident)) == 1


@pytest.mark.parametrize(
    ("click", "status", "field"),
    [
        ({"secret": "not-the-apps-signing-secret"}, 401, "X-Slack-Signature"),
        ({"age": 6 * 60}, 401, "X-Slack-Request-Timestamp"),
        ({"user": "U0MALLORY"}, 403, "payload.user.id"),
    ],
    ids=["bad-signature", "old-timestamp", "unknown-slack-user"],
)
async def test_a_refused_click_sends_nothing_to_the_incident(
    slack_intake: SlackIntake,
    incident: WorkflowHandle[Any, Any],
    click: dict[str, Any],
    status: int,
    field: str,
) -> None:
    missing = f"incident-never-{uuid4()}"

    answer = await slack_intake.click(incident.id, **click)
    elsewhere = await slack_intake.click(missing, **click)

    assert answer.status_code == elsewhere.status_code == status
    refusal = answer.json()
    assert refusal["status"] == "rejected" and refusal["problems"][0]["field"] == field
    assert SIGNING_SECRET not in answer.text
    # Nothing reached the running incident (its handlers record any update or signal by any name) ...
    assert await commands_of(incident) == [] and await update_events(incident) == 0
    # ... and nothing was started for the one that does not exist.
    with pytest.raises(RPCError):
        await slack_intake.client.get_workflow_handle(missing).describe()


async def test_an_unknown_slack_user_is_told_why_in_slack(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    answer = await slack_intake.click(incident.id, user="U0MALLORY")

    assert answer.status_code == 403 and "not in warroom's roster" in answer.json()["error"]
    [reply] = await slack_intake.replies_received(1)
    assert reply.startswith("Not sent: Slack user U0MALLORY is not in warroom's roster")


async def test_a_click_for_an_incident_that_is_not_open_is_answered_not_sent(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    await commands_of(incident)  # its first workflow task is done: terminating now is a clean close
    await incident.terminate("closed before the click")

    answer = await slack_intake.click(incident.id)

    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
    assert "is not open" in answer.json()["text"]


async def test_a_form_that_is_not_slacks_payload_is_refused_after_the_signature(
    slack_intake: SlackIntake, incident: WorkflowHandle[Any, Any]
) -> None:
    timestamp = int(time.time())
    body = b"payload=%7B%22type%22%3A%22block_actions%22%7D"  # no user, no actions
    base = f"v0:{timestamp}:".encode() + body
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest(),
    }

    answer = await slack_intake.http.post(
        f"{slack_intake.url}/slack/interactivity", content=body, headers=headers
    )

    assert answer.status_code == 422 and answer.json()["problems"][0]["field"] == "payload.user"
    assert await commands_of(incident) == []


async def test_warroom_intake_takes_the_secret_from_the_secrets_file_and_people_from_the_policy(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """The real `warroom intake` process, configured the way an operator does it."""
    policy: dict[str, Any] = yaml.safe_load(TEST_POLICY.read_text())
    policy["roster"]["people"]["tom"]["slack_user_id"] = "U0TOM"
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"WARROOM_INTAKE_SLACK_SIGNING_SECRET={SIGNING_SECRET}\n", encoding="utf-8")
    port = free_port()
    log = (tmp_path / "intake.out").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", "intake", stdout=log, stderr=asyncio.subprocess.STDOUT,
        env={**inherited_env(), "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
             "WARROOM_TASK_QUEUE": settings.task_queue, "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{port}",
             "WARROOM_INTAKE_TOKEN": "intake-token", "WARROOM_METRICS_ADDRESS": "",
             "WARROOM_POLICY": str(write_policy(tmp_path / "policy.yaml", policy)),
             "WARROOM_SECRETS_FILE": str(secrets)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/slack/interactivity"
    try:
        async with (
            Worker(dev_env.client, task_queue=settings.task_queue, workflows=[SlackApprovalProbe]),
            httpx.AsyncClient(timeout=20) as http,
        ):
            incident = await dev_env.client.start_workflow(
                SlackApprovalProbe.run, id=f"incident-slack-{uuid4()}", task_queue=settings.task_queue
            )
            async with asyncio.timeout(20):
                while True:
                    assert process.returncode is None, (tmp_path / "intake.out").read_text()
                    with contextlib.suppress(httpx.TransportError):
                        if (
                            await http.get(url.replace("/slack/interactivity", "/healthz"))
                        ).status_code == 200:
                            break
                    await asyncio.sleep(0.1)

            # response_url left empty: the process only ever replies to hooks.slack.com, not reachable here.
            stranger = signed(block_actions(incident.id, "a1", "U0TOM2", "warroom_approve", ""),
                              SIGNING_SECRET, int(time.time()))  # fmt: skip
            refused = await http.post(url, content=stranger[0], headers=stranger[1])
            tom = signed(block_actions(incident.id, "a1", "U0TOM", "warroom_approve", ""),
                         SIGNING_SECRET, int(time.time()))  # fmt: skip
            applied = await http.post(url, content=tom[0], headers=tom[1])

            assert refused.status_code == 403, refused.text
            assert applied.status_code == 200 and applied.json()["by"] == "tom", applied.text
            assert [command["by"] for command in await commands_of(incident)] == ["tom"]
            await incident.terminate("test over")
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    assert SIGNING_SECRET not in (tmp_path / "intake.out").read_text()
