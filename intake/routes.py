"""Per-format request handling: from an authenticated raw body to the `Alert`s to hand over.

Each reader validates with its sender's wire model (a 422 names the field) and applies the sender's own proof
(Grafana HMAC, PagerDuty routing key, SNS signature). Reaching Temporal is the app's job, not theirs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from intake import auth
from intake.body import parse_json
from intake.config import IntakeConfig
from intake.errors import IntakeError
from intake.formats import alertmanager, cloudwatch, datadog, generic, grafana, pagerduty
from intake.sns import SnsMessage, SnsVerifier, is_genuine_sns_url
from workflows.messages.alerts import Alert
from workflows.messages.heartbeat import SOURCE_PATTERN, Heartbeat

ModelT = TypeVar("ModelT", bound=BaseModel)
WATCHDOG = "Watchdog"  # the always-firing alert of kube-prometheus and most Prometheus setups


class HeartbeatBody(BaseModel):
    """POST /heartbeat/<source> needs no body; the path names the source."""


@dataclass
class Reading:
    """What a request amounts to: alerts to hand over, or an answer without any (e.g. SNS confirmation)."""

    alerts: list[Alert] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)  # for the dead-man's switch, not incidents
    note: str | None = None
    answer: dict[str, Any] | None = None


Reader = Callable[[Request, bytes, IntakeConfig, SnsVerifier], Awaitable[Reading]]


def validated(model: type[ModelT], document: Any, prefix: str = "") -> ModelT:
    if not isinstance(document, dict):
        raise IntakeError(422, prefix or "body", f"must be a JSON object, not {type(document).__name__}")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise IntakeError.invalid(error, prefix) from None


async def read_alertmanager(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    """The always-firing Watchdog alert is the pipeline's heartbeat: it goes to the dead-man's switch, never
    into an incident (a resolved Watchdog is no sign of life: the switch notices the silence)."""
    webhook = validated(alertmanager.AlertmanagerWebhook, parse_json(raw))
    watchdogs = [alert for alert in webhook.alerts if alert.labels.get("alertname") == WATCHDOG]
    others = [alert for alert in webhook.alerts if alert.labels.get("alertname") != WATCHDOG]
    source = _heartbeat_source(request.query_params.get("source", "alertmanager"), "source")
    beats = [Heartbeat(source=source, via="watchdog")] if any(
        alert.status == "firing" for alert in watchdogs
    ) else []  # fmt: skip
    alerts = alertmanager.to_alerts(webhook.model_copy(update={"alerts": others})) if others else []
    note = "only a resolved Watchdog: nothing to do" if not beats and not alerts else None
    return Reading(alerts, heartbeats=beats, note=note)


async def read_heartbeat(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    source = _heartbeat_source(request.path_params["source"], "source")
    return Reading(heartbeats=[Heartbeat(source=source, via="heartbeat")])


def _heartbeat_source(source: str, field_name: str) -> str:
    """Which pipeline a heartbeat is from: it names a dead-man's switch (`deadman-<source>`)."""
    if not re.fullmatch(SOURCE_PATTERN, source):
        raise IntakeError(
            422, field_name, "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return source


async def read_grafana(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    auth.require_grafana_signature(request.headers, raw, config.grafana_hmac_secret)
    return Reading(grafana.to_alerts(validated(grafana.GrafanaWebhook, parse_json(raw))))


async def read_datadog(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    return Reading(datadog.to_alerts(validated(datadog.DatadogWebhook, parse_json(raw))))


async def read_pagerduty(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    event = validated(pagerduty.PagerDutyEvent, parse_json(raw))
    auth.require_routing_key(event.routing_key, config.routing_keys)
    return Reading(pagerduty.to_alerts(event))


async def read_generic(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    return Reading(generic.to_alerts(validated(generic.GenericAlert, parse_json(raw))))


async def read_cloudwatch(request: Request, raw: bytes, config: IntakeConfig, sns: SnsVerifier) -> Reading:
    message = validated(SnsMessage, parse_json(raw))
    declared = request.headers.get("x-amz-sns-message-type")
    if declared and declared != message.Type:
        raise IntakeError(
            400, "x-amz-sns-message-type", f"says {declared!r} but the body is {message.Type!r}"
        )
    if config.sns_topics and message.TopicArn not in config.sns_topics:
        raise IntakeError(403, "TopicArn", "not a topic this intake accepts (WARROOM_INTAKE_SNS_TOPICS)")
    await sns.verify(message)
    if message.Type == "SubscriptionConfirmation":
        if not message.SubscribeURL or not is_genuine_sns_url(message.SubscribeURL):
            raise IntakeError(400, "SubscribeURL", "missing or not a genuine SNS host of AWS; not confirmed")
        await sns.confirm(message.SubscribeURL)
        return Reading(answer={"status": "confirmed", "topic": message.TopicArn})
    if message.Type == "UnsubscribeConfirmation":
        return Reading(answer={"status": "ignored", "reason": "unsubscribe confirmations need no action"})
    alarm = validated(cloudwatch.CloudWatchAlarm, parse_json(message.Message.encode(), "Message"), "Message")
    alerts = cloudwatch.to_alerts(alarm, request.query_params.get("service"))
    note = None if alerts else f"{alarm.NewStateValue} opens nothing (docs/intake.md)"
    return Reading(alerts, note=note)


@dataclass(frozen=True)
class Route:
    path: str
    name: str
    model: type[BaseModel]
    reader: Reader
    summary: str
    needs_token: bool = True  # PagerDuty senders prove themselves with the routing key instead


ROUTES = [
    Route("/v1/alerts/alertmanager", "alertmanager", alertmanager.AlertmanagerWebhook, read_alertmanager,
          "Prometheus Alertmanager webhook (version 4)"),
    Route("/v1/alerts/grafana", "grafana", grafana.GrafanaWebhook, read_grafana,
          "Grafana unified-alerting webhook contact point"),
    Route("/v1/alerts/cloudwatch", "cloudwatch", SnsMessage, read_cloudwatch,
          "CloudWatch alarms via Amazon SNS (HTTP/S subscription)"),
    Route("/v1/alerts/datadog", "datadog", datadog.DatadogWebhook, read_datadog,
          "Datadog Webhooks integration (default or warroom's richer template)"),
    Route("/v1/alerts/pagerduty", "pagerduty", pagerduty.PagerDutyEvent, read_pagerduty,
          "PagerDuty Events API v2", needs_token=False),
    Route("/v2/enqueue", "pagerduty-enqueue", pagerduty.PagerDutyEvent, read_pagerduty,
          "PagerDuty Events API v2 at PagerDuty's own path", needs_token=False),
    Route("/v1/alerts/generic", "generic", generic.GenericAlert, read_generic,
          "warroom's generic JSON alert"),
    Route("/heartbeat/{source}", "heartbeat", HeartbeatBody, read_heartbeat,
          "a heartbeat of an alerting pipeline, for its dead-man's switch (docs/operations.md)"),
]  # fmt: skip
