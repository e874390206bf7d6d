"""Issue trackers close action items: GitHub's `issues` webhook and Jira's issue webhook.

A verified delivery that says an issue is done completes every running ActionItemWorkflow whose tracking link
is that issue (found through visibility: the ActionItemLink search attribute holds the normalized link), with
the issue as evidence. The `complete` update carries the tracker's delivery id as command id, so a redelivery
is a no-op. Deliveries that close nothing (another action, an issue nobody tracks) are answered 202 with the
reason: most issues of a repository are not action items, and a 404 would mark every such delivery failed in
the tracker's UI. A bad or missing signature is 401/403 and nothing is read or sent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError

from intake import auth
from intake.body import read_body
from intake.config import IntakeConfig
from intake.errors import IntakeError, RetryLater
from workflows.messages.action_items import CompleteItem, normalize_link
from workflows.messages.commands import CommandVerdict
from workflows.search_attributes import ACTION_ITEM_LINK

GITHUB_SIGNATURE = "X-Hub-Signature-256"
JIRA_SIGNATURE = "X-Hub-Signature"
ITEM_WORKFLOW = "ActionItemWorkflow"
RPC_TIMEOUT = timedelta(seconds=10)
log = logging.getLogger("warroom.intake")


@dataclass(frozen=True)
class Closure:
    """A tracker says this issue is done."""

    link: str
    by: str
    evidence: str
    delivery: str


@dataclass(frozen=True)
class Ignored:
    reason: str


def _object(document: Any, field: str) -> dict[str, Any]:
    value = document.get(field) if isinstance(document, dict) else None
    if not isinstance(value, dict):
        raise IntakeError(422, field, "missing or not an object")
    return value


def _optional(document: dict[str, Any], field: str) -> dict[str, Any]:
    value = document.get(field)
    return value if isinstance(value, dict) else {}


def _text(document: dict[str, Any], field: str, path: str) -> str:
    value = document.get(field)
    if not isinstance(value, str) or not value:
        raise IntakeError(422, path, "missing or not a string")
    return value


def github_closure(event: str | None, document: Any, delivery: str) -> Closure | Ignored:
    """GitHub `issues` event with action `closed` (as completed); anything else is ignored with the reason."""
    if event == "ping":
        return Ignored("ping received: the webhook reaches warroom")
    if event != "issues":
        return Ignored(f"event {event!r} is not handled; subscribe this webhook to 'Issues' only")
    action = document.get("action") if isinstance(document, dict) else None
    issue = _object(document, "issue")
    if action != "closed":
        return Ignored(f"action {action!r} does not close an action item")
    if issue.get("state_reason") == "not_planned":
        return Ignored(
            "closed as not planned: the item stays open (cancel it with warroom action-items cancel)"
        )
    link = _text(issue, "html_url", "issue.html_url")
    sender = _optional(document, "sender")
    login = sender.get("login") if isinstance(sender.get("login"), str) else "github"
    closed_at = issue.get("closed_at") or "now"
    title = issue.get("title") if isinstance(issue.get("title"), str) else ""
    return Closure(link=link, by=f"github:{login}"[:200],
                   evidence=f"GitHub issue {link} ({title}) closed by {login} at {closed_at}"[:2000],
                   delivery=f"github:{delivery}")  # fmt: skip


def jira_closure(document: Any, delivery: str) -> Closure | Ignored:
    """Jira `jira:issue_updated` whose status moved into the done category; anything else is ignored."""
    event = document.get("webhookEvent") if isinstance(document, dict) else None
    if event != "jira:issue_updated":
        return Ignored(f"webhookEvent {event!r} does not close an action item")
    issue = _object(document, "issue")
    fields = _object(issue, "fields")
    status = _object(fields, "status")
    category = _optional(status, "statusCategory")
    if category.get("key") != "done":
        return Ignored(f"status {status.get('name')!r} is not in the done category")
    items = _optional(document, "changelog").get("items")
    if not isinstance(items, list) or not any(
        isinstance(i, dict) and i.get("field") == "status" for i in items
    ):
        return Ignored("the status did not change in this update")
    key = _text(issue, "key", "issue.key")
    api = urlsplit(_text(issue, "self", "issue.self"))
    link = f"{api.scheme}://{api.netloc}/browse/{key}"
    user = _optional(document, "user")
    name = user.get("displayName") or user.get("accountId") or "jira"
    return Closure(link=link, by=f"jira:{name}"[:200],
                   evidence=f"Jira issue {link} moved to {status.get('name')} by {name}"[:2000],
                   delivery=f"jira:{delivery or document.get('timestamp', '')}:{key}")  # fmt: skip


class ItemCloser:
    """Finds running action items by tracking link (visibility) and sends each the `complete` update."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def close(self, closure: Closure) -> list[dict[str, str]]:
        link = normalize_link(closure.link)
        escaped = link.replace("\\", "\\\\").replace('"', '\\"')
        query = (f"WorkflowType = '{ITEM_WORKFLOW}' AND ExecutionStatus = 'Running' "
                 f'AND {ACTION_ITEM_LINK.name} = "{escaped}"')  # fmt: skip
        try:
            ids = [
                execution.id async for execution in self.client.list_workflows(query, rpc_timeout=RPC_TIMEOUT)
            ]
        except (RPCError, TemporalError) as error:
            raise RetryLater(f"Temporal visibility did not answer: {error}") from None
        command = CompleteItem(by=closure.by, evidence=closure.evidence, command_id=closure.delivery[:200])
        return [await self._complete(item_id, command) for item_id in ids]

    async def _complete(self, item_id: str, command: CompleteItem) -> dict[str, str]:
        handle = self.client.get_workflow_handle(item_id)
        try:
            verdict = await handle.execute_update("complete", command, result_type=CommandVerdict,
                                                  rpc_timeout=RPC_TIMEOUT)  # fmt: skip
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
            return {"item_id": item_id, "outcome": "rejected", "reason": reason}
        except RPCError as error:
            return {"item_id": item_id, "outcome": "rejected", "reason": f"not completed: {error.message}"}
        return {"item_id": item_id, "outcome": verdict.outcome, "reason": verdict.reason}


