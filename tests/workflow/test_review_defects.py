"""The review's defects (issue 8, section 2), end to end in the reshaped incident: real worker, real activities,
real HTTP receivers and health endpoints on loopback, the time-skipping server for timers (to the second).

Each test's docstring says how it failed before the fix. Roster: tests/policy.yaml (checkout belongs to team
payments; level 1: olivia, tom, sam; level 2: erin, dora; level 3: vic, cleo, bree; incident commander ivan).
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from io import StringIO
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pytest_httpserver import HTTPServer
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.notify.base import Notifier
from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import (
    TEST_POLICY,
    HealthEndpoint,
    declared_incident,
    events,
    policy_file_with,
    running_worker,
    signal_with_start,
    start_incident,
    status_when,
    write_policy,
)
from tests.notify.conftest import Receiver, notifiers_for
from tests.workflow.test_escalation import exactly, performed, response_started, right_after
from workflows.incident.effects import ARCHIVE_RETRY
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind, IncidentStatus, TimelineEvent

LEVEL_1, LEVEL_2, LEVEL_3 = ["olivia", "tom", "sam"], ["erin", "dora"], ["vic", "cleo", "bree"]


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    """The recording receiver of tests/notify (its fixture lives in that package's conftest, out of reach)."""
    recorder = Receiver(httpserver)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder.handle)
    return recorder


def console_and(channels: dict[str, Any] | None = None) -> tuple[dict[str, Notifier], StringIO]:
    """The worker's channels: a console the test can read, plus the given HTTP channels."""
    printed = StringIO()
    return {**notifiers_for(channels or {}), "console": ConsoleNotifier(printed)}, printed


def page_events(status: IncidentStatus, level: int) -> list[TimelineEvent]:
    """The page outcomes of one level (first pages are `paged`, later levels `escalated`)."""
    return [
        event
        for event in status.timeline
        if event.kind in (EventKind.PAGED, EventKind.ESCALATED) and f" level {level}:" in event.summary
    ]


async def resolve_and_finish(handle: WorkflowHandle[Any, Any], by: str = "tom") -> None:
    await handle.signal(IncidentWorkflow.resolve, {"by": by, "force": True})
    await handle.result()


# ---------------------------------------------------------------------------------- defect 5


async def test_a_channel_answering_retry_after_600_delays_neither_the_level_2_nor_the_sev1_executive_page(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    """Before: duties ran one at a time, each waiting for its whole fallback chain, and Retry-After: 600 became a
    10-minute retry delay (5 attempts): level 3 (due at once) and level 2 (due at 15 min) went out ~40 min late.

    olivia's channel answers 503 + Retry-After: 600 and falls back to the console when the delivery budget
    (60 s by default) is spent; level 3, due at the same second as her page, must not wait for it."""
    routing = {"rules": [{"recipients": ["olivia"], "channels": ["hook"]}]}
    settings = settings.model_copy(update={"policy_file": policy_file_with(tmp_path, routing=routing)})
    receiver.then = (503, "busy, come back later")
    receiver.headers = {"Retry-After": "600"}
    notifiers, _ = console_and({"hook": {"type": "webhook", "url": receiver.url("/hook")}})
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        await time_skipping_env.sleep(timedelta(minutes=15, seconds=1))
        status = await handle.query(IncidentWorkflow.status)
        receiver.then = (200, "ok")
        await resolve_and_finish(handle)

    done = performed(status)
    assert exactly(done["open/3"], 0), done  # the SEV-1 executive level: at once
    assert exactly(done["ack/2"], 15), done  # the ack chain's level 2: at 15:00
    [level_1], [level_3] = page_events(status, 1), page_events(status, 3)
    assert level_3.at < level_1.at, "level 3 went out while olivia's channel was still being retried"
    # The provider's 600 s became the 30 s cap: a second try within the 60 s budget (uncapped: one try only).
    page_tries = [r for r in receiver.requests if r.headers["Idempotency-Key"].endswith("/ack/1/olivia/hook")]
    assert len(page_tries) == 2, [r.headers["Idempotency-Key"] for r in receiver.requests]
    delivery = next(delivery for delivery in status.deliveries if delivery.step == "ack/1")
    assert delivery.delivered and delivery.fell_back
    assert delivery.tried[0].detail.startswith("delivery budget of 1m spent: hook: HTTP 503")
    assert status.paged == LEVEL_1 + LEVEL_3 + LEVEL_2


async def test_on_the_dev_server_retry_after_600_is_cut_to_the_policys_cap_while_level_2_and_3_go_out(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    """The cap at the policy's own `retry_maximum_seconds` needs the dev server (the time-skipping server does not
    hand the activity its retry policy). No server skips activity backoff, so the clock here is small: level 2
    due after 5 s, a 20 s budget. Before: Retry-After 600 meant one try in the budget, and duties ran one at a
    time, so levels 3 and 2 waited for level 1's whole chain."""
    every_level_in_5s = {severity.value: "5s" for severity in Severity}
    routing = {
        "rules": [{"recipients": ["olivia"], "channels": ["hook"]}],
        "retry_initial_seconds": 0.05,
        "retry_maximum_seconds": 0.2,
        "retry_maximum_attempts": 1000,
        "delivery_budget": "20s",
    }
    policy_file = policy_file_with(
        tmp_path, routing=routing, escalation={"ack_deadline": every_level_in_5s, "final_level_repeats": 0}
    )
    settings = settings.model_copy(update={"policy_file": policy_file})
    receiver.then = (503, "busy, come back later")
    receiver.headers = {"Retry-After": "600"}
    notifiers, _ = console_and({"hook": {"type": "webhook", "url": receiver.url("/hook")}})
    client = dev_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV1))
        status = await status_when(handle, lambda status: bool(page_events(status, 1)), seconds=60)
        assert page_events(status, 1), "level 1's page is still retrying after three budgets"
        receiver.then = (200, "ok")  # so the resolution notices do not spend a budget each
        await resolve_and_finish(handle)

    [level_1], [level_2], [level_3] = (page_events(status, level) for level in (1, 2, 3))
    # Levels 3 (due at once) and 2 (due at 5 s) went out while olivia's channel was still being retried.
    assert level_3.at < level_2.at < level_1.at
    page_tries = [r for r in receiver.requests if r.headers["Idempotency-Key"].endswith("/ack/1/olivia/hook")]
    assert len(page_tries) >= 10  # a try every 0.2 s or so for 20 s; taken as is, Retry-After allows one
    delivery = next(delivery for delivery in status.deliveries if delivery.step == "ack/1")
    assert delivery.delivered and delivery.fell_back
    assert delivery.tried[0].detail.startswith("delivery budget of 20s spent: hook: HTTP 503")


