"""The intake's ASGI app: one POST route per sender format, the issue-tracker routes that complete action items
(intake/trackers.py), /healthz and /openapi.json.

Every request runs the same short path: authenticate -> read a size-limited body -> the format's reader ->
hand off to Temporal -> 202. Errors a sender can cause are 4xx JSON naming the field; Temporal being
unreachable is 503 with Retry-After. Nothing is started or signalled before the whole request is valid.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from intake import auth
from intake.body import read_body
from intake.config import IntakeConfig
from intake.errors import IntakeError, RetryLater
from intake.handoff import Handoff, HandoffReport, TemporalUnavailable
from intake.metrics import IntakeMetrics
from intake.openapi import openapi_document
from intake.routes import ROUTES, Reading, Route
from intake.slack_approvals import PATH as SLACK_PATH
from intake.slack_approvals import SlackApprovals, receive_slack_action
from intake.sns import SnsVerifier
from intake.trackers import ItemCloser, tracker_routes
from workflows.messages.heartbeat import Heartbeat, switch_workflow_id

RETRY_AFTER_SECONDS = "5"
T = TypeVar("T")
log = logging.getLogger("warroom.intake")


class InFlight:
    """Hand-offs waiting on Temporal right now. When Temporal is slow rather than down, a bounded number
    wait and the rest are told to retry at once, instead of piling up until every one of them times out."""

    def __init__(self, limit: int, metrics: IntakeMetrics) -> None:
        self.limit = limit
        self.count = 0
        self.metrics = metrics

    def enter(self) -> None:
        self.count += 1
        self.metrics.in_flight.set(self.count)

    def leave(self) -> None:
        self.count -= 1
        self.metrics.in_flight.set(self.count)


def create_app(
    config: IntakeConfig,
    handoff: Handoff,
    sns: SnsVerifier | None = None,
    slack: SlackApprovals | None = None,
    metrics: IntakeMetrics | None = None,
) -> Starlette:
    verifier = sns or SnsVerifier()
    spec = openapi_document(ROUTES)
    counted = metrics or IntakeMetrics()
    in_flight = InFlight(config.max_in_flight, counted)

    def endpoint(route: Route) -> Any:
        async def receive(request: Request) -> Response:
            response = await _handle(route, request, config, handoff, verifier, in_flight)
            counted.answered(route.name, response.status_code)
            return response

        return receive

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "in_flight": in_flight.count})

    async def openapi(request: Request) -> Response:
        return JSONResponse(spec)

    async def slack_interactivity(request: Request) -> Response:  # intake/slack_approvals.py
        return await receive_slack_action(request, config, handoff.client, slack)

    async def prometheus(request: Request) -> Response:
        return Response(counted.exposition(), media_type=counted.content_type)

    routes = [StarletteRoute(r.path, endpoint(r), methods=["POST"], name=r.name) for r in ROUTES]
    routes += tracker_routes(config, ItemCloser(handoff.client))  # issue trackers complete action items
    routes += [
        StarletteRoute("/healthz", healthz, methods=["GET"]),
        StarletteRoute("/openapi.json", openapi, methods=["GET"]),
        StarletteRoute(SLACK_PATH, slack_interactivity, methods=["POST"]),
        StarletteRoute("/metrics", prometheus, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})


async def _handle(
    route: Route,
    request: Request,
    config: IntakeConfig,
    handoff: Handoff,
    sns: SnsVerifier,
    in_flight: InFlight,
) -> Response:
    try:
        if route.needs_token:
            auth.require_token(request.headers, config.tokens)
        raw = await read_body(request, config.max_body_bytes)
        reading = await route.reader(request, raw, config, sns)
        if reading.answer is not None:
            log.info("intake %s: %s", route.name, reading.answer.get("status"))
            return JSONResponse(reading.answer, status_code=200)
        if in_flight.count >= in_flight.limit:
            raise TemporalUnavailable(f"{in_flight.count} hand-offs already waiting on Temporal")
        if reading.heartbeats:
            switches = await _counted(
                route, in_flight, _beat_all(handoff, reading.heartbeats, in_flight.metrics)
            )
            if not reading.alerts:
                log.info("intake %s: heartbeat -> %s", route.name, switches)
                return JSONResponse(_heartbeats_accepted(switches, reading.note), status_code=202)
        report = await _counted(route, in_flight, handoff.deliver(reading.alerts))
    except IntakeError as error:
        log.info("intake %s refused: %s %s", route.name, error.status, error.problems[0][0])
        return error.response()
    except RetryLater as error:  # Temporal, or the SNS certificate host: the sender must retry
        log.warning("intake %s: 503, %s", route.name, error)
        return JSONResponse(
            {"status": "unavailable", "error": f"{error}; nothing was accepted, retry later"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    log.info(
        "intake %s: %d alert(s) -> %s, repeats %s",
        route.name, len(reading.alerts), sorted(report.signalled), sorted(report.repeats),
    )  # fmt: skip
    return JSONResponse(_accepted(route, reading, report), status_code=202)


async def _counted(route: Route, in_flight: InFlight, handing_off: Awaitable[T]) -> T:
    """A hand-off, counted: in flight while it waits, and how long Temporal took to take it (or fail)."""
    in_flight.enter()
    started = time.perf_counter()
    ok = False
    try:
        result = await handing_off
        ok = True
        return result
    finally:
        in_flight.leave()
        in_flight.metrics.handed_off(route.name, time.perf_counter() - started, ok)


async def _beat_all(handoff: Handoff, heartbeats: list[Heartbeat], metrics: IntakeMetrics) -> list[str]:
    switches = []
    for heartbeat in heartbeats:
        switches.append(await handoff.beat(heartbeat))
        metrics.heartbeat(heartbeat.source)
    return switches


def _heartbeats_accepted(switches: list[str], note: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "accepted", "alerts": 0, "incidents": [], "heartbeats": switches}
    if note:
        body["note"] = note
    return body


def _accepted(route: Route, reading: Reading, report: HandoffReport) -> dict[str, Any]:
    """The 202 body: which incidents got which alerts, and what opened nothing."""
    body: dict[str, Any] = {
        "status": "accepted",
        "alerts": len(reading.alerts),
        "incidents": [{"incident_id": key, "alerts": n} for key, n in report.signalled.items()],
        "not_open": report.not_open,
        "repeats": [{"incident_id": key, "alerts": n} for key, n in report.repeats.items()],
    }
    if reading.heartbeats:
        body["heartbeats"] = [switch_workflow_id(beat.source) for beat in reading.heartbeats]
    if report.repeats and not report.signalled:
        body["note"] = "a repeat: the incident already holds this delivery, nothing was sent"
    if report.not_open:
        body["note"] = "resolve/acknowledge for an incident that is not open: nothing was opened"
    if reading.note:
        body["note"] = reading.note
    if route.needs_token is False:  # PagerDuty's own answer shape, so its clients are satisfied
        body |= {"message": "Event processed", "dedup_key": reading.alerts[0].dedup_key}
    return body


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    problem = "no such route" if error.status_code == 404 else str(error.detail)
    return IntakeError(error.status_code, "path", problem, headers=error.headers).response()
