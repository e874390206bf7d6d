"""Communications duties on the time-skipping server, to the second: status-update cadence, business and
regulatory notifications, snooze, roles and the next-business-day deadline. Roster: tests/policy.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, events, polled, running_worker, start_incident, status_when
from tests.workflow.test_escalation import exactly, performed, response_started
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Impact, IncidentInput
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind, IncidentStatus
from workflows.review.workflow import PostmortemReviewWorkflow

CONSOLE = {"console": ConsoleNotifier(StringIO())}


def performed_at(status: IncidentStatus) -> dict[str, datetime]:
    """Duty id -> when it was carried out (for aftercare, whose timeline has no response phase)."""
    return {str(event.details["duty"]): event.at for event in status.timeline if "duty" in event.details}


def recipients(status_event_summary: str) -> str:
    return status_event_summary.rsplit("-> ", 1)[-1]


async def test_missed_status_updates_nudge_comms_then_escalate_to_the_ic_and_post_update_resets_the_clock(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=1))
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await time_skipping_env.sleep(timedelta(minutes=9))
        await handle.signal(IncidentWorkflow.post_update, {"by": "cora", "text": "rollback in progress"})
        await time_skipping_env.sleep(timedelta(minutes=50))
        status = await handle.query(IncidentWorkflow.status)
        nudges = {duty.rsplit("/", 1)[-1]: offset for duty, offset in performed(status, "status/").items()}
        updated = events(status, EventKind.STATUS_UPDATE)[0].at - response_started(status)
        assert exactly(nudges["nudge"] - updated, 30)  # SEV-1: every 30 min from the last update
        assert exactly(nudges["escalate"] - updated, 45)  # then 15 min later to the IC
        nudged = [e.summary for e in events(status, EventKind.NUDGED)]
        assert recipients(nudged[0]) == "cora" and recipients(nudged[1]) == "ivan"
        assert status.roles["incident_commander"] == "ivan" and status.roles["communications"] == "cora"
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()


async def ended(handle: WorkflowHandle[Any, Any], seconds: float = 20) -> None:
    """Poll until the run has ended (bounded): describe, unlike awaiting the result, does not skip time."""
    running = WorkflowExecutionStatus.RUNNING
    described = await polled(handle.describe, lambda description: description.status is not running, seconds)
    assert described.status is not running, "the incident did not end"


async def test_data_breach_notifies_compliance_at_resolution_and_the_review_reminds_until_recorded(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    breach = IncidentInput(
        incident_key="breach-1",
        service="checkout",
        summary="card data exposed",
        declared_by="tom",
        impact=Impact(security_breach=True, users_affected=5000),
    )
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, breach)
        await time_skipping_env.sleep(timedelta(minutes=10))
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "note": "bucket closed"})
        # A resolved incident lets go at once; the regulatory clock moves to a workflow of its own. Its end is
        # awaited by polling, not by result(): awaiting a result lets the test server skip time, here to the
        # aftercare's first reminder a day later, and the sleep below would then overshoot the second.
        await ended(handle)
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)
        assert status.severity is Severity.SEV1 and status.phase is Phase.CLOSED
        assert result.aftercare_workflow_id and result.aftercare_workflow_id == status.aftercare_workflow_id
        done = performed(status)
        resolved = next(e.at for e in status.timeline if e.kind is EventKind.RESOLVED) - response_started(
            status
        )
        for business in (
            "business/customer support",
            "business/executive briefing",
            "business/compliance, legal and DPO",
        ):
            assert resolved <= done[business] < resolved + timedelta(seconds=1)  # flushed at resolution
        started = response_started(status)

        aftercare = client.get_workflow_handle(result.aftercare_workflow_id)
        await time_skipping_env.sleep(
            started + timedelta(hours=30) - await time_skipping_env.get_current_time()
        )
        status = await aftercare.query(PostmortemReviewWorkflow.status)
        done = {duty: at - started for duty, at in performed_at(status).items()}
        assert exactly(done["regulatory/reminder-1"], 24 * 60)
        assert "regulatory/reminder-2" not in done
        assert status.regulatory_deadline is not None
        assert status.regulatory_deadline - started < timedelta(hours=72, seconds=1)
        reminder = next(e.summary for e in events(status, EventKind.REGULATORY))
        assert recipients(reminder) == "lex, ivan"

        await aftercare.signal("record_regulatory_notification", {"by": "lex", "reference": "DPA-42"})
        # Seen applied before awaiting the result: awaiting lets the test server skip time.
        await status_when(aftercare, lambda status: status.regulatory_notified_by == "lex")
        # The review ends once it is complete too (its own reminders are tested in tests/analysis).
        await aftercare.signal("postmortem_complete", {"by": "fay"})
        await aftercare.result()
        status = await aftercare.query(PostmortemReviewWorkflow.status)
    assert status.regulatory_notified_by == "lex"
    assert "regulatory/reminder-2" not in performed_at(status)
    assert "regulatory/deadline" not in performed_at(status)


async def test_unresolved_regulatory_incident_reminds_at_24_and_48_hours_and_flags_the_72_hour_deadline(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    inp = IncidentInput(
        incident_key="gdpr-1",
        service="checkout",
        summary="consent bypass",
        declared_by="tom",
        severity=Severity.SEV3,  # a human's choice stands: three days of SEV-1 nudges would only slow the test
        impact=Impact(regulatory=True),
    )
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, inp)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await time_skipping_env.sleep(timedelta(hours=73))
        done = performed(await handle.query(IncidentWorkflow.status))
        assert exactly(done["business/compliance, legal and DPO"], 120)
        assert exactly(done["regulatory/reminder-1"], 24 * 60) and exactly(
            done["regulatory/reminder-2"], 48 * 60
        )
        assert exactly(done["regulatory/deadline"], 72 * 60)
        await handle.signal(IncidentWorkflow.record_regulatory_notification, {"by": "lex"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()


async def test_customer_facing_incident_reaches_customer_support_at_30_minutes(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    inp = IncidentInput(
        incident_key="cust-1",
        service="checkout",
        summary="slow",
        declared_by="tom",
        impact=Impact(users_affected=20_000),
    )
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, inp)
        await time_skipping_env.sleep(timedelta(minutes=29, seconds=59))
        assert "business/customer support" not in performed(await handle.query(IncidentWorkflow.status))
        await time_skipping_env.sleep(timedelta(seconds=2))
        status = await handle.query(IncidentWorkflow.status)
        assert exactly(performed(status)["business/customer support"], 30)
        assert recipients(events(status, EventKind.NOTIFIED)[0].summary) == "sue"
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()


async def test_snooze_holds_pages_of_a_sev2_and_refuses_a_sev1_or_too_long_a_snooze(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(minutes=1))
        await handle.signal(IncidentWorkflow.snooze, {"by": "tom", "duration": "5h", "reason": "too long"})
        await handle.signal(IncidentWorkflow.snooze, {"by": "tom", "duration": "1h", "reason": "known flake"})
        await time_skipping_env.sleep(timedelta(minutes=90))
        status = await handle.query(IncidentWorkflow.status)
        snoozed = events(status, EventKind.SNOOZED)[0].at - response_started(status)
        # Level 2 was due at 30 min (ack chain) and 60 min (still open): held, it goes out once when the snooze ends.
        assert exactly(performed(status)["ack/2"] - snoozed, 60)
        assert "open/2" not in performed(status)
        assert "at most 4:00:00" in events(status, EventKind.REJECTED)[0].summary
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()

        sev1 = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await status_when(sev1, lambda status: status.phase is Phase.RESPONSE)
        await sev1.signal(IncidentWorkflow.snooze, {"by": "tom", "duration": "10m", "reason": "please"})
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await sev1.query(IncidentWorkflow.status)
        assert "a SEV-1 cannot be snoozed" in events(status, EventKind.REJECTED)[0].summary
        await sev1.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await sev1.result()


async def test_assign_role_changes_who_is_escalated_to_and_rejects_strangers(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await handle.signal(
            IncidentWorkflow.assign_role, {"by": "erin", "role": "incident_commander", "person": "mallory"}
        )
        await handle.signal(
            IncidentWorkflow.assign_role, {"by": "erin", "role": "incident_commander", "person": "tom"}
        )
        await time_skipping_env.sleep(timedelta(minutes=50))
        status = await handle.query(IncidentWorkflow.status)
        assert status.roles["incident_commander"] == "tom"
        assert "unknown person 'mallory'" in events(status, EventKind.REJECTED)[0].summary
        assert recipients(events(status, EventKind.NUDGED)[1].summary) == "tom"
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()


def next_friday_evening(now: datetime) -> datetime:
    days = (4 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=18, minute=0, second=0, microsecond=0)


async def test_sev4_ack_deadline_is_the_next_business_day(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    await time_skipping_env.sleep(next_friday_evening(now.astimezone(UTC)) - now)
    async with running_worker(client, settings, CONSOLE):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV4))
        await time_skipping_env.sleep(timedelta(minutes=1))
        status = await handle.query(IncidentWorkflow.status)
        assert response_started(status).weekday() == 4  # Friday evening
        ack_deadline = next(d.due_at for d in status.upcoming if "if nobody acknowledges" in d.description)
        assert (ack_deadline.weekday(), ack_deadline.hour, ack_deadline.minute) == (
            0,
            9,
            0,
        )  # Monday 09:00 UTC
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        await handle.result()
