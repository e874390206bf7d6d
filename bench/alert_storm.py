"""Alert storm: N posts over G dedup keys (Alertmanager group keys or generic alerts) from C concurrent
senders, through the real intake (uvicorn) into real incidents, beside a bare-Temporal baseline measured on
the same server in the same run.

    .venv/bin/python -m bench.alert_storm --posts 10000 --groups 100 --concurrency 50
    # a storm of distinct alerts for ONE service through its correlation router (issue 8, defect 11):
    .venv/bin/python -m bench.alert_storm --format generic --posts 2000 --groups 2000 --services 1 \
        --concurrency 20 --correlation-window 300

Prints: incidents opened (G, or one per service when the correlation window covers the storm), alerts lost
(must be 0), HTTP statuses, SDK warnings/errors logged in the worker+intake process, posts/s, p50/p99
post-to-first-page latency; then the baselines: plain signal-with-start calls/s over the same ids and concurrency, and a
trivial workflow start + one activity (throughput and start-to-activity p50/p99). The dev server runs with
the same low-latency flags as `warroom run` and a SQLite file, and those flags are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import SecretStr
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench.dev_server import SERVER, bench_server
from bench.raw_http import RawHttp
from config.settings import Settings
from intake.config import IntakeConfig
from intake.service import serve_intake
from workers.data_converter import data_converter
from workers.worker import build_worker
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind

TOKEN = "bench-token"


class FirstPages:
    """A notifier that records when each incident's first page was sent (instead of printing it)."""

    def __init__(self) -> None:
        self.first_page: dict[str, float] = {}

    async def send(self, notification: Notification) -> DeliveryResult:
        if notification.kind is NotificationKind.PAGE:
            self.first_page.setdefault(notification.incident_id, time.monotonic())
        return DeliveryResult(channel="bench", recipients=notification.recipients, delivered=True, detail="")


def group_key(run: str, group: int) -> str:
    return '{}:{group="%s-%d"}' % (run, group)  # noqa: UP031 - braces are the payload's, not a format


def service_of(group: int, args: argparse.Namespace) -> str:
    """One service per group key, or --services services shared by all keys (what correlation joins)."""
    return f"svc-{args.run}-{group % args.services}" if args.services else f"svc-{group}"


def generic_body(group: int, seq: int, args: argparse.Namespace) -> bytes:
    return json.dumps({
        "dedup_key": f"storm-{args.run}-{group}", "service": service_of(group, args), "source": "bench",
        "summary": f"storm {group}/{seq}", "severity": "critical", "fingerprint": f"{group}-{seq}",
    }).encode()  # fmt: skip


def alertmanager_body(group: int, seq: int, args: argparse.Namespace) -> bytes:
    run = args.run
    labels = {"alertname": "StormAlert", "service": service_of(group, args), "severity": "critical",
              "seq": str(seq)}  # fmt: skip
    return json.dumps({
        "version": "4", "status": "firing", "receiver": "warroom",
        "groupKey": group_key(run, group),
        "groupLabels": {"group": str(group)}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
        "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": f"storm {group}/{seq}"},
                    "startsAt": "2025-03-18T14:02:37Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": f"{group:04d}{seq:08d}"}],
    }).encode()  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_pool(count: int, concurrency: int, job: Callable[[int], Awaitable[None]]) -> float:
    """Run job(0..count-1) on `concurrency` workers; returns the wall time."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def sender() -> None:
        while not queue.empty():
            await job(queue.get_nowait())

    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.monotonic() - started


async def send(args: argparse.Namespace) -> None:
    """The senders, in their own process (`--send-to URL`): the intake's process is not also the load. One
    kept-alive connection per sender (bench/raw_http.py: a Python HTTP client cost more CPU than the intake)."""
    first_post: dict[str, float] = {}
    statuses: dict[int | str, int] = {}
    connections: asyncio.Queue[RawHttp] = asyncio.Queue()
    for _ in range(args.concurrency):
        connection = RawHttp(args.send_to, {"Authorization": f"Bearer {TOKEN}"})
        await connection.connect()  # before the clock starts, as a sender's pool would be
        connections.put_nowait(connection)
    body = generic_body if args.format == "generic" else alertmanager_body

    async def post(index: int) -> None:
        group, seq = index % args.groups, index // args.groups
        connection = await connections.get()
        try:
            posted = time.monotonic()  # CLOCK_MONOTONIC: one clock per machine
            for _ in range(5):  # as real senders do: retry a failed delivery (counted)
                code: int | str
                try:
                    code, answer = await connection.post(f"/v1/alerts/{args.format}", body(group, seq, args))
                except ConnectionError as error:
                    code = type(error).__name__
                statuses[code] = statuses.get(code, 0) + 1
                if code == 202:  # the intake names the incident (correlation may have joined another)
                    for incident in answer["incidents"]:
                        first_post.setdefault(incident["incident_id"], posted)
                    await asyncio.sleep(args.pause)  # --pause: each alert meets an idle worker
                    return
        finally:
            connections.put_nowait(connection)

    wall = await run_pool(args.posts, args.concurrency, post)
    while not connections.empty():
        await connections.get_nowait().close()
    report = json.dumps({"first_post": first_post, "statuses": statuses, "wall": wall})
    await asyncio.to_thread(Path(args.out).write_text, report)


class SdkComplaints(logging.Handler):
    """Counts what the Temporal SDK logs at WARNING and above in this (worker + intake) process."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("temporalio"):
            text = record.getMessage().splitlines()[0][:120]
            self.messages[text] = self.messages.get(text, 0) + 1


