"""Full incident lifecycles per second beside a bare workflow with the same activities and signals, same run.

    .venv/bin/python -m bench.lifecycle --incidents 200 --concurrency 20

Each lifecycle is what a person sees: an alert opens the incident (signal-with-start of `add_alert`), it
pages, the paged person acknowledges (signal) and resolves (signal), and the incident runs its health gate,
resolution notice and post-mortem, starts its review and completes. The driver waits for the page before
it acknowledges, as a person would. The bare baseline counts the activities (regular and local) and signals
in one finished incident's history and replays that shape with a trivial workflow: signal-with-start, the
local activity, one activity (the "page"), then the driver's two signals, then the remaining activities one
after the other, with the same concurrency. Each side of each round runs on a fresh dev server (flags of
`warroom run`), the order alternating round by round. Prints each round, the median rates, their ratio,
and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker
from temporalio.workflow import ParentClosePolicy

from bench.alert_storm import load_average, percentile, run_pool
from bench.dev_server import SERVER, bench_server
from config.settings import Settings
from workers.worker import build_worker
from workflows.messages.alerts import Alert, IncidentInput
from workflows.messages.common import incident_workflow_id
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
from workflows.search_attributes import INCIDENT_PHASE

BARE = "bare"
DURABLE = "bare-durable"


class Pages:
    """The notifier: wakes the driver of an incident when its first page goes out, with who was paged."""

    def __init__(self) -> None:
        self.paged: dict[str, asyncio.Future[str]] = {}

    def waiter(self, incident_id: str) -> asyncio.Future[str]:
        return self.paged.setdefault(incident_id, asyncio.get_running_loop().create_future())

    async def send(self, notification: Notification) -> DeliveryResult:
        if notification.kind is NotificationKind.PAGE:
            page = self.waiter(notification.incident_id)
            if not page.done():
                page.set_result(notification.recipients[0])
        return DeliveryResult(channel="bench", recipients=notification.recipients, delivered=True, detail="")


async def warroom_lifecycles(client: Client, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    settings = Settings(task_queue=f"lifecycle-{uuid4()}", data_dir=data_dir, metrics_address="")
    pages = Pages()
    durations: list[float] = []
    run = uuid4().hex[:8]

    async def lifecycle(index: int) -> None:
        key = f"life-{run}-{index}"
        incident_id = incident_workflow_id(key)
        started = time.monotonic()
        alert = Alert(source="bench", dedup_key=key, service=f"svc-{index}", summary=f"lifecycle {index}",
                      severity_hint="critical", event_id=f"{key}-0")  # fmt: skip
        paged = pages.waiter(incident_id)
        handle = await client.start_workflow(
            "IncidentWorkflow", IncidentInput(incident_key=key), id=incident_id, task_queue=settings.task_queue,
            start_signal="add_alert", start_signal_args=[alert],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
        person = await paged
        await handle.signal("acknowledge", {"by": person})
        await handle.signal("resolve", {"by": person, "note": "fixed"})
        await handle.result()
        durations.append(time.monotonic() - started)

    async with build_worker(client, settings, {"console": pages}):
        wall = await run_pool(args.incidents, args.concurrency, lifecycle)
    shape = await history_shape(client, incident_workflow_id(f"life-{run}-0"))
    return {"per_s": args.incidents / wall, "p50_s": percentile(durations, 0.5), "shape": shape}


async def history_shape(client: Client, workflow_id: str) -> dict[str, int]:
    """Activities, local activities, signals, child workflows, timers and events in one finished incident's history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    types = [event.event_type for event in history.events]
    markers = [event.marker_recorded_event_attributes.marker_name for event in history.events
               if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]  # fmt: skip
    return {
        "activities": types.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        "local_activities": markers.count("core_local_activity"),  # not the patch markers
        "signals": types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        "child_workflows": types.count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
        "timers": types.count(EventType.EVENT_TYPE_TIMER_STARTED),
        "patches": markers.count("core_patch"),
        "upserts": types.count(
            EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        ),  # the patches' among them
        "events": len(types),
    }


@activity.defn(name="bench_step")
async def bench_step(step: int) -> int:
    return step


@workflow.defn(name="BenchReview", sandboxed=False)
class BenchReview:
    """The durable twin's child, shaped as the post-mortem review: one activity, then parked for days."""

    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(bench_step, -1, start_to_close_timeout=timedelta(seconds=30))
        await workflow.sleep(timedelta(days=7))


class DurableExtras:
    """What the durable twin records besides activities and signals, one of each kind per step and the rest at
    the end: patch markers (each with the core's TemporalChangeVersion upsert), search-attribute upserts, and
    timers that the next step cancels, as the incident's deadlines are cancelled when met."""

    def __init__(self, shape: dict[str, int]) -> None:
        self.patches = shape["patches"]
        self.upserts = shape["upserts"] - shape["patches"]
        self.timers = shape["timers"]
        self.pending: asyncio.Task[None] | None = None

    async def step(self) -> None:
        if self.patches:
            workflow.patched(f"bench-{self.patches}")
            self.patches -= 1
        if self.upserts:
            workflow.upsert_search_attributes([INCIDENT_PHASE.value_set(f"step-{self.upserts}")])
            self.upserts -= 1
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        if self.timers:
            self.pending = asyncio.create_task(workflow.sleep(timedelta(hours=1)))
            self.timers -= 1
            await asyncio.sleep(0)  # the timer task runs now and starts its timer, before the next cancel

    async def finish(self) -> None:
        while self.patches or self.upserts or self.timers or self.pending:
            await self.step()


