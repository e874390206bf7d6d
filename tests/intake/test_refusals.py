"""What the intake refuses, and that a refusal starts and signals nothing: auth on every route, bad input of
every kind (always 4xx naming the field, never 5xx), and 503 + Retry-After when Temporal is unreachable."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from intake.app import create_app
from intake.formats.alertmanager import group_dedup_key
from intake.handoff import Handoff
from intake.server import serving
from tests.conftest import free_port
from tests.intake.conftest import TOKEN, Intake, intake_config, payload, payload_json, unique_group
from workers.data_converter import data_converter

TOKEN_ROUTES = [
    "/v1/alerts/alertmanager",
    "/v1/alerts/grafana",
    "/v1/alerts/cloudwatch",
    "/v1/alerts/datadog",
    "/v1/alerts/generic",
]


async def nothing_started(intake: Intake, expected: set[str] | None = None) -> None:
    """Visibility is eventually consistent, so a sentinel alert goes last: once it is visible, anything
    started before it would be too. Only the sentinel (and `expected` incidents) may exist on this queue."""
    key = f"sentinel-{uuid4()}"
    sentinel = {"dedup_key": key, "service": "sentinel", "summary": "sentinel"}
    assert (await intake.post("/v1/alerts/generic", sentinel)).status_code == 202
    wanted = {f"incident-{key}", *(expected or set())}
    async with asyncio.timeout(15):
        while True:  # polling is the point: visibility has no event to wait for
            if await intake.workflow_count() >= len(wanted):
                break
            await asyncio.sleep(0.1)
    found = {
        execution.id
        async for execution in intake.client.list_workflows(f'TaskQueue = "{intake.settings.task_queue}"')
    }
    assert found == wanted
    await intake.handle(key).signal("resolve", {"by": "tester"})


@pytest.mark.parametrize("path", TOKEN_ROUTES)
async def test_every_route_refuses_a_missing_or_wrong_token(intake: Intake, path: str) -> None:
    body = unique_group(payload_json("alertmanager_firing.json"))
    missing = await intake.post(path, body, token=None)
    assert missing.status_code == 401
    assert "Bearer" in missing.headers["WWW-Authenticate"]
    assert missing.json()["problems"][0]["field"] == "Authorization"
    wrong = await intake.post(path, body, token="guessed-token-123")
    assert wrong.status_code == 403 and "guessed-token-123" not in wrong.text
    basic_wrong = await intake.http.post(
        f"{intake.url}{path}", json=body, auth=httpx.BasicAuth("am", "guessed-token-123")
    )
    assert basic_wrong.status_code == 403
    await nothing_started(intake)


async def test_basic_auth_with_the_token_as_password_is_accepted(intake: Intake) -> None:
    body = unique_group(payload_json("alertmanager_firing.json"))
    answer = await intake.http.post(
        f"{intake.url}/v1/alerts/alertmanager", json=body, auth=httpx.BasicAuth("alertmanager", TOKEN)
    )
    assert answer.status_code == 202, answer.text
    key = group_dedup_key("am", body["groupKey"])
    await intake.status_when(key, lambda s: s.alert_count == 3)
    await intake.handle(key).signal("resolve", {"by": "tester"})


def am(**changes: Any) -> dict[str, Any]:
    return unique_group(payload_json("alertmanager_firing.json")) | changes


def am_alert(**changes: Any) -> dict[str, Any]:
    document = am()
    document["alerts"][0] |= changes
    return document


BAD_INPUT: list[tuple[str, str, Callable[[], bytes | dict[str, Any] | list[Any]], int, str]] = [
    ("malformed JSON", "/v1/alerts/alertmanager", lambda: b'{"alerts": [', 400, "body"),
    ("empty body", "/v1/alerts/alertmanager", lambda: b"", 400, "body"),
    ("not UTF-8", "/v1/alerts/generic", lambda: b'{"summary": "\xff\xfe"}', 400, "body"),
    ("NaN", "/v1/alerts/generic", lambda: b'{"impact": {"error_rate": NaN}}', 400, "body"),
    ("a JSON array", "/v1/alerts/alertmanager", lambda: [1, 2], 422, "body"),
    ("null body", "/v1/alerts/datadog", lambda: b"null", 422, "body"),
    ("empty alert list", "/v1/alerts/alertmanager", lambda: am(alerts=[]), 422, "alerts"),
    ("alerts is null", "/v1/alerts/alertmanager", lambda: am(alerts=None), 422, "alerts"),
    ("missing groupKey", "/v1/alerts/alertmanager",
     lambda: {k: v for k, v in am().items() if k != "groupKey"}, 422, "groupKey"),
    ("label of the wrong type", "/v1/alerts/alertmanager", lambda: am_alert(labels={"service": 5}), 422,
     "alerts.0.labels.service"),
    ("unknown status", "/v1/alerts/alertmanager", lambda: am_alert(status="exploding"), 422,
     "alerts.0.status"),
    ("negative truncatedAlerts", "/v1/alerts/alertmanager", lambda: am(truncatedAlerts=-1), 422,
     "truncatedAlerts"),
    ("control character", "/v1/alerts/alertmanager",
     lambda: am_alert(annotations={"summary": "bad\u0000byte"}), 400, "body.alerts.0.annotations.summary"),
    ("deep nesting", "/v1/alerts/generic", lambda: b"[" * 100 + b"]" * 100, 400, "body" + ".0" * 33),
    ("very deep nesting", "/v1/alerts/generic", lambda: b"[" * 30000 + b"]" * 30000, 400, "body"),
    ("oversized body", "/v1/alerts/generic",
     lambda: {"dedup_key": "x", "service": "s", "summary": "a" * 70000}, 413, "body"),
    ("generic missing service", "/v1/alerts/generic", lambda: {"dedup_key": "k", "summary": "s"}, 422,
     "service"),
    ("generic wrong impact type", "/v1/alerts/generic",
     lambda: {"dedup_key": "k", "service": "s", "summary": "s", "impact": {"users_affected": "many"}}, 422,
     "impact.users_affected"),
    ("datadog without title", "/v1/alerts/datadog", lambda: {"body": "x"}, 422, "title"),
    ("pagerduty ack without dedup_key", "/v1/alerts/pagerduty",
     lambda: {"routing_key": "366d44130b488c32bf6a20055db7471d", "event_action": "acknowledge"}, 422, "body"),
    ("pagerduty unknown action", "/v2/enqueue",
     lambda: payload_json("pagerduty_v2_trigger.json") | {"event_action": "explode"}, 422, "event_action"),
    ("sns message that is not JSON", "/v1/alerts/cloudwatch",
     lambda: payload_json("cloudwatch_sns_alarm.json") | {"SignatureVersion": "3"}, 422, "SignatureVersion"),
]  # fmt: skip


async def test_bad_input_gets_a_4xx_naming_the_field_and_starts_nothing(intake: Intake) -> None:
    for name, path, body, expected_status, field in BAD_INPUT:
        answer = await intake.post(path, body())
        assert answer.status_code == expected_status, f"{name}: {answer.status_code} {answer.text}"
        problem = answer.json()["problems"][0]
        assert problem["field"] == field, f"{name}: {problem}"
        assert problem["problem"], name
    # Method and path mistakes are JSON 4xx too.
    assert (await intake.http.get(f"{intake.url}/v1/alerts/generic")).status_code == 405
    assert (await intake.post("/v1/alerts/nagios", {})).json()["problems"][0]["problem"] == "no such route"
    await nothing_started(intake)


HOSTILE = "🔥 \u202egnp.exe <script>alert(1)</script> '; DROP TABLE incidents; -- ﷽"


async def test_hostile_but_valid_text_is_accepted_and_stored_as_data(intake: Intake) -> None:
    key = f"hostile-{uuid4()}"
    alert = {"dedup_key": key, "service": "web", "summary": HOSTILE, "labels": {"note": HOSTILE}}
    assert (await intake.post("/v1/alerts/generic", alert)).status_code == 202
    status = await intake.status_when(key, lambda s: s.alert_count == 1)
    assert status.summary == HOSTILE
    assert any(event.summary == f"firing: {HOSTILE}" for event in status.timeline)
    # Where it is rendered (the Web UI's Markdown details), the HTML is escaped, the text kept.
    metadata = await intake.handle(key).query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "<script>" not in metadata.current_details
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in metadata.current_details
        and "🔥" in metadata.current_details
    )
    await intake.handle(key).signal("resolve", {"by": "tester"})


@pytest.mark.parametrize("window", [timedelta(0), timedelta(minutes=5)], ids=["plain", "correlated"])
async def test_temporal_unreachable_answers_503_with_retry_after_never_2xx(window: timedelta) -> None:
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter)
    config = intake_config(correlation_window=window)
    app = create_app(config, Handoff(dead, "nowhere", config.correlation_window))
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(timeout=30) as http:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        answer = await http.post(f"{url}/v1/alerts/alertmanager", content=payload("alertmanager_firing.json"),
                                 headers=headers)  # fmt: skip
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert "nothing was accepted" in answer.json()["error"]
        # Bad input is still a 4xx without Temporal: validation comes first.
        assert (
            await http.post(f"{url}/v1/alerts/alertmanager", content=b"{", headers=headers)
        ).status_code == 400
        assert (await http.get(f"{url}/healthz")).json()["status"] == "ok"
    assert json.loads(payload("alertmanager_firing.json"))  # the sender keeps its alert to retry