async def storm(client: Client, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    settings = Settings(task_queue=f"storm-{uuid4()}", data_dir=data_dir, metrics_address="")
    pages = FirstPages()
    complaints = SdkComplaints()
    logging.getLogger().addHandler(complaints)
    correlated = args.correlation_window > 0 and args.services > 0
    expected = args.services if correlated else args.groups
    window = timedelta(seconds=args.correlation_window)  # 0: each group key is its own incident
    config = IntakeConfig(tokens=(SecretStr(TOKEN),), port=0, correlation_window=window)
    out = data_dir / "senders.json"
    intake = intake_in_own_process(client, settings.task_queue, args, data_dir) if args.intake_process else (
        serve_intake(client, settings.task_queue, config)
    )  # fmt: skip
    async with build_worker(client, settings, {"console": pages}), intake as url:
        senders = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.alert_storm", "--send-to", url, "--run", uuid4().hex[:8],
            "--out", str(out), "--format", args.format, "--services", str(args.services),
            "--posts", str(args.posts), "--groups", str(args.groups), "--concurrency", str(args.concurrency),
            "--pause", str(args.pause),
        )  # fmt: skip
        assert await senders.wait() == 0, "the sender process failed"
        sent = json.loads(out.read_text())
        first_post: dict[str, float] = sent["first_post"]
        for _ in range(1200):  # polling is the point: pages arrive from the worker on their own
            if len(pages.first_page) >= expected:
                break
            await asyncio.sleep(0.1)
        alerts = await counted_alerts(client, list(first_post), args.posts)
        routers = await router_histories(client, settings.task_queue)
        for _ in range(100):  # visibility is eventually consistent: count until it settles
            incidents = (
                await client.count_workflows(
                    f'TaskQueue = "{settings.task_queue}" AND WorkflowType = "IncidentWorkflow"'
                )
            ).count
            if incidents >= expected:
                break
            await asyncio.sleep(0.1)
        for incident_id in first_post:
            await client.get_workflow_handle(incident_id).terminate("benchmark over")
    logging.getLogger().removeHandler(complaints)
    latencies = [pages.first_page[i] - first_post[i] for i in first_post if i in pages.first_page]
    return {
        "incidents": incidents, "expected": expected, "paged": len(pages.first_page),
        "statuses": sent["statuses"], "alerts_counted": alerts, "lost": args.posts - alerts,
        "posts_per_s": args.posts / sent["wall"], "wall_s": sent["wall"], "sdk_log": complaints.messages,
        "routers": routers,
        "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99),
    }  # fmt: skip


@contextlib.asynccontextmanager
async def intake_in_own_process(
    client: Client, task_queue: str, args: argparse.Namespace, data_dir: Path
) -> AsyncIterator[str]:
    """`--intake-process`: the intake as the compose deployment runs it, in a process of its own (its own GIL),
    beside the worker; yields its URL."""
    url_file = data_dir / "intake.url"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.alert_storm", "--serve-intake", client.service_client.config.target_host,
        "--task-queue", task_queue, "--out", str(url_file), "--correlation-window", str(args.correlation_window),
    )  # fmt: skip
    try:
        for _ in range(300):
            if url_file.exists() and url_file.read_text():
                break
            assert process.returncode is None, "the intake process ended"
            await asyncio.sleep(0.05)
        yield url_file.read_text()
    finally:
        process.terminate()
        await process.wait()


