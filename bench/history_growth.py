"""History growth: what a month-long incident costs in Temporal history, on the time-skipping server.

    .venv/bin/python -m bench.history_growth --days 30
    .venv/bin/python -m bench.history_growth --days 2      # a smoke check in a minute or two

Two scenarios, each one IncidentWorkflow under the real worker (tests/policy.yaml, a notifier that discards):
1. an unacknowledged SEV-1 whose alert re-fires every 5 minutes (distinct event ids), one status update a day;
2. an acknowledged SEV-2 left open, no re-fires, one status update a day (every 24 h 7 min: DAILY_UPDATE_SKEW).
A server-side sender workflow plays the alert source and the people (as tests/workflow/test_long_life.py does),
so the server skips from timer to timer on its own. Each incident is force-resolved at the end of its days.

Prints, per scenario: runs, history events per run (min/median/max), events per simulated hour (mean, busiest
hour), signals per run, the largest payloads read from the histories (workflow input = the carried state at
continue-as-new, each activity's input, signals, results), the largest `status` query result (raw JSON bytes of
samples taken while the scenario runs), the replay time of the longest run, and the wall time. Beside the replay
time, a bare baseline from the same server: a trivial workflow fed one signal per workflow task until its history
is as long as the longest run, replayed the same way. Numbers are printed, never asserted. A run of the
time-skipping server that stalls (its known hang) is retried on a fresh server and the report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import RawValue
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from workers.data_converter import data_converter

with workflow.unsafe.imports_passed_through():
    from config.settings import Settings
    from workers.binaries import find_binary
    from workers.worker import WORKFLOWS, build_worker
    from workflows.incident.workflow import EVENTS_PER_RUN, SIGNALS_PER_RUN, IncidentWorkflow
    from workflows.messages.alerts import Alert, IncidentInput
    from workflows.messages.common import Severity, incident_workflow_id
    from workflows.messages.notifications import DeliveryResult, Notification
    from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

TEST_POLICY = "tests/policy.yaml"  # the deterministic roster the long-life test runs under
REFIRE = timedelta(minutes=5)
DAILY_UPDATE_SKEW = timedelta(minutes=7, seconds=13)
SENDS_PER_RUN = 500  # the sender continues as new itself, so its own history stays short
QUERY_SAMPLE_EVERY = 0.5  # wall seconds between status query samples
REPLAYS = 3  # replay each history this many times and report the median
# The Java time-skipping server now and then refuses a workflow task completion ("invalid history builder state
# for action", its own bug, see tests/conftest.py) and the workflow never moves again. A scenario whose workflow
# gains no history event for this long is stopped and run again on a fresh server, at most TRIES times in all;
# the report says so.
STALL_SECONDS = 45
TRIES = 3


# ---------------------------------------------------------------------- server-side actors


class SenderPlan(BaseModel):
    """What the sender does every `every`: fire an alert (distinct event id) and/or post a status update."""

    target: str
    ticks: int
    every: timedelta
    alert_each_tick: bool
    update_every: int | None = None  # ticks between status updates; None: never
    done: int = 0


@workflow.defn(name="HistoryGrowthSender", sandboxed=False)
class ScenarioSender:
    """Plays the alert source and the people, server-side: a month of timers skips without client round trips."""

    @workflow.run
    async def run(self, plan: SenderPlan) -> int:
        target = workflow.get_external_workflow_handle(plan.target)
        for _ in range(SENDS_PER_RUN):
            if plan.done >= plan.ticks:
                return plan.done
            if plan.alert_each_tick:
                alert = Alert(source="generic", dedup_key="checkout-5xx", event_id=f"fire-{plan.done}",
                              service="checkout", summary="5xx above 5%")  # fmt: skip
                await target.signal("add_alert", alert)
            if plan.update_every and plan.done % plan.update_every == 0:
                await target.signal(
                    "post_update", {"by": "cora", "text": f"still degraded (day {plan.done})"}
                )
            plan.done += 1
            await workflow.sleep(plan.every)
        workflow.continue_as_new(plan)


@workflow.defn(name="BareSignalSink")
class BareSignalSink:
    """The baseline: a trivial (sandboxed, like IncidentWorkflow) workflow that only counts its signals."""

    def __init__(self) -> None:
        self.received = 0

    @workflow.run
    async def run(self, expected: int) -> int:
        await workflow.wait_condition(lambda: self.received >= expected)
        return self.received

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self.received += 1


class DiscardingNotifier:
    """Every page and update is 'delivered' and dropped: the bench measures history, not a channel."""

    async def send(self, notification: Notification) -> DeliveryResult:
        return DeliveryResult(channel="bench", recipients=notification.recipients, delivered=True, detail="")


# ---------------------------------------------------------------------- scenarios and what they measure


def repo_root() -> Path:
    # A function, not a module constant: the sandbox re-imports this module and refuses Path.resolve there.
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scenario:
    name: str
    severity: Severity
    acknowledged: bool
    refires: bool


SCENARIOS = [
    Scenario(
        "unacknowledged SEV-1, alert re-firing every 5 min", Severity.SEV1, acknowledged=False, refires=True
    ),
    Scenario("acknowledged SEV-2, no re-fires", Severity.SEV2, acknowledged=True, refires=False),
]


@dataclass
class Growth:
    """One workflow's chain of runs, read back from the server."""

    histories: list[WorkflowHistory]
    largest_payloads: dict[str, int]
    largest_status: int = 0
    status_samples: int = 0
    replay_seconds: float = 0.0
    wall_seconds: float = 0.0
    alerts_counted: int = 0
    alerts_sent: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float:
        """Simulated hours from the first run's start to the last run's end (server timestamps)."""
        first, last = self.histories[0].events[0], self.histories[-1].events[-1]
        return (last.event_time.ToDatetime() - first.event_time.ToDatetime()) / timedelta(hours=1)

    @property
    def lengths(self) -> list[int]:
        return [len(history.events) for history in self.histories]

    @property
    def longest(self) -> WorkflowHistory:
        return max(self.histories, key=lambda history: len(history.events))

    @property
    def signals_per_run(self) -> list[int]:
        signaled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        return [sum(e.event_type == signaled for e in history.events) for history in self.histories]

    @property
    def carried_state_sizes(self) -> list[int]:
        """The input of every run after the first: the state carried across each continue-as-new."""
        return [
            sum(
                len(p.data)
                for p in history.events[0].workflow_execution_started_event_attributes.input.payloads
            )
            for history in self.histories[1:]
        ]

    def event_mix(self) -> list[tuple[str, int]]:
        """The longest run's events by type, most frequent first: where the history goes."""
        mix = Counter(
            EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in self.longest.events
        )
        return mix.most_common()

    @property
    def run_bytes(self) -> list[int]:
        return [sum(event.ByteSize() for event in history.events) for history in self.histories]

    def events_per_hour(self) -> tuple[float, int]:
        """Mean over the simulated hours, and the busiest simulated hour (by the events' server timestamps)."""
        start = self.histories[0].events[0].event_time.ToDatetime()
        buckets = Counter(
            int((event.event_time.ToDatetime() - start) / timedelta(hours=1))
            for history in self.histories
            for event in history.events
        )
        return sum(self.lengths) / self.hours, max(buckets.values())


