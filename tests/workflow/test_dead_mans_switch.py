"""The dead-man's switch on the time-skipping server: heartbeats handed over exactly as the intake does
(`Handoff.beat`, signal-with-start), a real worker, and a recording notifier on the policy's page channel."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.handoff import Handoff
from tests.conftest import policy_file_with, running_worker
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.messages.heartbeat import Heartbeat, SwitchStatus
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind

SILENCE_AFTER = timedelta(minutes=10)  # the policy default (tests/policy.yaml does not change it)
PAGE_RETRY = timedelta(minutes=5)  # escalation.page_retry.every, the default too


class RecordingNotifier:
    """The console channel's stand-in: keeps every notification it was handed, and says it was sent."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> DeliveryResult:
        self.sent.append(notification)
        return DeliveryResult(
            channel=notification.channel,
            recipients=notification.recipients,
            delivered=True,
            detail="recorded",
        )

    def of_kind(self, kind: NotificationKind) -> list[Notification]:
        return [notification for notification in self.sent if notification.kind is kind]


async def beat(env: WorkflowEnvironment, settings: Settings, source: str) -> WorkflowHandle[Any, Any]:
    workflow_id = await Handoff(env.client, settings.task_queue, timedelta(0)).beat(Heartbeat(source=source))
    return env.client.get_workflow_handle(workflow_id)


async def status_when(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[SwitchStatus], bool], seconds: float = 10
) -> SwitchStatus:
    async with asyncio.timeout(seconds):
        while True:
            status: SwitchStatus = await handle.query(DeadMansSwitchWorkflow.status)
            if predicate(status):
                return status
            await asyncio.sleep(0.05)


async def test_silence_pages_the_fallback_targets_once_at_exactly_the_interval(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier = time_skipping_env, RecordingNotifier()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "alertmanager")
        armed = await status_when(handle, lambda s: s.beats == 1 and s.page_due_at is not None)
        assert armed.last_beat_at is not None
        assert armed.page_due_at == armed.last_beat_at + SILENCE_AFTER

        await env.sleep(SILENCE_AFTER - timedelta(seconds=30))
        assert not (await handle.query(DeadMansSwitchWorkflow.status)).silent
        assert notifier.sent == []

        await env.sleep(timedelta(minutes=1))
        silent = await status_when(handle, lambda s: any(e.kind == "silent" for e in s.events))
        assert silent.silent and silent.silent_since == armed.last_beat_at + SILENCE_AFTER
        (event,) = [e for e in silent.events if e.kind == "silent"]
        # Paged at the deadline (Temporal's timer starts when the workflow task completes: milliseconds late),
        # not at some later poll, and not 30 s early.
        assert timedelta(0) <= event.at - (armed.last_beat_at + SILENCE_AFTER) < timedelta(seconds=1)

        await env.sleep(timedelta(hours=2))  # a long silence is one page, not a page per interval
        await status_when(handle, lambda s: s.silences == 1)
    (page,) = notifier.sent
    assert page.kind is NotificationKind.PAGE
    assert page.recipients == ["on-call"]  # the policy's escalation.fallback_targets
    assert "alertmanager" in page.subject and "silent" in page.subject


async def test_a_heartbeat_before_the_interval_resets_the_deadline(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier = time_skipping_env, RecordingNotifier()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "prometheus-eu")
        await status_when(handle, lambda s: s.beats == 1)
        await env.sleep(timedelta(minutes=8))
        await beat(env, settings, "prometheus-eu")
        second = await status_when(handle, lambda s: s.beats == 2)
        assert second.last_beat_at is not None
        assert second.page_due_at == second.last_beat_at + SILENCE_AFTER

        await env.sleep(timedelta(minutes=8))  # 16 minutes after the first beat, 8 after the second
        assert not (await handle.query(DeadMansSwitchWorkflow.status)).silent
        assert notifier.sent == []

        await env.sleep(timedelta(minutes=3))
        silent = await status_when(handle, lambda s: s.silent)
        assert silent.silent_since == second.last_beat_at + SILENCE_AFTER
    assert len(notifier.of_kind(NotificationKind.PAGE)) == 1


async def timers_come_to(handle: WorkflowHandle[Any, Any], expected: Counter[str]) -> Counter[str]:
    """The timers the switch's history started, fired and cancelled, once they come to `expected` (a task
    may still be on its way) or after 10 seconds, whatever they are then."""
    kinds: Counter[str] = Counter()
    with suppress(TimeoutError):
        async with asyncio.timeout(10):
            while kinds != expected:
                kinds = Counter()
                async for event in handle.fetch_history_events():
                    for kind in ("timer_started", "timer_fired", "timer_canceled"):
                        kinds[kind] += event.HasField(f"{kind}_event_attributes")
                kinds = +kinds
                await asyncio.sleep(0.05)
    return kinds