def tracker_routes(config: IntakeConfig, closer: ItemCloser) -> list[Route]:
    async def github(request: Request) -> Response:
        raw = await read_body(request, config.max_body_bytes)
        auth.require_hub_signature(
            request.headers, raw, config.github_webhook_secret, GITHUB_SIGNATURE, "GitHub"
        )
        found = github_closure(request.headers.get("X-GitHub-Event"), _json(raw),
                               request.headers.get("X-GitHub-Delivery", ""))  # fmt: skip
        return await _answer("github", found, closer)

    async def jira(request: Request) -> Response:
        raw = await read_body(request, config.max_body_bytes)
        if request.headers.get(JIRA_SIGNATURE):
            auth.require_hub_signature(
                request.headers, raw, config.jira_webhook_secret, JIRA_SIGNATURE, "Jira"
            )
        else:
            auth.require_query_secret(request.query_params.get("secret"), config.jira_webhook_secret, "Jira")
        found = jira_closure(_json(raw), request.headers.get("X-Atlassian-Webhook-Identifier", ""))
        return await _answer("jira", found, closer)

    return [
        Route("/trackers/github", _guarded(github), methods=["POST"], name="github-issues"),
        Route("/trackers/jira", _guarded(jira), methods=["POST"], name="jira-issues"),
    ]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IntakeError(400, "body", "not JSON") from None


async def _answer(tracker: str, found: Closure | Ignored, closer: ItemCloser) -> Response:
    if isinstance(found, Ignored):
        log.info("tracker %s: ignored (%s)", tracker, found.reason)
        return JSONResponse({"status": "ignored", "reason": found.reason}, status_code=202)
    items = await closer.close(found)
    log.info("tracker %s: %s closed, %d item(s)", tracker, found.link, len(items))
    if not items:
        return JSONResponse(
            {"status": "no_item", "link": normalize_link(found.link),
             "reason": "no open action item is tracked by this issue; nothing was changed"},
            status_code=202,
        )  # fmt: skip
    return JSONResponse(
        {"status": "accepted", "link": normalize_link(found.link), "items": items}, status_code=200
    )


def _guarded(handler: Any) -> Any:
    async def guarded(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except IntakeError as error:
            log.info("tracker refused: %s %s", error.status, error.problems[0][0])
            return error.response()
        except RetryLater as error:
            return JSONResponse({"status": "unavailable", "error": f"{error}; retry later"}, status_code=503,
                                headers={"Retry-After": "5"})  # fmt: skip
        return response

    return guarded
