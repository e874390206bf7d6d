"""Signal-with-start, search attributes and visibility on the real dev server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from io import StringIO
from typing import Any
from uuid import uuid4

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import events, running_worker, signal_with_start, status_when
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, AlertStatus, Impact
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind
from workflows.search_attributes import INCIDENT_MTTA, INCIDENT_MTTR


def firing(dedup_key: str, event_id: str, **impact: Any) -> Alert:
    return Alert(
        source="alertmanager",
        dedup_key=dedup_key,
        event_id=event_id,
        service="checkout",
        summary="5xx rate above 5%",
        severity_hint="warning",
        impact=Impact(**impact),
    )


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> bool:
    """Visibility is eventually consistent: poll with a bounded wait."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_signal_with_start_twice_joins_one_incident_and_ignores_a_repeat(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_env.client
    key = f"group-{uuid4()}"
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        first = await signal_with_start(
            client, settings.task_queue, key, firing(key, "delivery-1", regions=["eu-west-1"])
        )
        second = await signal_with_start(
            client, settings.task_queue, key, firing(key, "delivery-2", regions=["eu-west-1", "us-east-1"])
        )
        repeat = await signal_with_start(client, settings.task_queue, key, firing(key, "delivery-2"))
        assert first.result_run_id == second.result_run_id == repeat.result_run_id

        async def both_alerts_in() -> bool:
            return (await first.query(IncidentWorkflow.status)).alert_count == 2

        assert await eventually(both_alerts_in)
        status = await first.query(IncidentWorkflow.status)
        assert len(events(status, EventKind.ALERT)) == 2
        # The second alert widened the impact to two regions: the matrix raised SEV-3 to SEV-2.
        assert status.severity is Severity.SEV2
        assert status.classification is not None
        assert any("multi-region" in reason.explanation for reason in status.classification.reasons)

        count = await client.count_workflows(f'WorkflowId = "{first.id}"')
        assert count.count == 1
        await first.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await first.result()


async def test_list_by_phase_and_severity_finds_the_incident(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_env.client
    key = f"visible-{uuid4()}"
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await signal_with_start(
            client, settings.task_queue, key, firing(key, "d-1", user_scope="all")
        )
        in_response = (
            f'WorkflowId = "{handle.id}" AND IncidentPhase = "response" AND IncidentSeverity = "SEV-1"'
        )

        assert await eventually(lambda: counted(client, in_response))
        assert await eventually(
            lambda: counted(client, f'WorkflowId = "{handle.id}" AND IncidentService = "checkout"')
        )
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()
        assert await eventually(
            lambda: counted(client, f'WorkflowId = "{handle.id}" AND IncidentPhase = "closed"')
        )
        assert not await counted(client, in_response)


async def test_a_burst_of_changes_in_one_workflow_task_upserts_the_search_attributes_once(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Each upsert is a history event and a visibility write on the server: once per workflow task, the
    painter's, not once per change (docs/performance.md)."""
    client = dev_env.client
    key = f"burst-{uuid4()}"
    # No worker yet: the alert, a reclassify and a note wait on the server and reach the incident together,
    # in its first workflow task, which also pins the policy (a local activity) and classifies. The matrix
    # says SEV-3 for this alert: bob's SEV-1, set before it ran, stands.
    handle = await signal_with_start(client, settings.task_queue, key, firing(key, "d-1"))
    await handle.signal(IncidentWorkflow.reclassify, {"by": "bob", "severity": "SEV-1", "reason": "all EU"})
    await handle.signal(IncidentWorkflow.add_note, {"by": "carol", "text": "looking"})
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        in_response = (
            f'WorkflowId = "{handle.id}" AND IncidentPhase = "response" AND IncidentSeverity = "SEV-1"'
        )
        assert await eventually(lambda: counted(client, in_response))
        history = await handle.fetch_history()
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()
    per_task = upserts_per_workflow_task(history)
    assert per_task[1] == 1, per_task  # [0] is before the first task completed
    assert max(per_task) == 1, per_task


async def counted(client: Client, query: str) -> bool:
    """Exactly one workflow matches the visibility query."""
    return (await client.count_workflows(query)).count == 1


def upserts_per_workflow_task(history: WorkflowHistory) -> list[int]:
    """Our upserts among each workflow task's commands; the SDK core's TemporalChangeVersion upsert, which
    comes with a patch marker, is not ours."""
    counts = [0]
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            counts.append(0)
        elif event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            counts[-1] += "TemporalChangeVersion" not in fields
    return counts


async def test_a_malformed_alert_is_rejected_and_the_incident_waits_for_a_valid_one(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_env.client
    key = f"bad-{uuid4()}"
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await signal_with_start(client, settings.task_queue, key, {"service": ""})
        await asyncio.sleep(0.5)
        status = await handle.query(IncidentWorkflow.status)
        assert status.phase is Phase.DETECTION and status.alert_count == 0
        assert "add_alert" in events(status, EventKind.REJECTED)[0].summary

        await handle.signal(IncidentWorkflow.add_alert, firing(key, "d-1"))
        assert await eventually(lambda: _phase_is(handle, Phase.RESPONSE))
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()


async def _phase_is(handle: WorkflowHandle[Any, Any], phase: Phase) -> bool:
    return (await handle.query(IncidentWorkflow.status)).phase is phase


async def test_an_incident_whose_alerts_resolved_before_anyone_acked_has_an_mttr_but_no_mtta(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    """`warroom report` aggregates MTTA from IncidentMttaSeconds: the alerts resolving is nobody's ack."""
    client = dev_env.client
    key = f"self-healed-{uuid4()}"
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await signal_with_start(client, settings.task_queue, key, firing(key, "d-1"))
        await status_when(handle, lambda status: bool(status.paged))
        resolved = firing(key, "d-2").model_copy(update={"status": AlertStatus.RESOLVED})
        await handle.signal(IncidentWorkflow.add_alert, resolved)
        result = await handle.result()
    assert result.resolved_by == "alertmanager (all alerts resolved)"
    assert result.acknowledged_by == "alertmanager (all alerts resolved)"
    assert result.time_to_acknowledge_seconds is None
    closed = f'WorkflowId = "{handle.id}" AND IncidentPhase = "closed" AND IncidentMttrSeconds >= 0'
    assert await eventually(lambda: counted(client, closed))
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(INCIDENT_MTTR) is not None and attributes.get(INCIDENT_MTTA) is None
