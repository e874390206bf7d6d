"""The whole life of a declared incident on the time-skipping server, with the real activities."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, events, running_worker, start_incident, status_when
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import IncidentInput
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind


async def test_declare_page_ack_mitigate_resolve_writes_postmortem(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    console = StringIO()
    async with running_worker(client, settings, {"console": ConsoleNotifier(console)}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(minutes=5))
        status = await handle.query(IncidentWorkflow.status)
        assert status.phase is Phase.RESPONSE
        assert status.severity is Severity.SEV2
        assert status.paged == ["olivia", "tom", "sam"]  # on-call, tech lead and owner of checkout
        assert status.next_deadline is not None and status.next_deadline.targets == ["erin", "dora"]

        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob", "note": "looking"})
        await handle.signal(IncidentWorkflow.mitigate, {"by": "bob", "note": "rolled back"})
        await time_skipping_env.sleep(timedelta(minutes=1))
        assert (await handle.query(IncidentWorkflow.status)).phase is Phase.RECOVERY
        await handle.signal(IncidentWorkflow.add_note, {"by": "carol", "text": "bad deploy 4711"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob", "note": "fixed"})
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)

    assert status.phase is Phase.CLOSED
    assert result.acknowledged_by == "bob" and result.resolved_by == "bob"
    assert result.time_to_acknowledge_seconds is not None and result.time_to_acknowledge_seconds >= 300
    phases = [event.summary for event in events(status, EventKind.PHASE)]
    assert phases == [f"phase {phase.value}" for phase in Phase]
    assert "PAGE to olivia, tom, sam" in console.getvalue()
    assert "RESOLUTION to olivia, tom, sam" in console.getvalue()

    postmortem = Path(result.postmortem_path or "").read_text()
    assert status.incident_id in postmortem
    assert "bad deploy 4711" in postmortem and "rolled back" in postmortem
    assert "| Acknowledged by | bob |" in postmortem
    assert postmortem.startswith(f"# Post-mortem: {declared_incident().summary}")


async def test_bad_and_empty_acknowledge_are_rejected_into_the_timeline_and_the_incident_completes(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident())
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        await handle.signal(IncidentWorkflow.acknowledge, {"byy": "bob", "command_id": "typo-1"})
        await handle.signal(IncidentWorkflow.acknowledge)  # an empty Data box in the Web UI sends no argument
        await handle.signal(IncidentWorkflow.acknowledge, "bob")
        await handle.signal(IncidentWorkflow.reclassify, {"by": "bob", "severity": "SEV-9", "reason": "x"})
        status = await status_when(handle, lambda status: len(events(status, EventKind.REJECTED)) == 4)
        rejected = [event.summary for event in events(status, EventKind.REJECTED)]
        assert len(rejected) == 4, rejected
        assert "byy: Extra inputs are not permitted" in rejected[0] and "by: Field required" in rejected[0]
        assert events(status, EventKind.REJECTED)[0].command_id == "typo-1"
        assert "empty payload" in rejected[1]
        assert "acknowledge: " in rejected[2]
        assert "severity" in rejected[3]
        assert status.acknowledged_by is None and status.severity is Severity.SEV1

        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        result = await handle.result()
    assert result.acknowledged_by == "bob"


async def test_repeated_command_id_is_applied_once(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident())
        note = {"by": "bob", "text": "checked the load balancer", "command_id": "cmd-1"}
        for _ in range(3):
            await handle.signal(IncidentWorkflow.add_note, note)
        await handle.signal(IncidentWorkflow.add_note, {"by": "bob", "text": "marker"})
        # Signals are applied in order: once the marker is in, all three repeats have been handled.
        status = await status_when(handle, lambda status: "marker" in str(events(status, EventKind.NOTE)))
        notes = [event.summary for event in events(status, EventKind.NOTE)]
        assert notes == ["checked the load balancer", "marker"]
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()


async def test_commands_after_resolution_are_rejected_with_a_reason(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident())
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "carol"})
        await handle.result()
        status = await handle.query(IncidentWorkflow.status)
    ignored = events(status, EventKind.IGNORED)
    rejected = events(status, EventKind.REJECTED)
    # The second resolve arrives either while the first is being processed (ignored) or after (rejected).
    assert len(ignored) + len(rejected) == 1
    assert status.resolved_by == "bob"
    assert [event.actor for event in events(status, EventKind.ACKNOWLEDGED)] == ["bob"]


async def test_an_incident_with_no_valid_alert_closes_itself_after_the_detection_timeout(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, IncidentInput(incident_key=f"empty-{uuid4()}"))
        await handle.signal(IncidentWorkflow.add_alert, {"source": "x"})
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)
    assert result.severity is None and result.postmortem_path is None
    assert status.phase is Phase.CLOSED
    assert events(status, EventKind.RESOLVED)[0].summary == "closed: no valid alert or declaration arrived"
    assert status.timeline[-1].at - status.timeline[0].at >= timedelta(hours=1)
