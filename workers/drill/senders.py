"""Alerts of a drill go through the real intake: the same ASGI app, routes, normalizers, correlation router
and hand-off as production, reached in-process (httpx's ASGI transport: no port, nothing listening).

What a drill cannot have is the sender's own proof, so it stands in for it: the drill's intake accepts a
token of its own (and PagerDuty's routing key is set to it), and SNS signatures are not checked (AWS signs
them; a scenario cannot). Everything after the proof is the production path.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from temporalio.client import Client

from intake.app import create_app
from intake.config import IntakeConfig
from intake.handoff import Handoff
from intake.routes import ROUTES
from intake.sns import SnsMessage, SnsVerifier
from workers.drill.scenario import AlertStep

PATHS = {
    "alertmanager": "/v1/alerts/alertmanager",
    "grafana": "/v1/alerts/grafana",
    "datadog": "/v1/alerts/datadog",
    "pagerduty": "/v1/alerts/pagerduty",
    "cloudwatch": "/v1/alerts/cloudwatch",
    "generic": "/v1/alerts/generic",
}
WIRE_MODELS: dict[str, type[BaseModel]] = {route.name: route.model for route in ROUTES}
SNS_DEFAULTS = {
    "Type": "Notification",
    "MessageId": "drill-message",
    "TopicArn": "arn:aws:sns:us-east-1:000000000000:drill",
    "Timestamp": "2026-01-01T00:00:00.000Z",
    "SignatureVersion": "1",
    "Signature": "ZHJpbGw=",
    "SigningCertURL": "https://sns.us-east-1.amazonaws.com/drill.pem",
}


class UnsignedSns(SnsVerifier):
    """A drill's CloudWatch alarms carry no AWS signature; everything else about SNS is read as in production."""

    async def verify(self, message: SnsMessage) -> None:
        return None


def wire_body(step: AlertStep, token: str = "drill") -> dict[str, Any]:
    """The body as the sender posts it; the drill fills what only a real sender has (proof, SNS envelope)."""
    body = dict(step.body)
    if step.format == "pagerduty":
        body["routing_key"] = token
    if step.format == "cloudwatch":
        if isinstance(body.get("Message"), dict):  # a scenario may write the alarm as YAML, not a string
            body["Message"] = json.dumps(body["Message"])
        body = {**SNS_DEFAULTS, **body}
    return body


def body_problems(step: AlertStep) -> list[tuple[tuple[int | str, ...], str]]:
    """The sender's wire-model problems of a step's body (relative locations), checked before anything
    starts: a drill with a body the intake would answer 422 never runs half."""
    model = WIRE_MODELS[step.format]
    body = wire_body(step)
    try:
        message = model.model_validate(body)
    except ValidationError as error:
        return [(tuple(item["loc"]), item["msg"]) for item in error.errors()]
    if step.format == "cloudwatch":
        from intake.formats.cloudwatch import CloudWatchAlarm

        assert isinstance(message, SnsMessage)
        try:
            CloudWatchAlarm.model_validate_json(message.Message)
        except ValidationError as error:
            return [(("Message", *item["loc"]), item["msg"]) for item in error.errors()]
    return []


class DeliveryRefused(Exception):
    """The intake refused a step's body (it names the field)."""


class DrillIntake:
    """The production intake app on the drill's own client and task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._token = secrets.token_urlsafe(16)
        # The intake's defaults (correlation window 5m, repeat window 6h), not the user's environment: its
        # tokens, HMAC secret or SNS topics belong to the real intake.
        config = IntakeConfig(tokens=(SecretStr(self._token),))
        handoff = Handoff(client, task_queue, config.correlation_window, repeat_window=config.repeat_window)
        app = create_app(config, handoff, UnsignedSns())
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://drill-intake", timeout=30
        )

    async def deliver(self, step: AlertStep) -> dict[str, Any]:
        params = {"service": step.service} if step.service else None
        answer = await self._http.post(
            PATHS[step.format], json=wire_body(step, self._token), params=params,
            headers={"Authorization": f"Bearer {self._token}"},
        )  # fmt: skip
        body: dict[str, Any] = answer.json()
        if answer.status_code >= 400:
            raise DeliveryRefused(f"the intake answered {answer.status_code}: {body}")
        return body

    async def close(self) -> None:
        await self._http.aclose()