async def test_heartbeats_leave_the_silence_timer_running(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    """A heartbeat only moves the deadline: the timer armed at the first beat runs on, and when it fires the
    switch arms one for what is left. Before, every beat cancelled a timer and started another: two history
    events per beat, for a switch that takes a beat a minute for months."""
    env, notifier = time_skipping_env, RecordingNotifier()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "alertmanager")
        await status_when(handle, lambda s: s.beats == 1 and s.page_due_at is not None)
        for beats in range(2, 6):
            await env.sleep(timedelta(minutes=1))
            await beat(env, settings, "alertmanager")
            await status_when(handle, lambda s, beats=beats: s.beats == beats)
        assert await timers_come_to(handle, Counter(timer_started=1)) == Counter(timer_started=1)

        await env.sleep(timedelta(minutes=6))  # past the first beat's deadline, before the last beat's
        last = await status_when(handle, lambda s: not s.silent and s.beats == 5)
        assert last.last_beat_at is not None and last.page_due_at == last.last_beat_at + SILENCE_AFTER
        two_then_one_fired = Counter(timer_started=2, timer_fired=1)
        assert await timers_come_to(handle, two_then_one_fired) == two_then_one_fired
        assert notifier.sent == []

        await env.sleep(timedelta(minutes=5))
        silent = await status_when(handle, lambda s: s.silent)
        assert silent.silent_since == last.page_due_at
    assert len(notifier.of_kind(NotificationKind.PAGE)) == 1


async def test_resumed_heartbeats_are_announced_to_the_people_paged(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier = time_skipping_env, RecordingNotifier()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "alertmanager")
        await status_when(handle, lambda s: s.beats == 1)
        await env.sleep(SILENCE_AFTER + timedelta(minutes=5))
        await status_when(handle, lambda s: s.silent)

        await beat(env, settings, "alertmanager")
        back = await status_when(handle, lambda s: any(e.kind == "resumed" for e in s.events))
        assert not back.silent and back.beats == 2
        assert back.page_due_at == back.last_beat_at + SILENCE_AFTER if back.last_beat_at else False

        await env.sleep(SILENCE_AFTER + timedelta(minutes=1))  # armed again: a second silence pages again
        again = await status_when(handle, lambda s: s.silences == 2)
    page, resumed, second_page = notifier.sent
    assert [n.kind for n in notifier.sent] == [
        NotificationKind.PAGE, NotificationKind.RESOLUTION, NotificationKind.PAGE
    ]  # fmt: skip
    assert resumed.recipients == page.recipients == ["on-call"]
    assert "resumed" in resumed.subject or "back" in resumed.subject
    assert page.idempotency_key != second_page.idempotency_key  # each silence is its own page
    assert again.silent


async def test_a_malformed_heartbeat_is_recorded_and_changes_nothing(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier = time_skipping_env, RecordingNotifier()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "alertmanager")
        await status_when(handle, lambda s: s.beats == 1)
        await handle.signal("heartbeat", {"source": "somebody-else"})
        await handle.signal("heartbeat", {"source": "alertmanager", "via": "pigeon"})
        status = await status_when(handle, lambda s: len([e for e in s.events if e.kind == "rejected"]) == 2)
        assert status.beats == 1
        rejected = [e.summary for e in status.events if e.kind == "rejected"]
        assert "somebody-else" in rejected[0] and "via" in rejected[1]


