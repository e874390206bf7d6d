"""A real sender: Debian's prometheus-alertmanager (installed by `make test` / .ci/run) with a webhook
receiver pointing at the intake with a bearer token. Alerts go in through Alertmanager's own API; the
incident opens once, Alertmanager's repeats (repeat_interval) are dropped at the intake's door without a
signal, and the incident resolves when the alert does."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml
from temporalio.service import RPCError

from tests.conftest import events, free_port
from tests.intake.conftest import TOKEN, Intake
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Phase
from workflows.messages.heartbeat import SwitchStatus
from workflows.messages.status import EventKind

ALERTMANAGER = "prometheus-alertmanager"  # Debian's package name for the binary


def alertmanager_config(intake_url: str, query: str = "") -> dict[str, Any]:
    return {
        "route": {
            "receiver": "warroom",
            "group_by": ["alertname", "service"],
            "group_wait": "100ms",
            "group_interval": "1s",
            "repeat_interval": "1s",  # repeats quickly, so the test sees Alertmanager re-send the group
        },
        "receivers": [
            {
                "name": "warroom",
                "webhook_configs": [
                    {
                        "url": f"{intake_url}/v1/alerts/alertmanager{query}",
                        "send_resolved": True,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": TOKEN}},
                    }
                ],
            }
        ],
    }


@pytest.fixture
async def alertmanager(intake: Intake, tmp_path: Path) -> AsyncIterator[str]:
    async with running_alertmanager(alertmanager_config(intake.url), tmp_path) as url:
        yield url


@asynccontextmanager
async def running_alertmanager(settings: dict[str, Any], tmp_path: Path) -> AsyncIterator[str]:
    binary = shutil.which(ALERTMANAGER)
    assert binary, "prometheus-alertmanager is missing: `make test` installs it (apt-get install)"
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(settings))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
        stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(20):
            while True:  # polling is the point: the child has no readiness signal but its HTTP answer
                assert process.returncode is None, (tmp_path / "alertmanager.log").read_text()
                try:
                    if (await http.get(f"{url}/-/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        log.close()


async def test_real_alertmanager_opens_one_incident_absorbs_repeats_and_resolves(
    intake: Intake, alertmanager: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="warroom.intake")
    service = f"checkout-{uuid4().hex[:8]}"
    alert = {
        "labels": {
            "alertname": "HighErrorRate",
            "service": service,
            "severity": "critical",
            "region": "eu-west-1",
        },
        "annotations": {"summary": f"{service} 5xx above 5%"},
        "startsAt": datetime.now(UTC).isoformat(),
    }
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.post(f"{alertmanager}/api/v2/alerts", json=[alert])).status_code == 200
        incident_id = await _incident_for(intake, service)

        handle = intake.client.get_workflow_handle(incident_id)
        # Alertmanager re-sends the firing group every repeat_interval: wait for two repeats at the door.
        async with asyncio.timeout(30):
            while _repeats_at_the_door(caplog, incident_id) < 2:  # noqa: ASYNC110 - another process's resends
                await asyncio.sleep(0.2)
        assert await _deliveries(handle) == 1  # the repeats cost the incident no signal
        status = await handle.query(IncidentWorkflow.status)
        assert status.alert_count == 1 and status.service == service
        assert len(events(status, EventKind.PAGED)) == 1
        assert events(status, EventKind.ALERT)[0].details["severity_hint"] == "critical"

        resolved = alert | {"endsAt": datetime.now(UTC).isoformat()}
        assert (await http.post(f"{alertmanager}/api/v2/alerts", json=[resolved])).status_code == 200
        async with asyncio.timeout(30):
            await handle.result()
    status = await handle.query(IncidentWorkflow.status)
    assert status.phase is Phase.CLOSED
    assert status.resolved_by == "alertmanager (all alerts resolved)"
    count = await intake.client.count_workflows(f'WorkflowId = "{incident_id}"')
    assert count.count == 1  # opened once


async def test_real_alertmanagers_watchdog_keeps_the_dead_mans_switch_alive_and_opens_nothing(
    intake: Intake, tmp_path: Path
) -> None:
    """The always-firing Watchdog, re-sent by Alertmanager every repeat_interval, is the heartbeat."""
    source = f"am-{uuid4().hex[:8]}"
    config = alertmanager_config(intake.url, f"?source={source}")
    watchdog = {
        "labels": {"alertname": "Watchdog", "severity": "none"},
        "annotations": {"summary": "always firing: certifies the alerting pipeline works"},
        "startsAt": datetime.now(UTC).isoformat(),
    }
    async with running_alertmanager(config, tmp_path) as alertmanager, httpx.AsyncClient(timeout=5) as http:
        assert (await http.post(f"{alertmanager}/api/v2/alerts", json=[watchdog])).status_code == 200
        handle = intake.client.get_workflow_handle(f"deadman-{source}")
        async with asyncio.timeout(30):
            while True:  # polling is the point: Alertmanager re-sends on its own schedule
                with suppress(RPCError):
                    status: SwitchStatus = await handle.query(DeadMansSwitchWorkflow.status)
                    if status.beats >= 2:
                        break
                await asyncio.sleep(0.2)
    assert not status.silent and status.source == source
    incidents = await intake.client.count_workflows(
        f'TaskQueue = "{intake.settings.task_queue}" AND WorkflowType = "IncidentWorkflow"'
    )
    assert incidents.count == 0


async def _incident_for(intake: Intake, service: str) -> str:
    async with asyncio.timeout(20):
        while True:  # polling is the point: visibility is eventually consistent
            async for execution in intake.client.list_workflows(
                f'TaskQueue = "{intake.settings.task_queue}" AND IncidentService = "{service}"'
            ):
                return execution.id
            await asyncio.sleep(0.2)


def _repeats_at_the_door(caplog: pytest.LogCaptureFixture, incident_id: str) -> int:
    """Deliveries the intake answered as repeats of what the incident holds (its log line says so)."""
    return sum(
        1
        for record in caplog.records
        if "repeats [" in record.getMessage() and incident_id in record.getMessage()
    )


async def _deliveries(handle: Any) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.HasField("workflow_execution_signaled_event_attributes"))