async def chain_of_runs(client: Client, workflow_id: str, run_id: str) -> list[WorkflowHistory]:
    """Every run of the workflow, from the first, by following continue-as-new."""
    histories = []
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return histories
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


def payload_sites(event: HistoryEvent) -> Iterator[tuple[str, Payloads]]:
    """The payloads an event carries, named by where they sit (activity inputs by activity type)."""
    if event.HasField("workflow_execution_started_event_attributes"):
        yield "workflow input (run start)", event.workflow_execution_started_event_attributes.input
    elif event.HasField("workflow_execution_continued_as_new_event_attributes"):
        yield (
            "workflow input (continue-as-new)",
            event.workflow_execution_continued_as_new_event_attributes.input,
        )
    elif event.HasField("activity_task_scheduled_event_attributes"):
        scheduled = event.activity_task_scheduled_event_attributes
        yield f"activity input: {scheduled.activity_type.name}", scheduled.input
    elif event.HasField("activity_task_completed_event_attributes"):
        yield "activity result (any)", event.activity_task_completed_event_attributes.result
    elif event.HasField("workflow_execution_signaled_event_attributes"):
        signaled = event.workflow_execution_signaled_event_attributes
        yield f"signal: {signaled.signal_name}", signaled.input
    elif event.HasField("workflow_execution_completed_event_attributes"):
        yield "workflow result", event.workflow_execution_completed_event_attributes.result


