"""Alert -> first page beside bare start -> activity, in alternating rounds on one server, so both see the same
machine: the load of a shared machine moved each side by up to 30 % between runs, more than the difference
being measured.

    .venv/bin/python -m bench.first_page --rounds 60 --burst 1     # idle: one alert at a time
    .venv/bin/python -m bench.first_page --rounds 10 --burst 50    # 50 alerts at once

Each round posts `--burst` Alertmanager webhooks at once (each a new incident) to the real intake and waits
until each incident's first page reaches the notifier; then starts `--burst` bare workflows at once
(start -> one activity) and waits for each activity; then the next round. Both workers and the intake live
in this process, as in `warroom run`. The alert is written to the intake as bytes over a socket opened
before the clock starts (as a sender with a kept-alive connection would), so the sender's own client costs
next to nothing. Prints p50/p99 of both, the ratio of the p50s, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from bench.alert_storm import (
    TOKEN,
    BenchOneActivity,
    FirstPages,
    alertmanager_body,
    bench_touch,
    load_average,
    percentile,
)
from bench.dev_server import SERVER, bench_server
from bench.raw_http import RawHttp
from config.settings import Settings
from intake.config import IntakeConfig
from intake.service import serve_intake
from workers.worker import build_worker

DEFAULT_WINDOW: timedelta = IntakeConfig.model_fields["correlation_window"].default
PAUSE = 0.3  # seconds between the two sides, so each starts on an idle worker


class Sender:
    """One kept-alive connection to the intake per alert of a burst, opened before the clock starts."""

    def __init__(self, url: str, run: str, services: int, burst: int) -> None:
        self.connections = [RawHttp(url, {"Authorization": f"Bearer {TOKEN}"}) for _ in range(burst)]
        self.args = argparse.Namespace(run=run, services=services)

    async def post(self, slot: int, group: int) -> tuple[float, str]:
        """Returns when the post left and the incident it opened."""
        connection = self.connections[slot]
        await connection.connect()
        posted = time.monotonic()
        status, answer = await connection.post(
            "/v1/alerts/alertmanager", alertmanager_body(group, 0, self.args)
        )
        assert status == 202, (status, answer)
        return posted, answer["incidents"][0]["incident_id"]


async def warroom_round(sender: Sender, pages: FirstPages, first: int, burst: int) -> list[float]:
    sent = await asyncio.gather(*(sender.post(index, first + index) for index in range(burst)))
    for _ in range(3000):
        if all(incident in pages.first_page for _, incident in sent):
            break
        await asyncio.sleep(0.002)
    return [pages.first_page[incident] - posted for posted, incident in sent if incident in pages.first_page]


async def bare_round(client: Client, queue: str, run: str, first: int, burst: int) -> list[float]:
    async def one(index: int) -> float:
        handle = await client.start_workflow(
            "BenchOneActivity", time.monotonic(), id=f"one-{run}-{index}", task_queue=queue
        )
        return await handle.result()

    return list(await asyncio.gather(*(one(first + index) for index in range(burst))))


async def measure(client: Client, args: argparse.Namespace, data_dir: Path) -> dict[str, list[float]]:
    settings = Settings(task_queue=f"first-page-{uuid4()}", data_dir=data_dir, metrics_address="")
    bare_queue, run = f"bare-{uuid4()}", uuid4().hex[:8]
    pages = FirstPages()
    window = DEFAULT_WINDOW if args.correlation_window is None else timedelta(seconds=args.correlation_window)
    config = IntakeConfig(tokens=(SecretStr(TOKEN),), port=0, correlation_window=window)
    times: dict[str, list[float]] = {"warroom": [], "bare": []}
    async with (
        build_worker(client, settings, {"console": pages}),
        serve_intake(client, settings.task_queue, config) as url,
        Worker(client, task_queue=bare_queue, workflows=[BenchOneActivity], activities=[bench_touch]),
    ):
        sender = Sender(url, run, args.services, args.burst)
        for round_ in range(args.rounds + args.warmup):
            first = round_ * args.burst
            warroom = await warroom_round(sender, pages, first, args.burst)
            await asyncio.sleep(PAUSE)
            bare = await bare_round(client, bare_queue, run, first, args.burst)
            await asyncio.sleep(PAUSE)
            if round_ >= args.warmup:
                times["warroom"] += warroom
                times["bare"] += bare
        for incident in pages.first_page:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(incident).terminate("benchmark over")
    return times


def window_text(args: argparse.Namespace) -> str:
    if args.correlation_window is None:
        return f"the intake's default ({DEFAULT_WINDOW.total_seconds():g} s)"
    return f"{args.correlation_window:g} s" + (" (correlation off)" if args.correlation_window == 0 else "")


async def main(args: argparse.Namespace) -> None:
    load_at_start = load_average()
    async with bench_server() as (env, tmp):
        times = await measure(env.client, args, tmp)
    expected = args.rounds * args.burst
    warroom, bare = times["warroom"], times["bare"]
    ratio = percentile(warroom, 0.5) / percentile(bare, 0.5)
    print(
        f"dev server: {SERVER}\n"
        f"machine load average (1/5/15 min): at start {load_at_start}, at end {load_average()}\n"
        f"correlation window: {window_text(args)}; "
        f"{f'{args.services} service(s)' if args.services else 'a new service per alert'}\n"
        f"{args.rounds} rounds of {args.burst} at once (after {args.warmup} warm-up rounds), the two sides "
        f"alternating\n"
        f"warroom alert -> first page: {len(warroom)}/{expected} paged, p50 {1000 * percentile(warroom, 0.5):.0f}"
        f" ms, p99 {1000 * percentile(warroom, 0.99):.0f} ms\n"
        f"bare start -> activity:      {len(bare)}/{expected} ran, p50 {1000 * percentile(bare, 0.5):.0f} ms, "
        f"p99 {1000 * percentile(bare, 0.99):.0f} ms\n"
        f"ratio of p50s: {ratio:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--burst", type=int, default=1, help="alerts (and bare workflows) started at once")
    parser.add_argument(
        "--correlation-window", type=float, default=None, help="seconds; 0 turns correlation off (each alert "
        "straight to its incident, as bench.alert_storm by default); default: the intake's default window",
    )  # fmt: skip
    parser.add_argument(
        "--services", type=int, default=0, help="spread the alerts over this many services (default 0: a new "
        "service each, so each first alert starts its service's correlation router); with 1 and a window "
        "shorter than a round (--correlation-window 0.1), every alert after the first asks a router that is "
        "already running and still opens an incident of its own",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=3, help="rounds run first and not counted")
    asyncio.run(main(parser.parse_args()))