# ---------------------------------------------------------------------------------- defect 6


def failing_page_policy(tmp_path: Path) -> Path:
    """alice's only channel is the webhook; bob (management) and carol (level 2) read the console."""
    policy = {
        "name": "failed-page",
        "roster": {
            "people": {
                "alice": {"email": "alice@example.com"},
                "bob": {"email": "bob@example.com", "channels": ["console"]},
                "carol": {"email": "carol@example.com", "channels": ["console"]},
            }
        },
        "escalation": {
            "levels": [
                {"name": "on-call", "targets": ["alice"]},
                {"name": "management", "targets": ["carol"]},
            ],
            "final_level_repeats": 0,
            "open_escalations": [],
            "cross_team_level": None,
            "fallback_targets": ["carol"],
        },
        "management": {"SEV-2": {"within": "10m", "notify": ["bob"], "satisfied_by_level": 1}},
        "routing": {"default_channels": ["hook"]},
    }
    return write_policy(tmp_path / "policy.yaml", policy)


def gaps_between(events: list[TimelineEvent]) -> list[timedelta]:
    """Each event's time after the one before, cut to whole seconds (activities take real milliseconds)."""
    return [
        timedelta(seconds=int((later.at - earlier.at).total_seconds())) for earlier, later in pairwise(events)
    ]


async def test_a_page_refused_on_every_channel_is_not_engaged_is_retried_every_5_minutes_and_engages_later(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    """Before: a page that failed on every channel marked its level engaged (escalation_level 1 at once), so the
    management notice that level 1 satisfies was skipped, and the page was never tried again."""
    settings = settings.model_copy(update={"policy_file": failing_page_policy(tmp_path)})
    receiver.then = (403, "forbidden")
    notifiers, printed = console_and({"hook": {"type": "webhook", "url": receiver.url("/hook")}})
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(minutes=12))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 0  # refused three times: level 1 is not engaged
        tries = page_events(status, 1)
        assert [event.summary.split(" for level")[0] for event in tries] == [
            f"page FAILED on every channel (try {attempt})" for attempt in (1, 2, 3)
        ]
        start = response_started(status)
        # Each try 5 min after the one before failed (gaps, not offsets: every try adds its real milliseconds).
        assert exactly(tries[0].at - start, 0) and gaps_between(tries) == [timedelta(minutes=5)] * 2
        # Nobody was reached at level 1, so management hears of it on time.
        assert exactly(performed(status)["management/SEV-2"], 10)
        assert ">>> ESCALATION to bob: [SEV-2] checkout: SEV-2 management notification" in printed.getvalue()

        receiver.then = (200, "ok")  # the provider recovers
        await time_skipping_env.sleep(timedelta(minutes=4))
        status = await handle.query(IncidentWorkflow.status)
        assert status.escalation_level == 1
        engaged = page_events(status, 1)[-1]
        assert engaged.summary.startswith("paged level 1: alice") and "(try 4 of 6" in engaged.summary
        assert gaps_between([tries[-1], engaged]) == [timedelta(minutes=5)]
        assert [request.headers["Idempotency-Key"] for request in receiver.requests] == [
            f"{status.occurrence}/ack/1/hook"
        ] * 4  # one request per try: a refusal is not retried within a try
        await resolve_and_finish(handle, "alice")