async def serve_intake_alone(args: argparse.Namespace) -> None:
    client = await Client.connect(args.serve_intake, data_converter=data_converter)
    window = timedelta(seconds=args.correlation_window)
    config = IntakeConfig(tokens=(SecretStr(TOKEN),), port=0, correlation_window=window)
    async with serve_intake(client, args.task_queue, config) as url:
        await asyncio.to_thread(Path(args.out).write_text, url)
        await asyncio.Event().wait()  # until terminated


async def router_histories(client: Client, task_queue: str) -> dict[str, int]:
    """The correlation routers' runs, history events and route updates (what the storm cost them)."""
    totals = {"runs": 0, "events": 0, "updates": 0}
    query = f'TaskQueue = "{task_queue}" AND WorkflowType = "AlertCorrelation"'
    async for execution in client.list_workflows(query):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        totals["runs"] += 1
        totals["events"] += len(history.events)
        totals["updates"] += sum(e.HasField("workflow_execution_update_accepted_event_attributes")
                                 for e in history.events)  # fmt: skip
    return totals


async def counted_alerts(client: Client, incident_ids: list[str], posts: int) -> int:
    """Alerts the incidents counted; signals are asynchronous, so wait (bounded) until they add up."""
    total = 0
    for _ in range(1200):
        total = 0
        for incident_id in incident_ids:
            status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
            total += status.alert_count
        if total >= posts:
            break
        await asyncio.sleep(0.25)
    return total


# When each bare twin of an incident ran its "page", seconds after the signal-with-start that opened it.
BARE_PAGES: dict[str, float] = {}


@activity.defn(name="bench_page")
async def bench_page(started: float) -> None:
    BARE_PAGES.setdefault(activity.info().workflow_id or "", time.monotonic() - started)


@workflow.defn(name="BenchSink", sandboxed=False)
class BenchSink:
    """The bare twin of an incident under the storm: opened by the first signal-with-start of its id, it runs
    one activity (the page) and absorbs every signal after it."""

    def __init__(self) -> None:
        self.count = 0

    @workflow.run
    async def run(self, started: float) -> None:
        await workflow.execute_activity(bench_page, started, start_to_close_timeout=timedelta(seconds=60))
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def hit(self, _: Any = None) -> None:
        self.count += 1


@activity.defn(name="bench_touch")
async def bench_touch(started: float) -> float:
    return time.monotonic() - started


@workflow.defn(name="BenchOneActivity", sandboxed=False)
class BenchOneActivity:
    @workflow.run
    async def run(self, started: float) -> float:
        return await workflow.execute_activity(
            bench_touch, started, start_to_close_timeout=timedelta(seconds=30)
        )


async def baselines(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    queue = f"baseline-{uuid4()}"
    run = uuid4().hex[:8]
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BenchSink, BenchOneActivity],
        activities=[bench_touch, bench_page],
    ):

        async def signal_with_start(index: int) -> None:
            await client.start_workflow(
                "BenchSink", time.monotonic(), id=f"sink-{run}-{index % args.groups}", task_queue=queue,
                start_signal="hit", start_signal_args=[index],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )  # fmt: skip

        sws_wall = await run_pool(args.posts, args.concurrency, signal_with_start)
        for _ in range(600):  # the twins' pages, like the incidents', may come after the storm's last call
            if len([key for key in BARE_PAGES if key.startswith(f"sink-{run}-")]) >= args.groups:
                break
            await asyncio.sleep(0.1)
        storm_pages = [seconds for key, seconds in BARE_PAGES.items() if key.startswith(f"sink-{run}-")]
        latencies: list[float] = []

        async def start_one(index: int) -> None:
            handle = await client.start_workflow(
                "BenchOneActivity", time.monotonic(), id=f"one-{run}-{index}", task_queue=queue
            )
            latencies.append(await handle.result())

        one_wall = await run_pool(args.groups, args.concurrency, start_one)
        for group in range(args.groups):  # the sinks wait forever; the one-activity workflows are done
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(f"sink-{run}-{group}").terminate("benchmark over")
    return {
        "signal_with_start_per_s": args.posts / sws_wall,
        "storm_page_p50_ms": 1000 * percentile(storm_pages, 0.5),
        "storm_page_p99_ms": 1000 * percentile(storm_pages, 0.99),
        "storm_pages": len(storm_pages),
        "one_activity_per_s": args.groups / one_wall,
        "one_activity_p50_ms": 1000 * percentile(latencies, 0.5),
        "one_activity_p99_ms": 1000 * percentile(latencies, 0.99),
    }


