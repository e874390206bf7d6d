"""Open work parked on timers: N open incidents and M action items waiting, the worker's and the dev server's
memory beside them, and how late the items' timers fire when they all fall due at the same moment.

    .venv/bin/python -m bench.parked --incidents 10000 --items 10000
    .venv/bin/python -m bench.parked --incidents 2000 --items 2000 --cache 100   # compare cache sizes
    .venv/bin/python -m bench.parked --incidents 50000 --items 50000 --park-only  # memory at sizes too big to fire

The dev server runs with the flags of `warroom run` (SQLite file). The warroom worker runs in its own process
(`workers.worker.build_worker`, the shipped policy, a notifier that records the time of each reminder instead
of sending it), so its RSS is its own. Incidents are opened as the intake opens them (signal-with-start of
`add_alert`, a warning alert: they page, then wait on their acknowledgement deadline, hours away); action items
are started as the post-mortem review starts them, all due at the same moment (no reminder before it), once
every incident and item is parked. Nothing is asserted; it prints RSS (worker, dev server) parked and at the
peak while the timers fire, and timer lateness p50/p99/max (the reminder's send time minus the due moment).
Then the bare baseline (`bare_reminders`, skip with `--no-bare`): as many bare workflows on a fresh dev server,
each a timer to one shared due moment and then one activity, and how late those activities start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio import activity, workflow
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.alert_storm import load_average, percentile, run_pool
from bench.dev_server import bench_server
from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
from config.settings import Settings
from workers.data_converter import data_converter
from workflows.messages.action_items import ActionItemInput, ActionItemSpec
from workflows.messages.alerts import Alert, IncidentInput
from workflows.messages.common import incident_workflow_id
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind

STARTERS = 20  # concurrent start calls
PARKED_ONLY_DUE = timedelta(days=30)  # --park-only: the items fall due long after the bench ends
DUE_REMINDER = re.compile(r"/\d{8}T\d{4}/due(/|$)")


def rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dev_server_pid() -> int:
    """The `temporal` child this process started (WorkflowEnvironment does not expose it)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me and b"start-dev" in cmdline:
                return int(entry.name)
    raise RuntimeError("dev server process not found")


class RecordReminders:
    """The worker's notifier: when each action item's due reminder was sent, appended to a file."""

    def __init__(self, out: Path) -> None:
        self.out = out.open("a", buffering=1)

    async def send(self, notification: Notification) -> DeliveryResult:
        # Only the due-moment reminder (the owner is also told at once that the item is theirs). Its key is
        # <item>/<due, %Y%m%dT%H%M>/due, then the delivery's own suffix (/<channel>).
        if notification.kind is NotificationKind.REMINDER and DUE_REMINDER.search(
            notification.idempotency_key
        ):
            item = notification.facts.get("action_item", "")
            self.out.write(json.dumps({"item": item, "at": time.time(), "key": notification.idempotency_key}))
            self.out.write("\n")
        return DeliveryResult(channel="bench", recipients=notification.recipients, delivered=True, detail="")


async def run_worker(args: argparse.Namespace) -> None:
    """`--worker`: the warroom worker in this process, until SIGTERM."""
    import workers.worker as worker_module

    worker_module.MAX_CACHED_WORKFLOWS = args.cache
    client = await Client.connect(args.address, data_converter=data_converter)
    settings = Settings(task_queue=args.task_queue, data_dir=Path(args.out).parent, metrics_address="")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker_module.build_worker(client, settings, {"console": RecordReminders(Path(args.out))}):
        await stop.wait()


