"""Repeated deliveries: what a re-sent alert costs the incident, with and without the intake's door memory.

    .venv/bin/python -m bench.repeat_deliveries --repeats 11

One Alertmanager group (one firing alert) is posted once, then re-sent byte-identically `--repeats` times, as
Alertmanager does every `repeat_interval` (11 repeats = one hour at 5 minutes). Two incidents in the same run:
one through an intake with the door memory on (the default), one with it off (WARROOM_INTAKE_REPEAT_WINDOW=0).
Prints, per mode: add_alert signals and history events the repeats added to the incident, and the describe
reads the intake made instead. The time between repeats changes none of these counts, so they are posted
back to back; the incident's own timers are minutes away and do not fire during the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle

from bench.alert_storm import TOKEN, FirstPages
from bench.dev_server import bench_server
from config.settings import Settings
from intake.app import create_app
from intake.config import IntakeConfig
from intake.formats.alertmanager import group_dedup_key
from intake.handoff import Handoff
from intake.server import serving
from workers.worker import build_worker


def group(run: str) -> dict[str, Any]:
    return {
        "version": "4", "status": "firing", "receiver": "warroom", "groupKey": f'{{}}:{{alertname="{run}"}}',
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "Repeat", "service": "checkout",
                                                    "severity": "critical"},
                    "annotations": {"summary": "checkout 5xx above 5%"}, "startsAt": "2025-03-18T14:02:37Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "0123456789abcdef"}],
    }  # fmt: skip


class CountingHandoff(Handoff):
    """The real hand-off, counting the describe reads its door memory makes."""

    describes = 0

    async def _open_run(self, incident_id: str) -> str | None:
        CountingHandoff.describes += 1
        return await super()._open_run(incident_id)


async def history(handle: WorkflowHandle[Any, Any]) -> tuple[int, int]:
    """(history events, add_alert signals) of the incident's current run."""
    events = (await handle.fetch_history()).events
    signals = [e for e in events if e.workflow_execution_signaled_event_attributes.signal_name == "add_alert"]
    return len(events), len(signals)


async def settled(handle: WorkflowHandle[Any, Any]) -> tuple[int, int]:
    """The history once the incident has taken every signal it was sent (no workflow task outstanding)."""
    last = (-1, -1)
    for _ in range(100):
        now = await history(handle)
        pending = (await handle.describe()).raw_description.HasField("pending_workflow_task")
        if now == last and not pending:
            return now
        last = now
        await asyncio.sleep(0.2)
    return last


async def measure(client: Client, settings: Settings, repeats: int, door: bool) -> dict[str, int]:
    window = timedelta(hours=6) if door else timedelta(0)
    handoff = CountingHandoff(client, settings.task_queue, timedelta(0), repeat_window=window)
    CountingHandoff.describes = 0
    config = IntakeConfig(tokens=(SecretStr(TOKEN),), port=0, correlation_window=timedelta(0))
    body = group(uuid4().hex[:8])
    handle = client.get_workflow_handle(f"incident-{group_dedup_key('am', body['groupKey'])}")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(create_app(config, handoff), "127.0.0.1", 0) as url, httpx.AsyncClient() as http:
        assert (
            await http.post(f"{url}/v1/alerts/alertmanager", json=body, headers=headers)
        ).status_code == 202
        before_events, before_signals = await settled(handle)
        for _ in range(repeats):
            answer = await http.post(f"{url}/v1/alerts/alertmanager", json=body, headers=headers)
            assert answer.status_code == 202, answer.text
        after_events, after_signals = await settled(handle)
    await handle.terminate("benchmark over")
    return {
        "signals": after_signals - before_signals,
        "history_events": after_events - before_events,
        "describes": CountingHandoff.describes,
    }


async def main(args: argparse.Namespace) -> None:
    async with bench_server() as (env, tmp):
        settings = Settings(task_queue=f"repeats-{uuid4()}", data_dir=tmp, metrics_address="")
        async with build_worker(env.client, settings, {"console": FirstPages()}):
            results = {
                "door memory on": await measure(env.client, settings, args.repeats, door=True),
                "door memory off": await measure(env.client, settings, args.repeats, door=False),
            }
    print(json.dumps(results))
    print(
        f"{args.repeats} byte-identical repeats of one firing alert (one hour at a 5-minute repeat_interval):"
    )
    for mode, counts in results.items():
        print(
            f"  {mode}: {counts['signals']} add_alert signals and {counts['history_events']} history events "
            f"in the incident; {counts['describes']} describe reads by the intake"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=11)
    asyncio.run(main(parser.parse_args()))
