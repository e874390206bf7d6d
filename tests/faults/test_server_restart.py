"""Fault injection: the Temporal dev server (SQLite file) is killed with SIGKILL mid-incident and started again
on the same file. The incident resumes where it was, and the level-2 page whose timer fell due while the
server was down goes out after the restart. The worker is the same process throughout: it rides out the outage
by retrying its polls, as a production worker does when its cluster restarts."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import Client, WorkflowHandle

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import (
    TEST_POLICY,
    declared_incident,
    free_port,
    running_worker,
    start_incident,
    status_when,
    write_policy,
)
from workers.dev_stack import DevServer, StackConfig
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import EventKind, IncidentStatus

ACK_DEADLINE_SECONDS = 10  # level 2 due at 10 s
DOWN_SECONDS = 12


async def started(config: StackConfig, settings: Settings) -> tuple[DevServer, Client]:
    server = await DevServer.start(config)
    client = await server.wait_ready(None, settings, asyncio.Event())
    assert client is not None
    return server, client


async def level_two_paged(handle: WorkflowHandle[Any, Any], seconds: float) -> IncidentStatus:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            status: IncidentStatus = await handle.query(IncidentWorkflow.status)
            if status.escalation_level >= 2 or asyncio.get_running_loop().time() > deadline:
                return status
        except Exception:  # the frontend answers before history shards are ready: ask again
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


@pytest.mark.timeout(120)
async def test_a_timer_due_while_the_server_was_down_fires_after_it_restarts(
    settings: Settings, tmp_path: Path
) -> None:
    policy = yaml.safe_load(TEST_POLICY.read_text())
    deadline = f"{ACK_DEADLINE_SECONDS}s"
    policy["escalation"] = {"ack_deadline": dict.fromkeys(("SEV-1", "SEV-2", "SEV-3", "SEV-4"), deadline)}
    config = StackConfig(port=free_port(), ui_port=free_port(), data_dir=tmp_path / "server")
    settings = settings.model_copy(update={
        "policy_file": write_policy(tmp_path / "policy.yaml", policy),
        "temporal_address": config.address,
    })  # fmt: skip
    server, client = await started(config, settings)
    try:
        async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
            handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
            first = await status_when(handle, lambda status: status.escalation_level >= 1)
            assert first.escalation_level == 1

            os.killpg(server.pid, signal.SIGKILL)
            await server.process.wait()
            await asyncio.sleep(DOWN_SECONDS)  # the level-2 timer falls due while nobody can fire it
            restarted_at = datetime.now(UTC)
            server, client = await started(config, settings)
            handle = client.get_workflow_handle_for(IncidentWorkflow.run, handle.id)
            status = await level_two_paged(handle, 45)
            await handle.signal(IncidentWorkflow.resolve, {"by": "olivia", "force": True})
            result = await handle.result()
    finally:
        await server.stop()

    assert status.escalation_level >= 2, status.timeline[-5:]  # level 3 too, if the worker came back late
    [escalated] = [
        event
        for event in status.timeline
        if event.kind is EventKind.ESCALATED and event.details.get("duty") == "ack/2"
    ]
    assert escalated.at >= restarted_at, "the page went out after the restart, from the timer that fell due"
    assert result.resolved_by == "olivia"