# ---------------------------------------------------------------------------------- defect 9


def health_probes(status: IncidentStatus) -> list[TimelineEvent]:
    """The probes themselves (each records `healthy`), not the notes about the next one."""
    return [event for event in events(status, EventKind.HEALTH_CHECK) if "healthy" in event.details]


async def test_a_failing_health_gate_reprobes_an_alert_resolve_with_backoff_tells_the_ic_once_then_resolves(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    tmp_path: Path,
    health_endpoint: HealthEndpoint,
) -> None:
    """Before: one failed probe dropped the alert-driven resolve; the incident stayed open and nobody was told.

    FAILS on the current product: `_respond_and_recover` (workflows/incident/workflow.py) awaits
    `wait_condition(self._loop_has_work, timeout=self._until_probe())` without catching TimeoutError, so when
    the 1-minute re-probe timer fires the run fails (WorkflowExecutionFailed, type TimeoutError) after one probe."""
    health_endpoint.status_code = 503
    policy_file = policy_file_with(tmp_path, health_checks={"checkout": health_endpoint.url})
    settings = settings.model_copy(update={"policy_file": policy_file})
    notifiers, printed = console_and()
    key = f"gate-{uuid4()}"

    def alert(status: AlertStatus, event_id: str) -> Alert:
        return Alert(source="generic", dedup_key=key, event_id=event_id, status=status, service="checkout",
                     summary="5xx above 5%")  # fmt: skip

    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await signal_with_start(client, settings.task_queue, key, alert(AlertStatus.FIRING, "e1"))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        await time_skipping_env.sleep(timedelta(minutes=5))
        await handle.signal(IncidentWorkflow.add_alert, alert(AlertStatus.RESOLVED, "e2"))
        await time_skipping_env.sleep(timedelta(minutes=5))
        status = await handle.query(IncidentWorkflow.status)
        assert status.phase is Phase.RECOVERY and status.resolved_by is None  # still open
        requested = next(e.at for e in events(status, EventKind.RESOLVE_REQUESTED))
        probes = health_probes(status)
        assert [probe.details["healthy"] for probe in probes] == [False] * 3
        # At once, then 1 min and 2 min after the one before (the next is 4 min after the third). Each wait
        # counts from when the probe before it answered, so gaps are checked, not offsets from the request: a
        # few hundred real milliseconds per probe on a loaded machine add up over four.
        assert right_after(probes[0].at - requested, timedelta(0))
        assert gaps_between(probes) == [timedelta(minutes=1), timedelta(minutes=2)]
        told = [line for line in printed.getvalue().splitlines() if "health gate still failing" in line]
        assert told == [
            ">>> ESCALATION to ivan: [SEV-3] checkout: alerts resolved, health gate still failing"
        ]

        health_endpoint.status_code = 200
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)
    probes = health_probes(status)
    assert [probe.details["healthy"] for probe in probes] == [False, False, False, True]
    assert gaps_between(probes) == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert result.resolved_by == "generic (all alerts resolved)"
    told = [line for line in printed.getvalue().splitlines() if "health gate still failing" in line]
    assert len(told) == 1  # once, at the third failure


# ---------------------------------------------------------------------------------- defect 12