def load_average() -> str:
    """The machine's load (it is shared): printed at the start and the end of each run."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    async with bench_server() as (env, tmp):
        result = await storm(env.client, args, tmp)
        print(json.dumps({"storm": result}), flush=True)  # kept even if the baseline fails
        base = await baselines(env.client, args)
    services = f"{args.services} service(s)" if args.services else "one service per key"
    lines = [
        f"dev server: {SERVER}",
        f"machine load average (1/5/15 min): at start {load_at_start}, at end {load_average()}; "
        f"{os.cpu_count()} CPUs",
        f"load: {args.posts} {args.format} posts, {args.groups} dedup keys, {services}, {args.concurrency} "
        f"senders, correlation window {args.correlation_window:g} s, pause {args.pause:g} s after each post, intake "
        f"{'in its own process' if args.intake_process else 'in the workers process'}",
        f"intake: {result['incidents']} incidents opened (expected {result['expected']}), {result['paged']} "
        f"paged, HTTP {result['statuses']}, alerts counted {result['alerts_counted']}, lost {result['lost']}",
        f"intake: {result['posts_per_s']:.1f} posts/s ({result['wall_s']:.1f} s); post-to-first-page p50 "
        f"{result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms",
        f"SDK warnings/errors logged (Python loggers; the SDK core writes its own to stderr): "
        f"{sum(result['sdk_log'].values())} {result['sdk_log'] or ''}",
        f"correlation routers: {result['routers']['runs']} runs, {result['routers']['events']} history "
        f"events, {result['routers']['updates']} route updates",
        f"bare Temporal: signal-with-start {base['signal_with_start_per_s']:.0f} calls/s (same ids; each id's "
        f"first call opens a twin that runs one activity, its 'page'); first 'page' under that storm p50 "
        f"{base['storm_page_p50_ms']:.0f} ms, p99 {base['storm_page_p99_ms']:.0f} ms ({base['storm_pages']} "
        f"twins)",
        f"ratios: posts/s {result['posts_per_s'] / base['signal_with_start_per_s']:.2f}x bare; first page p50 "
        f"{result['p50_ms'] / base['storm_page_p50_ms']:.2f}x bare under the storm, "
        f"{result['p50_ms'] / base['one_activity_p50_ms']:.2f}x bare start -> activity after it",
        f"bare Temporal: start + one activity {base['one_activity_per_s']:.1f} workflows/s;"
        f" start->activity p50 {base['one_activity_p50_ms']:.0f} ms, p99 "
        f"{base['one_activity_p99_ms']:.0f} ms",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--pause", type=float, default=0, help="seconds each sender waits after a post (default 0); with "
        "--concurrency 1 and a pause longer than a page takes, every alert meets an idle worker, as the bare "
        "start + one activity baseline (one at a time) does",
    )  # fmt: skip
    parser.add_argument("--format", choices=["alertmanager", "generic"], default="alertmanager")
    parser.add_argument(
        "--services", type=int, default=0, help="spread the keys over this many services (default 0: one "
        "service per key); with --correlation-window, each service's keys join one incident",
    )  # fmt: skip
    parser.add_argument(
        "--correlation-window", type=float, default=0, help="seconds; >0 routes every post through the "
        "per-service correlation router (one service per group key, so the incident count is unchanged)",
    )  # fmt: skip
    parser.add_argument(
        "--intake-process", action="store_true", help="run the intake in a process of its own, as the compose "
        "deployment does, instead of in the worker's process as `warroom run` does",
    )  # fmt: skip
    parser.add_argument("--send-to", help=argparse.SUPPRESS)  # internal: the sender process
    parser.add_argument("--serve-intake", help=argparse.SUPPRESS)  # internal: the intake process
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_intake:
        asyncio.run(serve_intake_alone(arguments))
    else:
        asyncio.run(send(arguments) if arguments.send_to else main(arguments))
