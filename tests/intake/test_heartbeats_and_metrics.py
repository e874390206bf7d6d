"""The intake's heartbeat routes (Alertmanager's Watchdog, POST /heartbeat/<source>) into a real dead-man's
switch on the dev server, and its own /metrics in the Prometheus text format."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import WorkflowHandle

from intake.formats.alertmanager import group_dedup_key
from tests.intake.conftest import Intake, payload_json, unique_group
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.messages.heartbeat import SwitchStatus

WATCHDOG = {
    "status": "firing",
    "labels": {"alertname": "Watchdog", "severity": "none"},
    "annotations": {"summary": "An alert that should always be firing to certify that Alertmanager works."},
    "startsAt": "2025-03-18T14:00:00Z",
}


def watchdog_group(*others: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4", "groupKey": f'{{}}:{{alertname="Watchdog"}}/{uuid4()}', "status": "firing",
        "receiver": "warroom-intake", "alerts": [WATCHDOG, *others],
    }  # fmt: skip


async def beats_of(handle: WorkflowHandle[Any, Any], count: int) -> SwitchStatus:
    async with asyncio.timeout(15):
        while True:
            status: SwitchStatus = await handle.query(DeadMansSwitchWorkflow.status)
            if status.beats >= count:
                return status
            await asyncio.sleep(0.05)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_the_watchdog_alert_feeds_the_dead_mans_switch_and_opens_no_incident(intake: Intake) -> None:
    source = f"am-{uuid4().hex[:8]}"
    group = watchdog_group()
    answer = await intake.post(f"/v1/alerts/alertmanager?source={source}", group)
    assert answer.status_code == 202, answer.text
    assert answer.json()["incidents"] == [] and answer.json()["heartbeats"] == [f"deadman-{source}"]
    assert not await intake.exists(group_dedup_key("am", group["groupKey"]))

    handle = intake.client.get_workflow_handle(f"deadman-{source}")
    assert (await beats_of(handle, 1)).source == source
    await intake.post(f"/v1/alerts/alertmanager?source={source}", group)  # Alertmanager's repeat_interval
    status = await beats_of(handle, 2)
    assert not status.silent and status.page_due_at is not None


async def test_a_watchdog_beside_a_real_alert_splits_heartbeat_and_incident(intake: Intake) -> None:
    source = f"am-{uuid4().hex[:8]}"
    real = payload_json("alertmanager_firing.json")["alerts"][0]
    group = watchdog_group(real)
    answer = await intake.post(f"/v1/alerts/alertmanager?source={source}", group)
    assert answer.status_code == 202, answer.text
    key = group_dedup_key("am", group["groupKey"])
    assert answer.json()["incidents"] == [{"incident_id": f"incident-{key}", "alerts": 1}]
    assert answer.json()["heartbeats"] == [f"deadman-{source}"]
    status = await intake.status_when(key, lambda s: s.alert_count == 1)
    assert status.service == "checkout"  # the Watchdog is not one of the incident's alerts


async def test_the_plain_heartbeat_route_needs_a_token_and_a_valid_source(intake: Intake) -> None:
    source = f"pipeline-{uuid4().hex[:8]}"
    assert (await intake.post(f"/heartbeat/{source}", b"", token=None)).status_code == 401
    bad = await intake.post("/heartbeat/-nope", b"")
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "source"
    bad_query = await intake.post("/v1/alerts/alertmanager?source=a%20b", watchdog_group())
    assert bad_query.status_code == 422 and bad_query.json()["problems"][0]["field"] == "source"

    answer = await intake.post(f"/heartbeat/{source}", b"")
    assert answer.status_code == 202, answer.text
    assert (await beats_of(intake.client.get_workflow_handle(f"deadman-{source}"), 1)).source == source


async def test_metrics_count_requests_by_route_and_status_and_time_the_hand_off(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    assert (await intake.post("/v1/alerts/alertmanager", group)).status_code == 202
    assert (await intake.post("/v1/alerts/alertmanager", {"alerts": []})).status_code == 422
    assert (await intake.post(f"/heartbeat/hb-{uuid4().hex[:8]}", b"")).status_code == 202

    scraped = await intake.http.get(f"{intake.url}/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    requests = samples(scraped.text, "warroom_intake_requests_total")
    assert requests[(("route", "alertmanager"), ("status", "202"))] >= 1
    assert requests[(("route", "alertmanager"), ("status", "422"))] >= 1
    assert requests[(("route", "heartbeat"), ("status", "202"))] >= 1
    handoffs = samples(scraped.text, "warroom_intake_handoff_seconds_count")
    assert handoffs[(("outcome", "accepted"), ("route", "alertmanager"))] >= 1
    assert handoffs[(("outcome", "accepted"), ("route", "heartbeat"))] >= 1
    assert samples(scraped.text, "warroom_intake_handoffs_in_flight")[()] == 0
    assert sum(samples(scraped.text, "warroom_intake_heartbeats_total").values()) >= 1
