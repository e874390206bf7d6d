"""What a dead-man's switch's history pays per heartbeat, beside bare workflows taking the same signals.

    .venv/bin/python -m bench.heartbeats --beats 60 --every 0.3

One dev server (flags of `warroom run`). The warroom side hands `--beats` heartbeats to one switch exactly as
the intake does (`Handoff.beat`: signal-with-start), `--every` seconds apart, with the default policy (a
10-minute silence, so no timer fires during the run). The bare side sends the same signals the same way to
two trivial workflows: one that only counts them (the floor: a signal and its workflow task) and one that
cancels its silence timer and starts another at every signal (what the switch did before
`deadman-kept-silence-timer`). Prints each history's events per beat and its timers started / cancelled.
For a long-lived switch the events per beat set how often it continues as new; each timer started or
cancelled is also a write on the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from adapters.notify.console import ConsoleNotifier
from bench.alert_storm import load_average
from bench.dev_server import SERVER, bench_server
from config.settings import Settings
from intake.handoff import Handoff
from workers.worker import build_worker
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.messages.heartbeat import Heartbeat

SILENCE = timedelta(minutes=10)


@workflow.defn(name="BenchBeatCounter", sandboxed=False)
class BeatCounter:
    """The floor: takes heartbeats and counts them, with no timer at all."""

    def __init__(self) -> None:
        self.beats = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def heartbeat(self) -> None:
        self.beats += 1

    @workflow.query
    def count(self) -> int:
        return self.beats


@workflow.defn(name="BenchBeatRearming", sandboxed=False)
class RearmingSwitch(BeatCounter):
    """A silence timer cancelled and started again at every heartbeat."""

    @workflow.run
    async def run(self) -> None:
        while True:
            try:
                await workflow.wait_condition(self._beat_after(self.beats), timeout=SILENCE)
            except TimeoutError:
                return

    def _beat_after(self, seen: int) -> Callable[[], bool]:
        return lambda: self.beats > seen


def timer_counts(events: list[Any]) -> dict[str, float]:
    types = [event.event_type for event in events]
    return {
        "events": len(types),
        "timers_started": types.count(EventType.EVENT_TYPE_TIMER_STARTED),
        "timers_cancelled": types.count(EventType.EVENT_TYPE_TIMER_CANCELED),
    }


async def until_taken(taken: Callable[[], Awaitable[int]], beats: int) -> None:
    """Until the workflow has taken every beat (signals are asynchronous), for at most 30 seconds."""
    async with asyncio.timeout(30):
        while True:
            if await taken() >= beats:
                return
            await asyncio.sleep(0.05)


async def history_of(client: Client, workflow_id: str, beats: int) -> dict[str, float]:
    """Events per beat and timers in the workflow's current run."""
    handle = client.get_workflow_handle(workflow_id)
    events = [event async for event in handle.fetch_history_events()]
    counts = timer_counts(events)
    counts["per_beat"] = counts["events"] / beats
    return counts


async def switch_side(client: Client, args: argparse.Namespace, data_dir: Path) -> dict[str, float]:
    settings = Settings(task_queue=f"beats-{uuid4()}", data_dir=data_dir, metrics_address="")
    handoff = Handoff(client, settings.task_queue, timedelta(0))
    source = f"bench-{uuid4().hex[:8]}"
    async with build_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        workflow_id = ""
        for _ in range(args.beats):
            workflow_id = await handoff.beat(Heartbeat(source=source))
            await asyncio.sleep(args.every)
        handle = client.get_workflow_handle(workflow_id)

        async def taken() -> int:
            return (await handle.query(DeadMansSwitchWorkflow.status)).beats

        await until_taken(taken, args.beats)
        return await history_of(client, workflow_id, args.beats)


async def bare_side(client: Client, args: argparse.Namespace, kind: type[BeatCounter]) -> dict[str, float]:
    queue, workflow_id = f"bare-beats-{uuid4()}", f"bare-beats-{uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[kind]):
        for _ in range(args.beats):
            await client.start_workflow(
                kind.run, id=workflow_id, task_queue=queue, start_signal="heartbeat",
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )  # fmt: skip
            await asyncio.sleep(args.every)
        handle = client.get_workflow_handle(workflow_id)
        await until_taken(lambda: handle.query(BeatCounter.count), args.beats)
        counts = await history_of(client, workflow_id, args.beats)
        await handle.terminate("bench done")
        return counts


def line(label: str, counts: dict[str, float]) -> str:
    return (
        f"{label}: {counts['events']:.0f} events, {counts['per_beat']:.2f} per beat; "
        f"timers started {counts['timers_started']:.0f}, cancelled {counts['timers_cancelled']:.0f}"
    )


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    async with bench_server() as (env, tmp):
        switch = await switch_side(env.client, args, tmp)
        floor = await bare_side(env.client, args, BeatCounter)
        rearming = await bare_side(env.client, args, RearmingSwitch)
    print(f"dev server: {SERVER}")
    print(f"machine load average (1/5/15 min): at start {load_at_start}, at end {load_average()}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"load: {args.beats} heartbeats by signal-with-start, {args.every} s apart, to one workflow each side"
    )
    print(line("warroom switch", switch))
    print(line("bare, signals only (the floor)", floor))
    print(line("bare, a silence timer re-armed at every signal", rearming))
    print(f"ratio of events per beat, switch / floor: {switch['per_beat'] / floor['per_beat']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--beats", type=int, default=60, help="heartbeats sent to each side")
    parser.add_argument("--every", type=float, default=0.3, help="seconds between heartbeats")
    arguments = parser.parse_args()
    if arguments.beats < 1 or arguments.every < 0:
        parser.error("--beats must be at least 1 and --every at least 0")
    asyncio.run(main(arguments))