async def test_the_switch_continues_as_new_carrying_its_heartbeats(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    """The dev server suggests continue-as-new at 40 events here (DEV_SERVER_FLAGS): a long-lived switch
    moves to a new run with its state, and keeps taking heartbeats across the move."""
    env, source = dev_env, f"long-{uuid4().hex[:8]}"
    async with running_worker(env.client, settings, {"console": RecordingNotifier()}):
        handle = await beat(env, settings, source)
        first_run = (await handle.describe()).run_id
        for _ in range(29):
            await beat(env, settings, source)
        status = await status_when(handle, lambda s: s.beats == 30, seconds=30)
        assert (await handle.describe()).run_id != first_run
        assert status.events[0].kind == "armed" and not status.silent
    history = await env.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
    assert history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")


async def test_a_silence_right_after_a_continue_as_new_pages_at_the_last_beats_deadline(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """The deadline lives in the carried state, not in a timer: beats across several runs (40 events each
    here), then silence, and the new run pages once, at the last beat's deadline. The silence is 6 s so
    the dev server's real clock can run it out."""
    env, notifier, source = dev_env, RecordingNotifier(), f"moving-{uuid4().hex[:8]}"
    short_silence = policy_file_with(tmp_path, heartbeat={"silence_after": "6s"})
    short = settings.model_copy(update={"policy_file": short_silence})
    async with running_worker(env.client, short, {"console": notifier}):
        handle = await beat(env, short, source)
        first_run = (await handle.describe()).run_id
        for beats in range(2, 21):
            await beat(env, short, source)
            await status_when(handle, lambda s, beats=beats: s.beats == beats, seconds=30)
            await asyncio.sleep(0.4)  # 8 s of beats in all: longer than the silence
        last = await status_when(handle, lambda s: s.beats == 20, seconds=30)
        assert (await handle.describe()).run_id != first_run
        assert notifier.sent == []
        silent = await status_when(handle, lambda s: s.silent, seconds=30)
    assert last.last_beat_at is not None
    assert silent.silent_since == last.last_beat_at + timedelta(seconds=6)
    (page,) = notifier.sent
    assert page.kind is NotificationKind.PAGE and page.recipients == ["on-call"]


async def test_a_policy_edit_reaches_a_running_switch_at_its_next_run_and_not_before(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """The policy is pinned per run (a switch lives for months; continue-as-new is when it re-reads the file):
    shortening the silence from 60 s to 2 s changes nothing in the run that pinned 60 s, and the next run
    pages 2 s after the last beat."""
    env, notifier, source = dev_env, RecordingNotifier(), f"edited-{uuid4().hex[:8]}"
    policy_file = policy_file_with(tmp_path, heartbeat={"silence_after": "60s"})
    edited = settings.model_copy(update={"policy_file": policy_file})
    async with running_worker(env.client, edited, {"console": notifier}):
        handle = await beat(env, edited, source)
        first = await status_when(handle, lambda s: s.beats == 1 and s.page_due_at is not None, seconds=30)
        first_run = (await handle.describe()).run_id
        assert policy_file_with(tmp_path, heartbeat={"silence_after": "2s"}) == policy_file  # edited in place
        await asyncio.sleep(3)  # past the edited deadline, inside the pinned one
        unchanged = await handle.query(DeadMansSwitchWorkflow.status)
        assert not unchanged.silent and unchanged.page_due_at == first.page_due_at
        assert first.last_beat_at is not None and first.page_due_at == first.last_beat_at + timedelta(
            seconds=60
        )

        beats = 1
        while (await handle.describe()).run_id == first_run:  # beats until the server suggests a new run
            beats += 1
            await beat(env, edited, source)
            await status_when(handle, lambda s, beats=beats: s.beats == beats, seconds=30)
            assert beats < 40, "the switch never continued as new"
        last = await status_when(handle, lambda s: s.page_due_at is not None, seconds=30)
        assert last.last_beat_at is not None and last.page_due_at == last.last_beat_at + timedelta(seconds=2)
        silent = await status_when(handle, lambda s: s.silent, seconds=30)
    assert silent.silent_since == last.page_due_at
    assert [n.kind for n in notifier.sent] == [NotificationKind.PAGE]


class RefusingFirst(RecordingNotifier):
    """Refuses the first page (a 4xx: not retried by the activity), then takes every message."""

    async def send(self, notification: Notification) -> DeliveryResult:
        await super().send(notification)
        if len(self.sent) == 1:
            raise ApplicationError("403 from the provider", type="ChannelRefused", non_retryable=True)
        return DeliveryResult(
            channel=notification.channel,
            recipients=notification.recipients,
            delivered=True,
            detail="recorded",
        )


async def test_a_page_that_failed_on_every_channel_is_retried_on_the_policy_schedule(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier = time_skipping_env, RefusingFirst()
    async with running_worker(env.client, settings, {"console": notifier}):
        handle = await beat(env, settings, "alertmanager")
        await status_when(handle, lambda s: s.beats == 1)
        await env.sleep(SILENCE_AFTER + PAGE_RETRY + timedelta(minutes=1))
        status = await status_when(handle, lambda s: len([e for e in s.events if e.kind == "notified"]) == 2)
    first, second = notifier.sent
    assert first.kind is second.kind is NotificationKind.PAGE
    assert (
        first.idempotency_key != second.idempotency_key
    )  # a new message, not a duplicate of the refused one
    failed, sent = [e for e in status.events if e.kind == "notified"]
    assert "failed" in failed.summary and "sent" in sent.summary
    assert PAGE_RETRY <= sent.at - failed.at < PAGE_RETRY + timedelta(seconds=1)
    assert status.silences == 1
