"""Full incident lifecycles per second beside a bare workflow with the same activities and signals, same run.

    .venv/bin/python -m bench.lifecycle --incidents 200 --concurrency 20

Each lifecycle is what a person sees: an alert opens the incident (signal-with-start of `add_alert`), it
pages, the paged person acknowledges (signal) and resolves (signal), and the incident runs its health gate,
resolution notice and post-mortem, starts its review and completes. The driver waits for the page before
it acknowledges, as a person would. The bare baseline counts the activities (regular and local) and signals
in one finished incident's history and replays that shape with a trivial workflow: signal-with-start, the
local activity, one activity (the "page"), then the driver's two signals, then the remaining activities one
after the other, on the same dev server (flags of `warroom run`) with the same concurrency. Prints both
rates, their ratio, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

from bench.alert_storm import load_average, percentile, run_pool
from bench.dev_server import SERVER, bench_server
from config.settings import Settings
from workers.worker import build_worker
from workflows.messages.alerts import Alert, IncidentInput
from workflows.messages.common import incident_workflow_id
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind


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
        "events": len(types),
    }


@activity.defn(name="bench_step")
async def bench_step(step: int) -> int:
    return step


@workflow.defn(name="BenchLifecycle", sandboxed=False)
class BenchLifecycle:
    """The bare twin: the same number of local activities, activities and signals, nothing else."""

    def __init__(self) -> None:
        self.signals = 0

    @workflow.run
    async def run(self, shape: dict[str, int]) -> None:
        quick = timedelta(seconds=30)
        for step in range(shape["local_activities"]):
            await workflow.execute_local_activity(bench_step, step, start_to_close_timeout=quick)
        await workflow.execute_activity(bench_step, 0, start_to_close_timeout=quick)  # the page
        await workflow.wait_condition(lambda: self.signals >= shape["signals"])
        for step in range(1, shape["activities"]):
            await workflow.execute_activity(bench_step, step, start_to_close_timeout=quick)

    @workflow.signal
    def hit(self, _: Any = None) -> None:
        self.signals += 1


async def bare_lifecycles(client: Client, args: argparse.Namespace, shape: dict[str, int]) -> dict[str, Any]:
    queue = f"bare-lifecycle-{uuid4()}"
    run = uuid4().hex[:8]
    paged: dict[str, asyncio.Future[None]] = {}
    durations: list[float] = []

    @activity.defn(name="bench_step")
    async def step_seen(step: int) -> int:
        if step == 0:
            future = paged.get(activity.info().workflow_id)
            if future is not None and not future.done():
                future.set_result(None)
        return step

    async def lifecycle(index: int) -> None:
        workflow_id = f"bare-{run}-{index}"
        started = time.monotonic()
        page = paged[workflow_id] = asyncio.get_running_loop().create_future()
        handle = await client.start_workflow(
            "BenchLifecycle", shape, id=workflow_id, task_queue=queue, start_signal="hit",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
        await page
        for _ in range(shape["signals"] - 1):  # the start signal was the first
            await handle.signal("hit")
        await handle.result()
        durations.append(time.monotonic() - started)

    async with Worker(client, task_queue=queue, workflows=[BenchLifecycle], activities=[step_seen]):
        wall = await run_pool(args.incidents, args.concurrency, lifecycle)
    return {"per_s": args.incidents / wall, "p50_s": percentile(durations, 0.5)}


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    async with bench_server() as (env, tmp):
        ours = await warroom_lifecycles(env.client, args, tmp)
        bare = await bare_lifecycles(env.client, args, ours["shape"])
    print(f"dev server: {SERVER}")
    print(f"machine load average (1/5/15 min): at start {load_at_start}, at end {load_average()}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(f"load: {args.incidents} lifecycles, {args.concurrency} at a time")
    print(f"one incident's history: {ours['shape']}")
    print(f"warroom: {ours['per_s']:.2f} lifecycles/s, alert -> closed p50 {ours['p50_s']:.2f} s")
    print(f"bare, same activities and signals: {bare['per_s']:.2f} lifecycles/s, p50 {bare['p50_s']:.2f} s")
    print(f"ratio warroom / bare: {ours['per_s'] / bare['per_s']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
