"""GitHub's `issues` webhook and Jira's issue webhook complete action items, in their real formats
(tests/payloads), through a real intake served by uvicorn and real items on the dev server. A bad signature
changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from pydantic import SecretStr
from temporalio.client import WorkflowHandle

from tests.analysis.helpers import item_input, start_item
from tests.cli.conftest import eventually
from tests.intake.conftest import Intake, payload_json
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.messages.action_items import ItemStatus, normalize_link

GITHUB_SECRET = "github-webhook-secret-0b9e"
JIRA_SECRET = "jira-webhook-secret-71c4"
TRACKERS = {"github_webhook_secret": SecretStr(GITHUB_SECRET), "jira_webhook_secret": SecretStr(JIRA_SECRET)}


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_closed(number: int) -> bytes:
    document = payload_json("github_issue_closed.json")
    document["issue"]["html_url"] = f"https://github.com/acme/inventory/issues/{number}"
    document["issue"]["number"] = number
    return json.dumps(document).encode()


def jira_done(key: str) -> bytes:
    document = payload_json("jira_issue_done.json")
    document["issue"]["key"] = key
    return json.dumps(document).encode()


async def tracked_item(intake: Intake, link: str) -> WorkflowHandle[Any, Any]:
    """A running item tracked by `link`, visible to the intake's lookup (visibility lags a moment)."""
    inp = item_input(datetime.now(UTC), tracking_link=link)
    handle = await start_item(intake.client, intake.settings.task_queue, inp, f"action-item-{uuid4()}")

    async def visible() -> bool:
        query = f'ActionItemLink = "{normalize_link(link)}" AND ExecutionStatus = "Running"'
        return (await intake.client.count_workflows(query)).count == 1

    await eventually(visible)
    return handle


async def post(intake: Intake, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return await intake.http.post(f"{intake.url}{path}", content=body,
                                  headers={"Content-Type": "application/json", **headers})  # fmt: skip


async def test_a_signed_github_issue_closed_completes_the_item_it_tracks(
    make_intake: Callable[..., Any],
) -> None:
    number = random.randrange(10_000, 10_000_000)
    async with make_intake(**TRACKERS) as intake:
        handle = await tracked_item(intake, f"https://github.com/acme/inventory/issues/{number}/")
        body = github_closed(number)
        forged = await post(intake, "/trackers/github", body, {
            "X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid4()),
            "X-Hub-Signature-256": signed(body, "not-the-secret")})  # fmt: skip
        unsigned = await post(intake, "/trackers/github", body, {"X-GitHub-Event": "issues"})
        assert (forged.status_code, unsigned.status_code) == (403, 401)
        assert (await handle.query(ActionItemWorkflow.status)).status is ItemStatus.OPEN  # nothing changed

        delivery = str(uuid4())
        headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery,
                   "X-Hub-Signature-256": signed(body, GITHUB_SECRET)}  # fmt: skip
        answer = await post(intake, "/trackers/github", body, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == [
            {"item_id": handle.id, "outcome": "applied", "reason": "done by github:tom-acme"}
        ]
        view = await handle.result()
        assert view.status is ItemStatus.DONE and view.completed_by == "github:tom-acme"
        assert view.evidence and f"https://github.com/acme/inventory/issues/{number}" in view.evidence

        again = await post(intake, "/trackers/github", body, headers)  # a redelivery: the item has closed
        assert again.status_code == 202 and again.json()["status"] == "no_item"


async def test_github_deliveries_that_close_nothing_are_answered_with_the_reason(
    make_intake: Callable[..., Any],
) -> None:
    async with make_intake(**TRACKERS) as intake:
        opened = payload_json("github_issue_closed.json") | {"action": "reopened"}
        body = json.dumps(opened).encode()
        answer = await post(intake, "/trackers/github", body, {
            "X-GitHub-Event": "issues", "X-Hub-Signature-256": signed(body, GITHUB_SECRET)})  # fmt: skip
        assert answer.status_code == 202 and "does not close" in answer.json()["reason"]
        body = github_closed(random.randrange(10_000_000, 20_000_000))  # nobody tracks this issue
        answer = await post(intake, "/trackers/github", body, {
            "X-GitHub-Event": "issues", "X-Hub-Signature-256": signed(body, GITHUB_SECRET)})  # fmt: skip
        assert answer.status_code == 202 and answer.json()["status"] == "no_item"
        garbage = b'{"action": "closed"}'
        answer = await post(intake, "/trackers/github", garbage, {
            "X-GitHub-Event": "issues", "X-Hub-Signature-256": signed(garbage, GITHUB_SECRET)})  # fmt: skip
        assert answer.status_code == 422 and answer.json()["problems"][0]["field"] == "issue"


async def test_a_jira_issue_moved_to_done_completes_the_item_and_a_bad_signature_changes_nothing(
    make_intake: Callable[..., Any],
) -> None:
    key = f"OPS-{random.randrange(10_000, 10_000_000)}"
    async with make_intake(**TRACKERS) as intake:
        handle = await tracked_item(intake, f"https://acme.atlassian.net/browse/{key}")
        body = jira_done(key)
        forged = await post(intake, "/trackers/jira", body, {"X-Hub-Signature": signed(body, "guess")})
        wrong_query = await post(intake, "/trackers/jira?secret=guess", body, {})
        assert (forged.status_code, wrong_query.status_code) == (403, 403)
        assert (await handle.query(ActionItemWorkflow.status)).status is ItemStatus.OPEN

        answer = await post(intake, "/trackers/jira", body, {
            "X-Hub-Signature": signed(body, JIRA_SECRET), "X-Atlassian-Webhook-Identifier": "17"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"][0]["outcome"] == "applied"
        view = await handle.result()
    assert view.status is ItemStatus.DONE and view.completed_by == "jira:Sam Rivera"
    assert view.evidence and f"https://acme.atlassian.net/browse/{key} moved to Done" in view.evidence


async def test_jira_by_query_secret_and_a_status_outside_done_closes_nothing(
    make_intake: Callable[..., Any],
) -> None:
    key = f"OPS-{random.randrange(10_000, 10_000_000)}"
    async with make_intake(**TRACKERS) as intake:
        handle = await tracked_item(intake, f"https://acme.atlassian.net/browse/{key}")
        document = json.loads(jira_done(key))
        document["issue"]["fields"]["status"]["statusCategory"]["key"] = "indeterminate"
        document["issue"]["fields"]["status"]["name"] = "In Review"
        answer = await post(intake, f"/trackers/jira?secret={JIRA_SECRET}", json.dumps(document).encode(), {})
        assert answer.status_code == 202 and "not in the done category" in answer.json()["reason"]
        answer = await post(intake, f"/trackers/jira?secret={JIRA_SECRET}", jira_done(key), {})
        assert answer.status_code == 200 and answer.json()["items"][0]["item_id"] == handle.id
        assert (await handle.result()).status is ItemStatus.DONE