async def test_an_unwritable_postmortem_directory_is_a_timeline_warning_and_the_incident_still_closes(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """Before: render_postmortem retried forever on a directory it cannot write, so the incident never closed."""
    not_a_directory = tmp_path / "postmortems"
    not_a_directory.write_text("a file where the post-mortem directory should be", encoding="utf-8")
    settings = settings.model_copy(update={"postmortem_dir": not_a_directory})
    notifiers, _ = console_and()
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom"})
        # Bounded: the code before the fix retried the write forever, and the incident never closed.
        status = await status_when(handle, lambda status: status.phase is Phase.CLOSED)
        assert status.phase is Phase.CLOSED, events(status, EventKind.WARNING)
        result = await handle.result()
        history = await handle.fetch_history()

    assert status.phase is Phase.CLOSED and result.resolved_by == "tom" and result.postmortem_path is None
    [warning] = [e.summary for e in events(status, EventKind.WARNING) if "post-mortem" in e.summary]
    assert warning.startswith("post-mortem draft could not be written: cannot write the post-mortem to")
    assert str(not_a_directory) in warning
    attempts = [
        event.activity_task_started_event_attributes.attempt
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and event.activity_task_started_event_attributes.attempt
        and _activity_name(history.events, event.activity_task_started_event_attributes.scheduled_event_id)
        == "render_postmortem"
    ]
    assert len(attempts) == 1 and attempts[0] <= ARCHIVE_RETRY.maximum_attempts


def _activity_name(history_events: Any, scheduled_event_id: int) -> str:
    scheduled = next(event for event in history_events if event.event_id == scheduled_event_id)
    return str(scheduled.activity_task_scheduled_event_attributes.activity_type.name)


# ---------------------------------------------------------------------------------- defect 2


async def test_a_policy_file_broken_after_start_still_pages_and_the_timeline_warns_naming_the_file(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """Before: load_policy re-read the broken file with unlimited retries; the incident paged nobody, forever.
    (tests/policy/test_fallback_in_incident.py proves the page; this adds the WARNING and `policy_warning`.)"""
    policy_file = tmp_path / "policy.yaml"
    shutil.copy(TEST_POLICY, policy_file)
    settings = settings.model_copy(update={"policy_file": policy_file})
    notifiers, _ = console_and()
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        policy_file.write_text("status_updates:\n  every: {SEV-1: 0s}\n")  # someone's edit, after start
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        status = await status_when(handle, lambda status: bool(events(status, EventKind.PAGED)))
        assert events(status, EventKind.PAGED)[0].summary.startswith("paged level 1: olivia, tom, sam")
        [warning] = events(status, EventKind.WARNING)
        assert warning.summary.startswith(f"{policy_file}: ")
        assert "using the policy 'test-roster' this worker validated at start instead" in warning.summary
        assert status.policy_warning == warning.summary
        await resolve_and_finish(handle, "olivia")


# ---------------------------------------------------------------------------------- defect 1


async def test_a_snoozed_sev3_upgraded_to_sev1_ends_the_snooze_and_pages_at_once(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Before: the snooze was checked against the severity only when taken: a SEV-3 snoozed for 4 h and upgraded
    to SEV-1 held every page (level 3 at once, level 2 at 15 min) until the snooze ended."""
    notifiers, _ = console_and()
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=1))
        await handle.signal(IncidentWorkflow.snooze, {"by": "tom", "duration": "4h", "reason": "known flake"})
        await time_skipping_env.sleep(timedelta(minutes=4))
        assert (await handle.query(IncidentWorkflow.status)).snoozed_until is not None
        await handle.signal(
            IncidentWorkflow.reclassify, {"by": "ivan", "severity": "SEV-1", "reason": "payments failing too"}
        )
        await time_skipping_env.sleep(timedelta(minutes=10, seconds=1))
        status = await handle.query(IncidentWorkflow.status)
        upgraded = next(e.at for e in events(status, EventKind.RECLASSIFIED)) - response_started(status)
        assert right_after(performed(status)["open/3"], upgraded)  # the executives: at the upgrade
        assert exactly(performed(status)["ack/2"], 15)  # level 2 on SEV-1's clock, not at the snooze's end
        assert status.snoozed_until is None
        ended = [e for e in events(status, EventKind.SNOOZED) if e.summary.startswith("snooze ended")]
        assert [right_after(e.at - response_started(status), upgraded) for e in ended] == [True]
        assert status.paged == LEVEL_1 + LEVEL_3 + LEVEL_2
        await resolve_and_finish(handle)


async def test_escalate_during_a_snooze_pages_the_level_at_once_and_the_rest_stays_snoozed(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Before: a human `escalate` was held by the snooze like any page, until the snooze ended."""
    notifiers, _ = console_and()
    client = time_skipping_env.client
    async with running_worker(client, settings, notifiers):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=1))
        await handle.signal(IncidentWorkflow.snooze, {"by": "tom", "duration": "4h", "reason": "known flake"})
        await time_skipping_env.sleep(timedelta(minutes=4))
        await handle.signal(IncidentWorkflow.escalate, {"by": "tom", "level": 3, "reason": "need a VP call"})
        await time_skipping_env.sleep(timedelta(seconds=5))
        status = await handle.query(IncidentWorkflow.status)
        requested = next(e.at for e in events(status, EventKind.ESCALATED) if "requested" in e.summary)
        assert right_after(performed(status)["manual/3"], requested - response_started(status))
        assert status.paged == LEVEL_1 + LEVEL_3
        # The ack chain's level 2 (due at 2 h for a SEV-3) still waits for the snooze's end.
        assert status.snoozed_until is not None
        level_2 = next(d for d in status.upcoming if d.targets == LEVEL_2)
        assert level_2.due_at == status.snoozed_until
        await resolve_and_finish(handle)
