"""Long lives on the time-skipping server: an unacknowledged SEV-1 open for 30 days, its alert re-firing every
10 minutes (4,320 alerts), a status update about once a day. Runs continue as new before the server's 4,096-event suggestion, every duty
fires at its second across the boundaries and none twice, and the post-mortem holds the whole timeline."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.archive.timeline_files import TimelineArchive
from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, running_worker, start_incident
from tests.workflow.refiring_sender import RefiringPlan, RefiringSender
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import EventKind

DAYS = int(os.environ.get("WARROOM_LONG_LIFE_DAYS", "30"))
SEV1_ACK = timedelta(minutes=15)
SEV1_CADENCE = timedelta(minutes=30)
SEV1_ESCALATE_AFTER = timedelta(minutes=15)
# Every 10 minutes, not Alertmanager's 5: the same month and as many runs at half the CI time (the test took
# 8 minutes on a slower 2-core machine at 5).
REFIRE = timedelta(minutes=10)


@pytest.mark.timeout(480)  # 2-4 min on a quiet 2-core machine; a test-server hang is re-run (conftest)
async def test_a_30_day_sev1_continues_as_new_keeps_every_duty_on_time_once_and_a_whole_postmortem(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    fires = int(timedelta(days=DAYS) / REFIRE)
    sender_queue = f"{settings.task_queue}-sender"
    async with (
        running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}),
        Worker(client, task_queue=sender_queue, workflows=[RefiringSender]),
    ):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        first_run = (await handle.describe()).run_id
        plan = RefiringPlan(
            incident_id=handle.id, fires=fires, every=REFIRE, update_every=int(timedelta(days=1) / REFIRE)
        )
        sent = await client.execute_workflow(
            RefiringSender.run, plan, id=f"sender-{handle.id}", task_queue=sender_queue
        )
        assert sent == fires
        status = await handle.query(IncidentWorkflow.status)
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia", "force": True})
        result = await handle.result()

    assert status.runs >= max(2, DAYS // 10), "a month must span several runs"
    assert status.alert_count == fires and status.acknowledged_by is None
    run_lengths, carried = await lengths_of_runs(client, handle.id, first_run)
    assert len(run_lengths) == status.runs and max(run_lengths) < 4096, run_lengths
    # Bounded state: what each run carries to the next does not grow with the incident's age.
    assert max(carried) < 256 * 1024 and carried[-1] < 2 * carried[0] + 64 * 1024, carried

    archive = TimelineArchive(settings.data_dir / "timeline").read(result.occurrence or "")
    assert [event.seq for event in archive] == list(range(len(archive))), "the archive lost or doubled events"
    performed = [
        event for event in archive if event.kind in (EventKind.PAGED, EventKind.ESCALATED, EventKind.NUDGED)
    ]
    duties = Counter(str(event.details["duty"]) for event in performed)
    assert max(duties.values()) == 1, f"a duty ran twice: {duties.most_common(3)}"
    started = next(event.at for event in archive if event.summary == "phase response")
    for event in performed:
        due = due_at(str(event.details["duty"]), started)
        assert due <= event.at < due + timedelta(seconds=1), (
            f"{event.details['duty']} at {event.at}, due {due}"
        )
    assert sum(1 for event in archive if event.kind is EventKind.ALERT) == fires
    postmortem = Path(result.postmortem_path or "").read_text(encoding="utf-8")
    assert postmortem.count("| alert |") == fires and postmortem.count("| nudged |") == duties_of(
        duties, "status/"
    )


async def lengths_of_runs(client: Client, workflow_id: str, run_id: str) -> tuple[list[int], list[int]]:
    """Follow the chain of runs from the first: each run's history length, and the bytes of state each
    continue-as-new carried to the next run."""
    lengths, carried = [], []
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return lengths, carried
        attributes = last.workflow_execution_continued_as_new_event_attributes
        carried.append(sum(len(payload.data) for payload in attributes.input.payloads))
        run_id = attributes.new_execution_run_id


def due_at(duty: str, started: datetime) -> datetime:
    """When the policy (tests/policy.yaml, SEV-1) makes this duty due, from its id."""
    if duty.startswith("status/"):
        _, anchor, slot, step = duty.split("/")
        return (
            datetime.fromisoformat(anchor)
            + SEV1_CADENCE * int(slot)
            + (SEV1_ESCALATE_AFTER if step == "escalate" else timedelta(0))
        )
    if duty.startswith("ack/"):
        parts = duty.split("/")
        level = int(parts[1])
        repeat = int(parts[2].removeprefix("repeat-")) if len(parts) > 2 else 0
        return started + SEV1_ACK * (level - 1 + repeat)
    assert duty == "open/3", duty
    return started


def duties_of(duties: Counter[str], prefix: str) -> int:
    return sum(count for duty, count in duties.items() if duty.startswith(prefix))