def largest_payloads(histories: list[WorkflowHistory]) -> dict[str, int]:
    """The largest payload data (JSON bytes) per site, over every run."""
    largest: dict[str, int] = {}
    for history in histories:
        for event in history.events:
            for site, payloads in payload_sites(event):
                size = sum(len(payload.data) for payload in payloads.payloads)
                largest[site] = max(largest.get(site, 0), size)
    return largest


async def raw_status_size(client: Client, workflow_id: str) -> int:
    """The status query's answer as the worker encoded it (the raw payload, not a re-encoding)."""
    answer = await client.workflow_service.query_workflow(
        QueryWorkflowRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id),
            query=WorkflowQuery(query_type="status"),
        )
    )
    return sum(len(payload.data) for payload in answer.query_result.payloads)


async def sample_status(client: Client, workflow_id: str, growth: Growth, stop: asyncio.Event) -> None:
    """Sample the status query while the scenario runs: its size moves with the recent timeline."""
    while not stop.is_set():
        with contextlib.suppress(RPCError):  # a query can race a continue-as-new: the next sample answers
            growth.largest_status = max(growth.largest_status, await raw_status_size(client, workflow_id))
            growth.status_samples += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), QUERY_SAMPLE_EVERY)


def replay_seconds(workflows: Sequence[type], history: WorkflowHistory) -> float:
    """Median wall time of replaying one history (after one warm-up replay that loads the sandbox)."""

    async def once() -> float:
        replayer = Replayer(workflows=workflows, data_converter=data_converter)
        started = time.perf_counter()
        await replayer.replay_workflow(history)
        return time.perf_counter() - started

    async def median() -> float:
        await once()
        return statistics.median([await once() for _ in range(REPLAYS)])

    return asyncio.run(median())


class Stalled(Exception):
    """The incident's history stopped growing while its sender still had work: the test server's hang."""


async def history_position(latest: WorkflowHandle[Any, Any]) -> tuple[str, int] | None:
    """(run id, history length) of the latest run; None when the server does not answer in time."""
    try:
        description = await latest.describe(rpc_timeout=timedelta(seconds=10))
    except RPCError:
        return None
    return description.run_id or "", description.history_length


async def watch_progress(client: Client, workflow_id: str) -> None:
    """Return never; raise Stalled when the latest run's history has not grown for STALL_SECONDS."""
    latest = client.get_workflow_handle(workflow_id)  # no run id: follows continue-as-new
    seen: tuple[str, int] | None = None
    since = time.monotonic()
    while True:
        await asyncio.sleep(5)
        position = await history_position(latest)
        if position is not None and position != seen:
            seen, since = position, time.monotonic()
        elif time.monotonic() - since > STALL_SECONDS:
            raise Stalled(f"no new history event for {STALL_SECONDS} s (run, length: {seen})")


async def until_done_or_stalled(work: Any, client: Client, workflow_id: str) -> None:
    watchdog = asyncio.create_task(watch_progress(client, workflow_id))
    task = asyncio.ensure_future(work)
    await asyncio.wait([task, watchdog], return_when=asyncio.FIRST_COMPLETED)
    if watchdog.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        watchdog.result()  # raises Stalled
    watchdog.cancel()
    await task


