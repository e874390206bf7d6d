"""`POST /slack/interactivity`: an Approve or Reject click in Slack becomes `approve_action` / `reject_action` on
the incident, sent as an update so the incident's verdict can be shown back to the person who clicked.

This is the one approval path with a verified identity: Slack's signature proves the request came from Slack
unchanged and fresh (intake/slack_signature.py), Slack vouches for the clicking member id, and the roster maps
that id to a person (`people.<name>.slack_user_id`). The approver is that person; nothing in the message or the
button can name someone else. Whether that person may approve this action is still the incident's decision.

Every refusal (no or bad signature, old timestamp, unknown Slack user, malformed payload) is answered before
the first Temporal call, so a refused request sends nothing to any workflow.

Slack waits 3 seconds for the HTTP answer and shows nothing of its body for a button, so the verdict also goes
to the `response_url` of the signed request, as a message only the clicking person sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError, RPCStatusCode

from intake.body import read_body
from intake.config import IntakeConfig
from intake.errors import IntakeError
from intake.handoff import RPC_TIMEOUT, TemporalUnavailable
from intake.slack_interactivity import ButtonPress, read_button_press
from intake.slack_signature import require_slack_signature
from workflows.messages.commands import CommandVerdict

PATH = "/slack/interactivity"
SLACK_RESPONSE_ORIGINS = frozenset({"https://hooks.slack.com"})
ANSWER_WITHIN_SECONDS = 2.0  # Slack gives up on the HTTP answer after 3 s
REPLY_WITHIN_SECONDS = 60.0  # a slower verdict still reaches the clicking person through response_url
RESPONSE_URL_TIMEOUT = 5.0
log = logging.getLogger("warroom.intake.slack")


class SlackPeople(Protocol):
    """Who a Slack member is in the roster; the worker side builds it from the policy's people."""

    def person_for(self, slack_user_id: str) -> str | None: ...


class FixedSlackPeople:
    """A mapping known up front (tests, a single policy read)."""

    def __init__(self, people: Mapping[str, str]) -> None:
        self._people = dict(people)

    def person_for(self, slack_user_id: str) -> str | None:
        return self._people.get(slack_user_id)


@dataclass
class SlackApprovals:
    people: SlackPeople
    response_origins: frozenset[str] = SLACK_RESPONSE_ORIGINS
    answer_within: float = ANSWER_WITHIN_SECONDS
    reply_within: float = REPLY_WITHIN_SECONDS
    _pending: set[asyncio.Task[Any]] = field(default_factory=set)

    def hold(self, task: asyncio.Task[Any]) -> None:
        """Keep a reference to a command still on its way (asyncio keeps only weak ones) until it ends."""
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


async def receive_slack_action(
    request: Request, config: IntakeConfig, client: Client, approvals: SlackApprovals | None
) -> Response:
    press: ButtonPress | None = None
    try:
        raw = await read_body(request, config.max_body_bytes)
        require_slack_signature(request.headers, raw, config.slack_signing_secret)
        if approvals is None:
            raise IntakeError(403, "path", "Slack approvals are not set up on this intake (no roster)")
        press = read_button_press(raw)
        if press is None:
            return JSONResponse({"status": "ignored", "text": "not a warroom approval button"})
        person = approvals.people.person_for(press.slack_user_id)
        if person is None:
            raise IntakeError(
                403,
                "payload.user.id",
                f"Slack user {press.slack_user_id} is not in warroom's roster; add "
                f"`slack_user_id: {press.slack_user_id}` to that person in the policy (people.<name>)",
            )
        return await _decide(client, approvals, press, person)
    except IntakeError as error:
        log.info("slack interactivity refused: %s %s", error.status, error.problems[0][0])
        response = error.response()
        if press is not None and approvals is not None:  # only a verified request earns a reply in Slack
            response.background = BackgroundTask(
                _reply_in_slack, approvals, press.response_url, f"Not sent: {error.problems[0][1]}"
            )
        return response


