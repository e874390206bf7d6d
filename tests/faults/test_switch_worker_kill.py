"""Fault injection for the dead-man's switch: `warroom worker` processes killed with kill -9 while the switch
waits out a silence and while it waits for heartbeats to resume. Real processes throughout: the dev server,
worker subprocesses, a webhook receiver as the page channel; heartbeats handed over as the intake does.

The silence deadline lives on the server (a durable timer and the carried last beat), not in a worker: a
deadline that passed while no worker ran pages when the next one starts, dated from the last beat, once; a
heartbeat that arrived while no worker ran is announced once; nothing is paged twice as new."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from intake.handoff import Handoff
from tests.conftest import policy_file_with
from tests.contain.test_worker_kill import eventually, worker_process
from tests.faults.outage_receiver import OutageReceiver
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.messages.heartbeat import Heartbeat, SwitchStatus

SILENCE = timedelta(seconds=6)


@pytest.mark.timeout(300)
async def test_a_silence_that_ran_out_while_no_worker_ran_pages_once_dated_from_the_last_beat(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    receiver = OutageReceiver()
    receiver.start()
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        yaml.safe_dump({"channels": {"hook": {"type": "webhook", "url": receiver.url("/hook")}}})
    )
    policy = policy_file_with(tmp_path, heartbeat={"silence_after": "6s"}, page_channel="hook")
    queue, source = f"switch-kill-{uuid4()}", f"pipeline-{uuid4().hex[:8]}"
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": queue,
        "WARROOM_DATA_DIR": str(tmp_path / "data"),
        "WARROOM_METRICS_ADDRESS": "",
        "WARROOM_POLICY": str(policy),
        "WARROOM_CHANNELS": str(channels),
    }
    handoff = Handoff(dev_env.client, queue, timedelta(0))
    handle: WorkflowHandle[Any, Any] = dev_env.client.get_workflow_handle(
        await handoff.beat(Heartbeat(source=source))
    )
    workers = 0

    async def status() -> SwitchStatus:
        result: SwitchStatus = await handle.query(DeadMansSwitchWorkflow.status)
        return result

    async def status_where(predicate: Callable[[SwitchStatus], bool], what: str) -> SwitchStatus:
        async def probe() -> SwitchStatus | None:
            current = await status()
            return current if predicate(current) else None

        result: SwitchStatus = await eventually(probe, what, seconds=60)
        return result

    def steps() -> list[str]:
        return [(d.idempotency_key or "").rsplit("/", 1)[0].rsplit("/", 1)[-1] for d in receiver.received]

    def next_worker() -> Any:
        nonlocal workers
        workers += 1
        return worker_process(env, tmp_path / f"worker-{workers}.log")

    try:
        async with next_worker() as worker:
            for _ in range(2):
                await asyncio.sleep(1)
                await handoff.beat(Heartbeat(source=source))
            armed = await status_where(lambda s: s.beats == 3 and s.page_due_at is not None, "three beats")
            worker.kill()  # kill -9 mid-silence: the timer is the server's, the worker forgets nothing
            await worker.wait()
        assert armed.last_beat_at is not None and armed.page_due_at == armed.last_beat_at + SILENCE
        await asyncio.sleep(SILENCE.total_seconds() + 2)  # the deadline passes with no worker anywhere
        assert receiver.received == []

        async with next_worker() as worker:
            silent = await status_where(lambda s: any(e.kind == "notified" for e in s.events), "the page")
            worker.kill()  # kill -9 while silent: the switch now waits for heartbeats to resume
            await worker.wait()
        assert silent.silent_since == armed.page_due_at  # dated from the last beat, not from the restart
        await handoff.beat(Heartbeat(source=source))  # the pipeline is back while no worker runs

        async with next_worker():
            resumed = await status_where(
                lambda s: not s.silent and [e.kind for e in s.events].count("notified") == 2, "the resumption"
            )
            assert resumed.beats == 4 and resumed.silences == 1
            await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 3), "a second silence paged")
            again = await status()
    finally:
        receiver.stop()

    assert again.silences == 2 and again.last_beat_at is not None
    assert again.silent_since == again.last_beat_at + SILENCE
    # Each message went out once, under a key that names its silence: two silences, one resumption between.
    keys = [d.idempotency_key or "" for d in receiver.received]
    assert steps() == ["silent", "resumed", "silent"], keys
    assert all(key.startswith(f"{handle.id}@") for key in keys), keys
    silences = [key.split("/", 1)[0] for key in keys]
    assert silences[0] == silences[1] != silences[2], keys
