"""Escalation timers on the time-skipping server: who is paged when, and that an ack stops it all."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, events, running_worker, start_incident
from workflows.incident import IncidentWorkflow
from workflows.messages import EventKind, IncidentStatus, Severity


def response_started(status: IncidentStatus) -> object:
    return next(event.at for event in status.timeline if event.summary == "phase response")


async def test_unacknowledged_sev1_pages_level_2_at_exactly_15_minutes(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=14, seconds=59))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 1 and status.paged == ["oncall-primary"]
        assert status.next_deadline is not None
        assert status.next_deadline.due_at - response_started(status) == timedelta(minutes=15)  # type: ignore[operator]

        await time_skipping_env.sleep(timedelta(seconds=2))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 2
        assert status.paged == ["oncall-primary", "engineering-manager"]
        escalation = events(status, EventKind.ESCALATED)[0]
        offset = escalation.at - response_started(status)  # type: ignore[operator]
        assert timedelta(minutes=15) <= offset < timedelta(minutes=15, seconds=1)
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()


async def test_acknowledgement_cancels_every_pending_escalation(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    console = StringIO()
    async with running_worker(client, settings, {"console": ConsoleNotifier(console)}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=10))
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await time_skipping_env.sleep(timedelta(hours=6))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 1
        assert events(status, EventKind.ESCALATED) == []
        assert status.next_deadline is None
        assert console.getvalue().count(">>> ") == 1
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()


async def test_escalation_walks_every_level_repeats_the_last_then_stops(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(hours=10))
        status = await handle.query(IncidentWorkflow.status)
        pages = events(status, EventKind.PAGED) + events(status, EventKind.ESCALATED)
        offsets = [event.at - response_started(status) for event in pages]  # type: ignore[operator]
        assert [round(offset.total_seconds() / 60) for offset in offsets] == [0, 30, 60, 90, 120]
        assert status.paged == ["oncall-primary", "engineering-manager", "vp-engineering"]
        assert status.next_deadline is None
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "vp"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "vp"})
        await handle.result()


async def test_upgrading_severity_moves_the_pending_deadline_forward(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=20))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 1  # SEV-3 waits 2 h for an ack
        await handle.signal(
            IncidentWorkflow.reclassify, {"by": "ic", "severity": "SEV-1", "reason": "payments failing too"}
        )
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await handle.query(IncidentWorkflow.status)
        # Under SEV-1 the level-2 page was due at 15 min: it goes out as soon as the severity changes.
        assert status.escalation_level == 2
        assert status.classification is not None and status.classification.decided_by == "ic"
        assert status.next_deadline is not None and status.next_deadline.targets == ["vp-engineering"]
        await handle.signal(IncidentWorkflow.resolve, {"by": "ic"})
        await handle.result()