async def run_scenario(client: Client, scenario: Scenario, days: int, data_dir: Path) -> Growth:
    settings = Settings(
        task_queue=f"growth-{uuid4()}",
        data_dir=data_dir,
        metrics_address="",
        policy_file=repo_root() / TEST_POLICY,
    )
    sender_queue = f"{settings.task_queue}-sender"
    inp = IncidentInput(incident_key=f"growth-{uuid4()}", service="checkout", summary="checkout is degraded",
                        declared_by="alice", severity=scenario.severity)  # fmt: skip
    workflow_id = incident_workflow_id(inp.incident_key)
    if scenario.refires:
        plan = SenderPlan(target=workflow_id, ticks=int(timedelta(days=days) / REFIRE), every=REFIRE,
                          alert_each_tick=True, update_every=int(timedelta(days=1) / REFIRE))  # fmt: skip
    else:
        # Not exactly 24 h: the incident's update cadence is anchored on the last update, so an update every
        # 24 h lands within milliseconds of its own cadence timer, and a signal racing a timer that fires in the
        # same instant stalls the time-skipping server ("invalid history builder state"; a real server is fine).
        plan = SenderPlan(target=workflow_id, ticks=days, every=timedelta(days=1) + DAILY_UPDATE_SKEW,
                          alert_each_tick=False, update_every=1)  # fmt: skip
    stop_sampling = asyncio.Event()
    async with (
        build_worker(client, settings, {"console": DiscardingNotifier()}),
        Worker(client, task_queue=sender_queue, workflows=[ScenarioSender]),
    ):
        started = time.monotonic()
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            IncidentWorkflow.run, inp, id=workflow_id, task_queue=settings.task_queue
        )
        first_run = (await handle.describe()).run_id or ""
        if scenario.acknowledged:
            await handle.signal("acknowledge", {"by": "olivia", "note": "on it"})
        growth = Growth(histories=[], largest_payloads={})
        sampler = asyncio.create_task(sample_status(client, workflow_id, growth, stop_sampling))
        try:
            sending = client.execute_workflow(
                ScenarioSender.run, plan, id=f"sender-{workflow_id}", task_queue=sender_queue
            )
            await until_done_or_stalled(sending, client, workflow_id)
            status = await handle.query(IncidentWorkflow.status)
        finally:
            stop_sampling.set()
            await sampler
        await handle.signal("resolve", {"by": "olivia", "force": True, "note": "end of the bench"})
        await until_done_or_stalled(handle.result(), client, workflow_id)
        growth.wall_seconds = time.monotonic() - started
    growth.histories = await chain_of_runs(client, workflow_id, first_run)
    growth.largest_payloads = largest_payloads(growth.histories)
    growth.alerts_counted = status.alert_count
    growth.alerts_sent = plan.ticks if scenario.refires else 0
    if status.acknowledged_by is None and scenario.acknowledged:
        growth.notes.append("the acknowledgement did not hold")
    return growth


