"""A dead-man's switch over weeks, on the time-skipping server: an alerting pipeline beats every 5 minutes
for days (a month on demand), goes quiet once, for 40 minutes, in the middle, and stops at the end. The switch
continues as new many times, each run stays short, what it carries does not grow, and it pages once per
silence, at its deadline to the second, and announces the resumption once."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.settings import Settings
from intake.handoff import Handoff
from tests.conftest import running_worker
from tests.workflow.beating_pipeline import BeatingPipeline, BeatingPlan
from tests.workflow.test_dead_mans_switch import SILENCE_AFTER, RecordingNotifier, status_when
from tests.workflow.test_long_life import lengths_of_runs
from workflows.dead_mans_switch import EVENTS_PER_RUN
from workflows.messages.heartbeat import EVENTS_KEPT, Heartbeat
from workflows.messages.notifications import NotificationKind

# Four days by default (two runs or more, about 25 s): the Java test server slows down as histories pile up,
# and a month takes 6 minutes. WARROOM_SWITCH_LIFE_DAYS=30 runs the month.
DAYS = int(os.environ.get("WARROOM_SWITCH_LIFE_DAYS", "4"))
QUIET_FOR = timedelta(minutes=40, seconds=3)


@pytest.mark.timeout(60 + 30 * DAYS)  # a test-server hang is re-run (conftest)
async def test_a_month_of_heartbeats_with_one_quiet_spell_pages_once_on_time_in_bounded_runs(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    env, notifier, source = time_skipping_env, RecordingNotifier(), "alertmanager"
    client = env.client
    pipeline_queue = f"{settings.task_queue}-pipeline"
    async with (
        running_worker(client, settings, {"console": notifier}),
        Worker(client, task_queue=pipeline_queue, workflows=[BeatingPipeline]),
    ):
        switch_id = await Handoff(client, settings.task_queue, timedelta(0)).beat(Heartbeat(source=source))
        handle = client.get_workflow_handle(switch_id)
        first_run = (await handle.describe()).run_id
        beats = int(timedelta(days=DAYS) / BeatingPlan.model_fields["every"].default)
        plan = BeatingPlan(switch_id=switch_id, source=source, beats=beats, quiet_after_beat=beats // 2,
                           quiet_for=QUIET_FOR)  # fmt: skip
        played = await client.execute_workflow(
            BeatingPipeline.run, plan, id=f"pipeline-{switch_id}", task_queue=pipeline_queue
        )
        # Once the beats are over the pipeline falls silent for good: a second page, at its deadline too.
        status = await status_when(
            handle,
            lambda s: s.beats == beats + 1 and s.silent and s.events[-1].kind == "notified",
            seconds=60,
        )

    assert played.done == beats and played.quiet_since is not None
    assert status.silences == 2 and status.last_beat_at is not None
    quiet, final = [event.at for event in status.events if event.kind == "silent"]
    for paged_at, due in (
        (quiet, played.quiet_since + SILENCE_AFTER),
        (final, status.last_beat_at + SILENCE_AFTER),
    ):
        assert timedelta(0) <= paged_at - due < timedelta(seconds=1), (paged_at, due)
    kinds = [event.kind for event in status.events]
    assert kinds[-6:] == ["silent", "notified", "resumed", "notified", "silent", "notified"], kinds
    # A page and an all-clear for the quiet spell, a page for the end, in weeks of beats: nothing else.
    assert [n.kind for n in notifier.sent] == [
        NotificationKind.PAGE,
        NotificationKind.RESOLUTION,
        NotificationKind.PAGE,
    ]
    silences = [n.idempotency_key.split("/", 1)[0] for n in notifier.sent]
    assert silences[0] == silences[1] != silences[2], silences

    run_lengths, carried = await lengths_of_runs(client, switch_id, first_run)
    assert len(run_lengths) >= max(2, DAYS // 3), f"{beats} beats in {len(run_lengths)} runs"
    assert max(run_lengths) < EVENTS_PER_RUN + 100, run_lengths
    assert len(status.events) <= EVENTS_KEPT
    # Bounded state: what the last run carried is what the first carried, give or take its last events.
    assert carried[-1] < carried[0] + 4 * 1024, carried