async def _decide(client: Client, approvals: SlackApprovals, press: ButtonPress, person: str) -> Response:
    sending = asyncio.ensure_future(_send(client, press, person))
    done, _ = await asyncio.wait({sending}, timeout=approvals.answer_within)
    if sending not in done:  # the incident is slow to answer: say so now, reply in Slack when it has
        approvals.hold(sending)
        text = f"{press.command} sent for {person}; the incident has not answered yet"
        body = _answer("sent", text, press, person)
        return JSONResponse(body, background=BackgroundTask(_reply_later, approvals, press, sending))
    try:
        verdict = sending.result()
    except TemporalUnavailable as error:
        log.warning("slack interactivity: 503, %s", error)
        text = f"{error}; nothing was sent, click again later"
        return JSONResponse(
            {"status": "unavailable", "error": text},
            status_code=503,
            headers={"Retry-After": "5"},
            background=BackgroundTask(_reply_in_slack, approvals, press.response_url, text),
        )
    text = _verdict_text(verdict)
    log.info("slack %s by %s on %s: %s", press.command, person, press.target.incident_id, verdict.outcome)
    return JSONResponse(
        _answer(verdict.outcome, text, press, person),
        background=BackgroundTask(_reply_in_slack, approvals, press.response_url, text),
    )


async def _send(client: Client, press: ButtonPress, person: str) -> CommandVerdict:
    """The update, with the click as its update id: Temporal answers a repeated click with the first outcome."""
    handle = client.get_workflow_handle(press.target.incident_id)
    button = "Approve" if press.command == "approve_action" else "Reject"
    command = {
        "by": person,
        "action_id": press.target.action_id,
        "reason": f"clicked {button} in Slack (Slack user {press.slack_user_id})",
        "command_id": press.click_id,
    }
    try:
        update = await handle.start_update(
            press.command,
            command,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            id=press.click_id,
            result_type=CommandVerdict,
            rpc_timeout=RPC_TIMEOUT,
        )
        verdict: CommandVerdict = await update.result()
    except WorkflowUpdateFailedError as error:  # the incident refused it (validator): nothing was applied
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        return CommandVerdict(command=press.command, outcome="rejected", reason=reason)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            reason = f"{press.target.incident_id} is not open (closed, or no such incident)"
            return CommandVerdict(command=press.command, outcome="rejected", reason=reason)
        raise TemporalUnavailable(f"Temporal refused the command ({error.status.name})") from None
    except (TemporalError, RuntimeError) as error:  # RuntimeError: the SDK's "Failed client connect"
        raise TemporalUnavailable(f"Temporal is unreachable ({type(error).__name__})") from None
    return verdict


async def _reply_later(approvals: SlackApprovals, press: ButtonPress, sending: asyncio.Task[Any]) -> None:
    try:
        async with asyncio.timeout(approvals.reply_within):
            verdict = await asyncio.shield(sending)
    except TimeoutError:
        text = f"{press.command}: no verdict from {press.target.incident_id} yet; check `warroom status`"
    except TemporalUnavailable as error:
        text = f"{error}; click again later"
    else:
        text = _verdict_text(verdict)
    await _reply_in_slack(approvals, press.response_url, text)


async def _reply_in_slack(approvals: SlackApprovals, response_url: str | None, text: str) -> None:
    """An ephemeral message to the person who clicked. Only to Slack's own response host (the URL comes from a
    signed request, this is defence in depth); the URL carries a token, so it is never logged."""
    if not response_url:
        return
    parts = urlsplit(response_url)
    if f"{parts.scheme}://{parts.netloc}" not in approvals.response_origins:
        log.warning("slack interactivity: response_url host %s is not Slack's; no reply sent", parts.hostname)
        return
    message = {"response_type": "ephemeral", "replace_original": False, "text": _escape(text)}
    try:
        async with httpx.AsyncClient(timeout=RESPONSE_URL_TIMEOUT) as http:
            answer = await http.post(response_url, json=message)
        if not answer.is_success:
            log.warning("slack interactivity: response_url answered HTTP %s", answer.status_code)
    except httpx.HTTPError as error:
        log.warning("slack interactivity: reply not delivered (%s)", type(error).__name__)


def _verdict_text(verdict: CommandVerdict) -> str:
    return f"{verdict.command} {verdict.outcome}: {verdict.reason}"


def _answer(status: str, text: str, press: ButtonPress, person: str) -> dict[str, Any]:
    return {
        "status": status,
        "text": text,
        "incident_id": press.target.incident_id,
        "action_id": press.target.action_id,
        "by": person,
    }


def _escape(text: str) -> str:
    """Slack's control characters, so a reason cannot ping `<!channel>` or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