async def run_baseline(client: Client, events: int) -> WorkflowHistory:
    """A trivial workflow whose history is about `events` long: one signal per workflow task (4 events each:
    signaled, task scheduled, started, completed). The client sends each and waits for the sink's task that
    takes it before the next. No timer: the time-skipping server's skipping, which stalled this baseline at
    the same length on every try (a sender workflow's timers fed it before), plays no part."""
    queue = f"baseline-{uuid4()}"
    workflow_id = f"bare-sink-{uuid4()}"
    signals = max(1, (events - 5) // 4)
    async with Worker(client, task_queue=queue, workflows=[BareSignalSink]):
        handle = await client.start_workflow(BareSignalSink.run, signals, id=workflow_id, task_queue=queue)
        for sent in range(1, signals + 1):
            await handle.signal("add_alert", sent)
            # Polled by history length, not by a query: the test server records each query as a workflow task.
            while (await handle.describe()).history_length < 4 + 4 * sent:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        await handle.result()
    return await handle.fetch_history()


# ---------------------------------------------------------------------- the printed report


def kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB"


def carried_line(sizes: list[int]) -> str:
    if not sizes:
        return "carried state: no continue-as-new in this scenario"
    return (
        f"carried state (continue-as-new input): first {kib(sizes[0])}, last {kib(sizes[-1])}, "
        f"largest {kib(max(sizes))}"
    )


def baseline_signals(history: WorkflowHistory) -> int:
    signaled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    return sum(event.event_type == signaled for event in history.events)


def report(scenario: Scenario, growth: Growth, baseline: WorkflowHistory, baseline_replay: float) -> str:
    lengths, signals = growth.lengths, growth.signals_per_run
    mean_per_hour, busiest_hour = growth.events_per_hour()
    longest = len(growth.longest.events)
    lines = [
        f"== {scenario.name}: {growth.hours / 24:.2f} simulated days",
        f"runs: {len(lengths)}; history events per run min {min(lengths)} / median "
        f"{statistics.median(lengths):g} / max {max(lengths)} (own bound {EVENTS_PER_RUN}, server suggests "
        f"4,096, hard limit 51,200); total {sum(lengths):,}",
        f"history events per simulated hour: mean {mean_per_hour:.1f}, busiest hour {busiest_hour}",
        f"signals per run: max {max(signals)} (own bound {SIGNALS_PER_RUN}, server cap 10,000); "
        f"alerts sent {growth.alerts_sent}, counted by the incident {growth.alerts_counted}",
        f"history size per run: max {kib(max(growth.run_bytes))} (server suggests continue-as-new at 4 MiB)",
        carried_line(growth.carried_state_sizes),
        f"largest status query result: {kib(growth.largest_status)} ({growth.status_samples} samples, every "
        f"{QUERY_SAMPLE_EVERY:g} s of wall time)",
        "largest payloads (JSON bytes, over every run):",
        *(f"  {site}: {kib(size)}" for site, size in sorted(growth.largest_payloads.items())),
        "longest run by event type: "
        + ", ".join(f"{name.lower()} {count}" for name, count in growth.event_mix()),
        f"replay of the longest run ({longest} events): {1000 * growth.replay_seconds:.0f} ms "
        f"({1e6 * growth.replay_seconds / longest:.0f} us/event), median of {REPLAYS}",
        f"bare baseline, same run: a trivial workflow with a history as long ({len(baseline.events)} events: "
        f"{baseline_signals(baseline)} signals, one per workflow task) replays in {1000 * baseline_replay:.0f} ms "
        f"({1e6 * baseline_replay / len(baseline.events):.0f} us/event)",
        f"wall time of the scenario: {growth.wall_seconds:.1f} s",
        *growth.notes,
    ]
    return "\n".join(lines)


async def measure(scenario: Scenario, days: int) -> tuple[Growth, WorkflowHistory]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"), data_converter=data_converter
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type)
                    for key in ALL_SEARCH_ATTRIBUTES
                },
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            growth = await run_scenario(env.client, scenario, days, Path(tmp))
        baseline = await run_baseline(env.client, len(growth.longest.events))
    finally:
        await env.shutdown()
    return growth, baseline


def main(args: argparse.Namespace) -> None:
    print(
        f"time-skipping server: {find_binary('temporal-test-server')} (a fresh one per scenario); worker: "
        f"workers.worker.build_worker, policy {TEST_POLICY}; machine: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at start",
        flush=True,
    )
    for index, scenario in enumerate(SCENARIOS, start=1):
        if args.scenario and index not in args.scenario:
            continue
        began = time.monotonic()
        for attempt in range(1, TRIES + 1):
            try:
                growth, baseline = asyncio.run(measure(scenario, args.days))
                break
            except Stalled as stall:
                print(
                    f"try {attempt}: the time-skipping server stalled ({stall}); a fresh server", flush=True
                )
        else:
            print(f"scenario {index}: stalled {TRIES} times, no numbers\n", flush=True)
            continue
        # Replays run after the server is gone, in a fresh event loop: nothing else competes for the CPU.
        growth.replay_seconds = replay_seconds(WORKFLOWS, growth.longest)
        baseline_replay = replay_seconds([BareSignalSink], baseline)
        print(report(scenario, growth, baseline, baseline_replay), flush=True)
        print(f"(scenario {index} took {time.monotonic() - began:.0f} s in all)\n", flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--days", type=int, default=30, help="simulated days each incident stays open (default 30)"
    )
    parser.add_argument(
        "--scenario", type=int, action="append", choices=[1, 2],
        help="run only this scenario (repeatable; default both)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error(f"--days must be at least 1 (got {args.days})")
    return args


if __name__ == "__main__":
    # Re-import by module name: the sandbox loads a workflow's module by its name, and `__main__` is not one.
    from bench.history_growth import main as run_bench
    from bench.history_growth import parse_args as parse

    run_bench(parse(sys.argv[1:]))
