"""On the real dev server: commands as updates with validators, continue-as-new under thousands of signals,
and an alert that fires again right after resolution (a new occurrence that pages)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from io import StringIO
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import (
    HealthEndpoint,
    declared_incident,
    running_worker,
    signal_with_start,
    start_incident,
    status_when,
    write_policy,
)
from workers.binaries import find_binary
from workers.cli.render import render_status
from workers.data_converter import data_converter
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.commands import CommandVerdict
from workflows.messages.common import Phase, Severity
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

NOTES = 6000


def firing(key: str, event_id: str, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(source="generic", dedup_key=key, event_id=event_id, status=status, service="checkout",
                 summary="5xx above 5%")  # fmt: skip


async def test_commands_as_updates_answer_with_a_verdict_and_refusals_never_enter_history(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        ack = await handle.execute_update(
            "acknowledge", {"by": "bob", "command_id": "a1"}, result_type=CommandVerdict
        )
        again = await handle.execute_update("acknowledge", {"by": "eve"}, result_type=CommandVerdict)
        repeat = await handle.execute_update(
            "acknowledge", {"by": "bob", "command_id": "a1"}, result_type=CommandVerdict
        )
        assert (ack.outcome, again.outcome, repeat.outcome) == ("applied", "ignored", "ignored")
        assert "already acknowledged by bob" in again.reason

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                "assign_role",
                {"by": "bob", "role": "tech_lead", "person": "mallory"},
                result_type=CommandVerdict,
            )
        assert "unknown person 'mallory'" in str(refused.value.cause)
        with pytest.raises(WorkflowUpdateFailedError):  # a typo'd field: the payload does not parse
            await handle.execute_update("add_note", {"by": "bob", "txet": "x"}, result_type=CommandVerdict)

        resolved = await handle.execute_update(
            "resolve", {"by": "bob", "note": "fixed"}, result_type=CommandVerdict
        )
        assert resolved.outcome == "applied" and resolved.reason == "resolved"
        await handle.result()
        history = await handle.fetch_history()
        status = await handle.query(IncidentWorkflow.status)
    rejected = [
        e for e in history.events if e.HasField("workflow_execution_update_rejected_event_attributes")
    ]
    assert not rejected, "the server records no rejected update; validators refused before history"
    assert not any("mallory" in event.summary for event in status.timeline)


async def test_a_resolve_update_waits_for_the_health_gate_and_says_why_it_refused(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, health_endpoint: HealthEndpoint
) -> None:
    policy = yaml.safe_load(settings.policy_file.read_text(encoding="utf-8"))
    policy["health_checks"] = {"checkout": health_endpoint.url}
    settings = settings.model_copy(update={"policy_file": write_policy(tmp_path / "policy.yaml", policy)})
    health_endpoint.status_code = 503
    client = dev_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        refused = await handle.execute_update("resolve", {"by": "bob"}, result_type=CommandVerdict)
        assert refused.outcome == "rejected" and "health gate failed" in refused.reason
        health_endpoint.status_code = 200
        resolved = await handle.execute_update("resolve", {"by": "bob"}, result_type=CommandVerdict)
        assert resolved.outcome == "applied" and resolved.reason == "resolved"
        await handle.result()


async def test_an_alert_firing_again_one_second_after_resolution_opens_a_new_occurrence_that_pages(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_env.client
    console = StringIO()
    key = f"refire-{uuid4()}"
    async with running_worker(client, settings, {"console": ConsoleNotifier(console)}):
        handle = await signal_with_start(client, settings.task_queue, key, firing(key, "e1"))
        first = await status_when(handle, lambda status: bool(status.paged))
        await signal_with_start(
            client, settings.task_queue, key, firing(key, "e1-resolved", AlertStatus.RESOLVED)
        )
        await status_when(handle, lambda status: status.resolved_by is not None)
        await asyncio.sleep(1)
        again = await signal_with_start(client, settings.task_queue, key, firing(key, "e2"))
        second = await status_when(
            again, lambda status: status.occurrence != first.occurrence and bool(status.paged), seconds=20
        )
    assert second.occurrence != first.occurrence and second.phase is Phase.RESPONSE
    assert second.alert_count == 1 and second.paged
    pages = [line for line in console.getvalue().splitlines() if line.startswith(">>> PAGE")]
    keys = [line for line in console.getvalue().splitlines() if "(key " in line]
    assert len(pages) == 2, console.getvalue()
    # Every side effect of the new occurrence has a new idempotency key: receivers never drop it as a repeat.
    assert any(second.occurrence in line for line in keys) and any(first.occurrence in line for line in keys)


@pytest.fixture(scope="module")
async def default_dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server with the server's own continue-as-new suggestion (4,096 events), as `warroom run` has."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
    )
    yield env
    await env.shutdown()


@pytest.mark.timeout(600)
async def test_six_thousand_notes_continue_as_new_and_status_keeps_severity_ack_and_counts(
    default_dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    """The notes arrive while the worker is down, so the restarted worker gets 6,000 signals in one workflow
    task: archiving them must go in batches under the 2 MB payload limit, and the run must still continue as
    new (one archive call carrying them all failed every workflow task and wedged the incident)."""
    client = default_dev_env.client

    async def send_notes(numbers: range) -> None:
        for batch in range(numbers.start, numbers.stop, 200):
            await asyncio.gather(*(
                handle.signal(IncidentWorkflow.add_note, {"by": "carol", "text": f"note {number}"})
                for number in range(batch, min(batch + 200, numbers.stop))
            ))  # fmt: skip

    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await status_when(handle, lambda status: status.acknowledged_by == "bob")
    await send_notes(range(NOTES))  # the worker is down: they queue in the server
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        status = await status_when(  # a flood of signals defers continue-as-new until it ebbs
            handle,
            lambda status: status.event_counts.get("note", 0) == NOTES and status.runs >= 2,
            seconds=120,
        )
        current = await client.get_workflow_handle(handle.id).fetch_history()
    assert status.event_counts.get("note") == NOTES
    assert status.severity is Severity.SEV2 and status.acknowledged_by == "bob"
    assert status.runs >= 2 and len(current.events) < 4096
    assert len(status.timeline) <= 120, "the status query stays small: recent events only"
    shown = render_status(status)  # what `warroom status` prints
    assert "SEV-2" in shown and "acked:     by bob" in shown and f"{NOTES} note" in shown
