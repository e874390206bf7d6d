"""Escalation on the time-skipping server, to the second: who is paged when, and that an ack stops the chain.

Runs under tests/policy.yaml: checkout belongs to team payments (level 1: olivia, tom, sam; level 2: erin,
dora; level 3: vic, cleo, bree); search belongs to team search (tech lead sid).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, events, running_worker, start_incident
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import EventKind, IncidentStatus

LEVEL_1, LEVEL_2, LEVEL_3 = ["olivia", "tom", "sam"], ["erin", "dora"], ["vic", "cleo", "bree"]


def response_started(status: IncidentStatus) -> datetime:
    return next(event.at for event in status.timeline if event.summary == "phase response")


def performed(status: IncidentStatus, prefix: str = "") -> dict[str, timedelta]:
    """Duty id -> when it was carried out, relative to the start of the response."""
    start = response_started(status)
    return {
        event.details["duty"]: event.at - start
        for event in status.timeline
        if "duty" in event.details and str(event.details["duty"]).startswith(prefix)
    }


def at(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def offset_of(status: IncidentStatus, kind: EventKind, text: str) -> timedelta:
    """When the first event of a kind whose summary contains `text` happened, relative to the response."""
    return next(e.at for e in status.timeline if e.kind is kind and text in e.summary) - response_started(
        status
    )


def right_after(offset: timedelta, reference: timedelta) -> bool:
    return reference <= offset < reference + timedelta(seconds=1)


def exactly(offset: timedelta, minutes: float) -> bool:
    """Within the same second: activities take a few real milliseconds on top of the skipped time."""
    return at(minutes) <= offset < at(minutes) + timedelta(seconds=1)


async def test_unacknowledged_sev1_pages_level_2_at_exactly_15_minutes_not_at_14_59(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=14, seconds=59))
        status = await handle.query(IncidentWorkflow.status)
        assert status.paged == LEVEL_1 + LEVEL_3  # SEV-1 engages level 3 at once
        assert 2 not in [level for level in (1, 2, 3) if status.escalation_level == 2]
        assert status.next_deadline is not None and status.next_deadline.targets == LEVEL_2
        assert status.next_deadline.due_at - response_started(status) == at(15)

        await time_skipping_env.sleep(timedelta(seconds=2))
        status = await handle.query(IncidentWorkflow.status)
        assert status.paged == LEVEL_1 + LEVEL_3 + LEVEL_2
        assert exactly(performed(status)["ack/2"], 15)
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()


async def test_acknowledgement_stops_the_ack_chain_for_good(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=10))
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await time_skipping_env.sleep(timedelta(hours=6))
        status = await handle.query(IncidentWorkflow.status)
        assert set(performed(status, "ack/")) == {"ack/1"}
        # Still open after 1 h: level 2 is engaged by the open-incident rule, acknowledged or not.
        assert exactly(performed(status)["open/2"], 60)
        assert all(deadline.kind != "page" for deadline in status.upcoming)
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()


async def test_notes_that_move_no_deadline_leave_its_timer_running_and_the_page_still_goes_on_time(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Before (all-patches-2026-12-c), every wake-up cancelled the next deadline's timer and started it again
    for the same instant: two history events and a timer write per note, alert re-fire or finished activity."""
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        for minute in range(1, 6):
            await time_skipping_env.sleep(timedelta(minutes=1))
            await handle.signal(IncidentWorkflow.add_note, {"by": "olivia", "text": f"minute {minute}"})
        await time_skipping_env.sleep(timedelta(minutes=11))
        status = await handle.query(IncidentWorkflow.status)
        assert len(events(status, EventKind.NOTE)) == 5
        assert exactly(performed(status)["ack/2"], 15)  # the kept timer still fires to the second
        history = await handle.fetch_history()
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await handle.result()
    kinds = [event.event_type for event in history.events]
    assert EventType.EVENT_TYPE_TIMER_CANCELED not in kinds
    assert kinds.count(EventType.EVENT_TYPE_TIMER_FIRED) == 1  # 15 minutes: the level-2 page


async def test_unacknowledged_sev2_walks_every_level_then_repeats_the_last_twice(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(hours=10))
        status = await handle.query(IncidentWorkflow.status)
        pages = performed(status, "ack/")
        expected = {"ack/1": 0, "ack/2": 30, "ack/3": 60, "ack/3/repeat-1": 90, "ack/3/repeat-2": 120}
        assert set(pages) == set(expected)
        assert all(exactly(pages[duty], minutes) for duty, minutes in expected.items())
        assert status.paged == LEVEL_1 + LEVEL_2 + LEVEL_3
        # The director was reached by level 2 within the hour, so no separate management notice went out.
        assert "management/SEV-2" not in performed(status)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "vic"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "vic"})
        await handle.result()


async def test_upgrading_severity_moves_pending_deadlines_forward(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=20))
        assert (await handle.query(IncidentWorkflow.status)).escalation_level == 1  # SEV-3: 2 h to ack
        await handle.signal(
            IncidentWorkflow.reclassify, {"by": "ivan", "severity": "SEV-1", "reason": "payments failing too"}
        )
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await handle.query(IncidentWorkflow.status)
        # Under SEV-1, level 2 was due at 15 min and level 3 at once: both go out when the severity changes.
        changed = offset_of(status, EventKind.RECLASSIFIED, "SEV-1")
        assert right_after(performed(status)["ack/2"], changed) and right_after(
            performed(status)["open/3"], changed
        )
        assert status.classification is not None and status.classification.decided_by == "ivan"
        await handle.signal(IncidentWorkflow.resolve, {"by": "ivan"})
        await handle.result()


async def test_a_second_team_makes_the_incident_cross_team_and_engages_level_2_at_once(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=5))
        alert = {"source": "grafana", "dedup_key": "x", "service": "search", "summary": "search 5xx"}
        await handle.signal(IncidentWorkflow.add_alert, alert)
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await handle.query(IncidentWorkflow.status)
        crossed = offset_of(status, EventKind.NOTE, "crosses team boundaries")
        assert right_after(performed(status)["cross-team/2"], crossed)
        assert status.paged == [*LEVEL_1, "erin", "dora", "sid"]  # sid: the other team's tech lead
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()


async def test_manual_escalation_engages_the_level_at_once(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=5))
        await handle.signal(IncidentWorkflow.escalate, {"by": "tom", "level": 3, "reason": "need a VP call"})
        await handle.signal(IncidentWorkflow.escalate, {"by": "tom", "level": 9, "reason": "typo"})
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await handle.query(IncidentWorkflow.status)
        assert right_after(performed(status)["manual/3"], offset_of(status, EventKind.ESCALATED, "requested"))
        assert "level 9 does not exist (1..3)" in events(status, EventKind.REJECTED)[-1].summary
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()