async def open_incidents(client: Client, args: argparse.Namespace, queue: str) -> float:
    async def start(index: int) -> None:
        key = f"parked-{args.run}-{index}"
        alert = Alert(source="bench", dedup_key=key, service=f"svc-{index % 50}", summary=f"parked {index}",
                      severity_hint="warning", event_id=f"{key}-0")  # fmt: skip
        await client.start_workflow(
            "IncidentWorkflow", IncidentInput(incident_key=key), id=incident_workflow_id(key), task_queue=queue,
            start_signal="add_alert", start_signal_args=[alert],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip

    return await run_pool(args.incidents, STARTERS, start)


async def start_items(client: Client, args: argparse.Namespace, queue: str, due: datetime) -> float:
    policy = load_policy_file(DEFAULT_POLICY_FILE)
    policy.analysis.action_items.remind_before = []  # the first timer is the due moment itself
    policy.analysis.action_items.morning_of = None
    owner = next(iter(policy.roster.people))
    now = datetime.now(UTC)

    async def start(index: int) -> None:
        spec = ActionItemSpec(title=f"parked item {index}", owner=owner, due=due)
        inp = ActionItemInput(item=spec, incident_id=f"incident-parked-{args.run}", occurrence=f"occ-{args.run}",
                              created_by="bench", created_at=now, policy=policy)  # fmt: skip
        await client.start_workflow(
            "ActionItemWorkflow", inp, id=f"item-{args.run}-{index}", task_queue=queue
        )

    return await run_pool(args.items, STARTERS, start)


async def backlog(client: Client, queue: str) -> int:
    """Workflow tasks the server holds for the queue, not yet handed to the worker."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            report_stats=True,
        )
    )
    return answer.stats.approximate_backlog_count


async def settle(client: Client, queue: str, worker_pid: int) -> float:
    """Wait until every workflow has had its tasks: the server's backlog is empty and the worker's CPU time
    stops moving (an idle worker alone proves nothing: the dev server can be the one behind). Returns the
    seconds waited."""
    started = time.monotonic()

    def cpu() -> int:
        fields = Path(f"/proc/{worker_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    last = cpu()
    for _ in range(1800):
        await asyncio.sleep(2)
        now = cpu()
        # under 0.5 s of CPU in 2 s (parked incidents still run their occasional duties)
        if now - last < 50 and await backlog(client, queue) == 0:
            break
        last = now
    return time.monotonic() - started


@workflow.defn(name="BareReminder", sandboxed=False)
class BareReminder:
    """The bare baseline of a due reminder: one timer to the due moment, then one activity."""

    @workflow.run
    async def run(self, due_epoch: float) -> None:
        await workflow.sleep(max(0.0, due_epoch - workflow.now().timestamp()))
        await workflow.execute_activity("bare_remind", start_to_close_timeout=timedelta(seconds=30))


def lateness(sent_at: list[float], due_epoch: float) -> dict[str, float]:
    late = [at - due_epoch for at in sent_at]
    return {"p50": percentile(late, 0.5), "p99": percentile(late, 0.99), "max": max(late)} if late else {}


async def bare_reminders(args: argparse.Namespace) -> dict[str, Any]:
    """As many bare timers falling due at one moment, each then running one activity, on a fresh dev server
    with a worker of the same cache size: how late the server alone delivers them."""
    sent: dict[str, float] = {}
    all_sent = asyncio.Event()

    @activity.defn(name="bare_remind")
    async def bare_remind() -> None:
        sent.setdefault(activity.info().workflow_id or "", time.time())
        if len(sent) >= args.items:
            all_sent.set()

    async with bench_server() as (env, _):
        queue = f"bare-parked-{uuid4()}"
        async with Worker(env.client, task_queue=queue, workflows=[BareReminder], activities=[bare_remind],
                          max_cached_workflows=args.cache):  # fmt: skip
            due = time.time() + args.items / 50 + args.margin / 4  # bare starts run at well over 50/s here

            async def start(index: int) -> None:
                await env.client.start_workflow(BareReminder.run, due, id=f"bare-{index}", task_queue=queue)

            await run_pool(args.items, STARTERS, start)
            parked_before_due = due - time.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_sent.wait(), timeout=parked_before_due + 600)
    return {"fired": len(sent), "seconds_parked_before_due": parked_before_due,
            "lateness_s": lateness(list(sent.values()), due)}  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    async with bench_server() as (env, tmp):
        server_pid = dev_server_pid()
        queue = f"parked-{uuid4()}"
        out = tmp / "reminders.jsonl"
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.parked", "--worker", "--address",
            env.client.service_client.config.target_host, "--task-queue", queue, "--out", str(out),
            "--cache", str(args.cache),
        )  # fmt: skip
        result: dict[str, Any] = {"cache": args.cache, "incidents": args.incidents, "items": args.items}
        try:
            await asyncio.sleep(2)
            result["rss_idle"] = {"worker": rss_mb(worker.pid), "server": rss_mb(server_pid)}
            wall = await open_incidents(env.client, args, queue)
            result["incidents_per_s"] = args.incidents / wall if args.incidents else 0.0
            result["settle_incidents_s"] = await settle(env.client, queue, worker.pid)
            result["rss_incidents_parked"] = {"worker": rss_mb(worker.pid), "server": rss_mb(server_pid)}
            # The rate the worker *parked* incidents at (starts are faster than the server dispatches them).
            rate = args.incidents / (wall + result["settle_incidents_s"]) if args.incidents else 5.0
            due = datetime.now(UTC) + (
                PARKED_ONLY_DUE
                if args.park_only
                else timedelta(seconds=args.items / rate * 1.5 + args.margin)
            )
            result["items_per_s"] = args.items / await start_items(env.client, args, queue, due)
            result["settle_items_s"] = await settle(env.client, queue, worker.pid)
            result["rss_parked"] = {"worker": rss_mb(worker.pid), "server": rss_mb(server_pid)}
            result["load_parked"] = load_average()
            result["server_db_mb"] = sum(f.stat().st_size for f in tmp.glob("bench.db*")) / 2**20
            if args.park_only:
                result["load"] = {"start": load_at_start, "end": load_average(), "cpus": os.cpu_count()}
                print(json.dumps(result, indent=1))
                return
            # Must be positive: every item parked before they fall due (else raise --margin).
            result["seconds_parked_before_due"] = (due - datetime.now(UTC)).total_seconds()
            peak = dict(result["rss_parked"])
            deadline = due.timestamp() + 600
            while time.time() < deadline:
                seen = len(out.read_text().splitlines()) if out.exists() else 0
                if seen >= args.items and time.time() > due.timestamp():
                    break
                peak = {"worker": max(peak["worker"], rss_mb(worker.pid)),
                        "server": max(peak["server"], rss_mb(server_pid))}  # fmt: skip
                await asyncio.sleep(1)
            result["rss_peak_firing"] = peak
            first: dict[str, float] = {}
            for line in out.read_text().splitlines() if out.exists() else []:
                record = json.loads(line)
                first.setdefault(record["item"], record["at"])
            result["fired"] = len(first)
            result["lateness_s"] = lateness(list(first.values()), due.timestamp())
        finally:
            worker.terminate()
            await worker.wait()
    if args.items and not args.no_bare:
        result["bare_reminders"] = await bare_reminders(args)
    result["load"] = {"start": load_at_start, "end": load_average(), "cpus": os.cpu_count()}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--cache", type=int, default=500, help="the worker's max_cached_workflows")
    parser.add_argument(
        "--margin", type=float, default=60, help="seconds added to the estimated time to start the items "
        "before they fall due (they must all be parked first)",
    )  # fmt: skip
    parser.add_argument(
        "--park-only",
        action="store_true",
        help="measure memory with everything parked, then stop: the "
        "items fall due in 30 days, so no lateness and no bare baseline (for sizes whose firing would take hours)",
    )
    parser.add_argument(
        "--no-bare", action="store_true", help="skip the bare baseline (as many bare timers due at once)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--run", default=uuid4().hex[:8], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    asyncio.run(run_worker(arguments) if arguments.worker else main(arguments))
