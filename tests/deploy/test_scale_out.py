"""Scale-out on one machine: three `warroom worker` processes on one task queue share the incidents that a
`warroom intake` process opens from alerts; one worker is killed with kill -9 under load, and still every
incident reaches its first page (a real HTTP receiver) and resolves. Nothing stalls: the dead worker's
sticky workflows and in-flight activities move to the survivors after Temporal's timeouts."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml
from pytest_httpserver import HTTPServer
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import free_port
from tests.deploy.processes import WarroomProcess, start_warroom
from tests.intake.conftest import TOKEN
from tests.notify.conftest import Receiver
from tests.notify.incident_helpers import routed_settings
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.status import IncidentResult, IncidentStatus

WORKERS = 3
ALERTS_PER_WAVE = 15  # 30 incidents: a wave before the kill, a wave after it
PAGED_BEFORE_KILL = 5
# Bounds, not expectations: a dead worker's workflow task comes back after the workflow task timeout (10 s)
# and its in-flight notify activity after its start-to-close timeout (30 s) plus the retry.
SETTLE_SECONDS = 180


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    recorder = Receiver(httpserver)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder.handle)
    return recorder


@pytest.fixture
async def workers(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> AsyncIterator[list[WarroomProcess]]:
    paging = routed_settings(settings, tmp_path, {"default_channels": ["hook"]})
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        yaml.safe_dump({"channels": {"hook": {"type": "webhook", "url": receiver.url("/page")}}})
    )
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": settings.task_queue,
        "WARROOM_POLICY": str(paging.policy_file),
        "WARROOM_CHANNELS": str(channels),
        "WARROOM_DATA_DIR": str(tmp_path / "shared"),  # one volume for every replica, as in compose
    }
    started = [await start_warroom(["worker"], env, tmp_path / f"worker-{n}.log") for n in range(WORKERS)]
    try:
        for worker in started:
            await worker.wait_for_output(f"worker on task queue '{settings.task_queue}'")
        yield started
    finally:
        for worker in started:
            await worker.kill()


@pytest.fixture
async def intake_url(dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": settings.task_queue,
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{port}",
        "WARROOM_INTAKE_TOKEN": TOKEN,
        "WARROOM_INTAKE_CORRELATION_WINDOW": "0",  # one incident per alert: same service, no grouping
    }
    intake = await start_warroom(["intake"], env, tmp_path / "intake.log")
    try:
        await intake.wait_for_output("intake on ")
        yield f"http://127.0.0.1:{port}"
    finally:
        assert await intake.stop() == 0, intake.output()


async def post_alerts(http: httpx.AsyncClient, intake_url: str, keys: list[str]) -> list[str]:
    """POST one alert per key; the ids of the incidents the intake handed them to."""

    async def post(key: str) -> str:
        answer = await http.post(
            f"{intake_url}/v1/alerts/generic",
            json={"dedup_key": key, "service": "checkout", "summary": f"checkout failing ({key})"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert answer.status_code == 202, answer.text
        [incident] = answer.json()["incidents"]
        return str(incident["incident_id"])

    return list(await asyncio.gather(*(post(key) for key in keys)))


async def first_page_delivered(handle: WorkflowHandle[Any, Any]) -> IncidentStatus:
    """Poll the status query (bounded by the caller) until a page is recorded as delivered."""
    while True:
        status: IncidentStatus = await handle.query(IncidentWorkflow.status)
        if any(delivery.delivered for delivery in status.deliveries):
            return status
        await asyncio.sleep(0.2)


async def identities(client: Client, handle: WorkflowHandle[Any, Any]) -> set[str]:
    """Which worker processes completed this incident's workflow tasks (identity = pid@host)."""
    history = await handle.fetch_history()
    return {
        event.workflow_task_completed_event_attributes.identity
        for event in history.events
        if event.HasField("workflow_task_completed_event_attributes")
    }


@pytest.mark.timeout(400)
async def test_three_workers_share_incidents_and_one_killed_under_load_stalls_nothing(
    dev_env: WorkflowEnvironment, workers: list[WarroomProcess], intake_url: str, receiver: Receiver
) -> None:
    client = dev_env.client
    run = uuid4().hex[:8]
    before = [f"scale-{run}-a{n}" for n in range(ALERTS_PER_WAVE)]
    after = [f"scale-{run}-b{n}" for n in range(ALERTS_PER_WAVE)]
    victim, survivors = workers[0], workers[1:]
    load_is_on = threading.Event()
    receiver.on_request = lambda _: load_is_on.set() if len(receiver.requests) >= PAGED_BEFORE_KILL else None

    async with httpx.AsyncClient(timeout=30) as http:
        incident_ids = await post_alerts(http, intake_url, before)
        assert await asyncio.to_thread(load_is_on.wait, 60), "no pages arrived"
        await victim.kill()
        incident_ids += await post_alerts(http, intake_url, after)

    assert len(set(incident_ids)) == 2 * ALERTS_PER_WAVE
    incidents = [client.get_workflow_handle(id, result_type=IncidentResult) for id in incident_ids]
    async with asyncio.timeout(SETTLE_SECONDS):
        statuses = await asyncio.gather(*(first_page_delivered(handle) for handle in incidents))
        for handle in incidents:
            await handle.signal("resolve", {"by": "tester"})
        results = await asyncio.gather(*(handle.result() for handle in incidents))

    assert all(result.resolved_by == "tester" for result in results)
    # Every incident's first page reached the real receiver (later notices: acknowledged, resolved, ...
    # arrive too). A page retried after the kill is the same request: same idempotency key.
    first_pages = {
        key for request in receiver.requests if "/ack/1/" in (key := request.headers["Idempotency-Key"])
    }
    assert {key.split("/")[0] for key in first_pages} == {status.occurrence for status in statuses}
    assert len(first_pages) == len(incidents)

    # The incidents were shared: the victim did work before it died, and both survivors did work.
    workers_seen = set().union(*[await identities(client, handle) for handle in incidents])
    for worker in workers:
        assert any(identity.startswith(f"{worker.pid}@") for identity in workers_seen), worker.pid
    for worker in survivors:
        assert await worker.stop() == 0, worker.output()  # SIGTERM: a graceful stop after all that
