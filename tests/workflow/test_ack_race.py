"""The classic race, made deterministic on the dev server: the worker is away while the ack deadline passes
and the acknowledgement arrives, so its next workflow task carries both the fired timer and the signal.
(The time-skipping server cannot do this: it does not skip time while a workflow task waits for a worker.)"""

from __future__ import annotations

import asyncio
from io import StringIO
from pathlib import Path

import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import (
    TEST_POLICY,
    declared_incident,
    running_worker,
    start_incident,
    status_when,
    write_policy,
)
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Phase, Severity


async def test_an_ack_delivered_with_the_fired_ack_deadline_wins(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    policy = yaml.safe_load(TEST_POLICY.read_text())
    policy["escalation"] = {"ack_deadline": {"SEV-1": "2s", "SEV-2": "2s", "SEV-3": "2s", "SEV-4": "2s"}}
    settings = settings.model_copy(update={"policy_file": write_policy(tmp_path / "fast.yaml", policy)})
    client = dev_env.client
    notifiers = {"console": ConsoleNotifier(StringIO())}
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        status = await status_when(handle, lambda status: status.escalation_level == 1)
        assert status.phase is Phase.RESPONSE and status.paged == ["olivia", "tom", "sam"]
    await asyncio.sleep(3)  # the 2 s ack deadline fires while no worker polls
    await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
    async with running_worker(client, settings, notifiers):
        status = await status_when(handle, lambda status: status.acknowledged_by is not None)
        await asyncio.sleep(1)
        status = await handle.query(IncidentWorkflow.status)
        assert status.paged == ["olivia", "tom", "sam"] and status.escalation_level == 1

        history = await handle.fetch_history()
        kinds = [event.event_type for event in history.events]
        fired = kinds.index(EventType.EVENT_TYPE_TIMER_FIRED)
        signalled = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        started = [i for i, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]
        # Both landed before the next workflow task started: one task saw the timer and the ack together.
        next_task = next(i for i in started if i > fired)
        assert signalled < next_task
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()