@workflow.defn(name="BenchLifecycle", sandboxed=False)
class BenchLifecycle:
    """The bare twin: the same number of local activities, activities and signals, nothing else. With
    `durable` in its input, also the incident's patch markers, upserts, timers and child workflows."""

    def __init__(self) -> None:
        self.signals = 0

    @workflow.run
    async def run(self, shape: dict[str, int]) -> None:
        quick = timedelta(seconds=30)
        extras = DurableExtras(shape) if shape.get("durable") else None
        for step in range(shape["local_activities"]):
            if extras:
                await extras.step()
            await workflow.execute_local_activity(bench_step, step, start_to_close_timeout=quick)
        if extras:
            await extras.step()
        await workflow.execute_activity(bench_step, 0, start_to_close_timeout=quick)  # the page
        await workflow.wait_condition(lambda: self.signals >= shape["signals"])
        for step in range(1, shape["activities"]):
            if extras:
                await extras.step()
            await workflow.execute_activity(bench_step, step, start_to_close_timeout=quick)
        if extras:
            for child in range(shape["child_workflows"]):
                await workflow.start_child_workflow(
                    BenchReview.run, id=f"{workflow.info().workflow_id}-child-{child}",
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )  # fmt: skip
            await extras.finish()

    @workflow.signal
    def hit(self, _: Any = None) -> None:
        self.signals += 1


async def bare_lifecycles(
    client: Client, args: argparse.Namespace, shape: dict[str, int], durable: bool
) -> dict[str, Any]:
    queue = f"bare-lifecycle-{uuid4()}"
    run = uuid4().hex[:8]
    paged: dict[str, asyncio.Future[None]] = {}
    durations: list[float] = []

    @activity.defn(name="bench_step")
    async def step_seen(step: int) -> int:
        if step == 0:
            future = paged.get(activity.info().workflow_id or "")
            if future is not None and not future.done():
                future.set_result(None)
        return step

    async def lifecycle(index: int) -> None:
        workflow_id = f"bare-{run}-{index}"
        started = time.monotonic()
        page = paged[workflow_id] = asyncio.get_running_loop().create_future()
        handle = await client.start_workflow(
            "BenchLifecycle", {**shape, "durable": int(durable)}, id=workflow_id, task_queue=queue,
            start_signal="hit", id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
        await page
        for _ in range(shape["signals"] - 1):  # the start signal was the first
            await handle.signal("hit")
        await handle.result()
        durations.append(time.monotonic() - started)

    async with Worker(
        client, task_queue=queue, workflows=[BenchLifecycle, BenchReview], activities=[step_seen]
    ):
        wall = await run_pool(args.incidents, args.concurrency, lifecycle)
    twin = await history_shape(client, f"bare-{run}-0")
    return {"per_s": args.incidents / wall, "p50_s": percentile(durations, 0.5), "twin": twin}


async def on_fresh_server(
    side: str, args: argparse.Namespace, shape: dict[str, int] | None
) -> dict[str, Any]:
    """One side on a dev server of its own: the other side's backlog (visibility writes, cancelled timers,
    parked reviews) must not run during this side's measurement."""
    async with bench_server() as (env, tmp):
        if side == "warroom":
            return await warroom_lifecycles(env.client, args, tmp)
        assert shape is not None
        return await bare_lifecycles(env.client, args, shape, durable=side == DURABLE)


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    sides = ("warroom", BARE, DURABLE)
    rates: dict[str, list[float]] = {side: [] for side in sides}
    p50s: dict[str, list[float]] = {side: [] for side in sides}
    shape: dict[str, int] | None = None
    twins: dict[str, dict[str, int]] = {}
    for round_index in range(args.rounds):
        order = sides if round_index % 2 == 0 else sides[::-1]  # the machine's load falls on every side alike
        for side in order:
            result = await on_fresh_server(side, args, shape)
            shape = result.get("shape", shape)
            twins[side] = result.get("twin", {})
            rates[side].append(result["per_s"])
            p50s[side].append(result["p50_s"])
            print(
                f"round {round_index + 1} {side}: {result['per_s']:.2f} lifecycles/s, p50 {result['p50_s']:.2f} s"
            )
    median = {side: statistics.median(rates[side]) for side in sides}
    print(f"dev server: {SERVER} (a fresh one for each side of each round)")
    print(f"machine load average (1/5/15 min): at start {load_at_start}, at end {load_average()}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"load: {args.incidents} lifecycles, {args.concurrency} at a time, {args.rounds} rounds (medians below)"
    )
    print(f"one incident's history: {shape}")
    print(f"the durable twin's history: {twins[DURABLE]}")
    for side, label in (("warroom", "warroom"), (BARE, "bare, same activities and signals"),
                        (DURABLE, "bare, same commands (+ patches, upserts, timers, child workflows)")):  # fmt: skip
        print(
            f"{label}: {median[side]:.2f} lifecycles/s, alert -> closed p50 {statistics.median(p50s[side]):.2f} s"
        )
    print(f"ratio warroom / bare: {median['warroom'] / median[BARE]:.2f}x (the issue's target: 0.6x)")
    print(f"ratio warroom / bare with the same commands: {median['warroom'] / median[DURABLE]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=2, help="each side once per round, the order alternating"
    )
    arguments = parser.parse_args()
    if min(arguments.incidents, arguments.concurrency, arguments.rounds) < 1:
        parser.error("--incidents, --concurrency and --rounds must each be at least 1")
    asyncio.run(main(arguments))
