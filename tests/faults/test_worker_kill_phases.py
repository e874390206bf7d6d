"""Fault injection: one incident, and the worker killed with kill -9 at each phase boundary, a new `warroom
worker` process started after each: right after the first page went out, while a drain waits for approval,
in the middle of phased recovery (during a health soak), and right after the resolution (before the analysis
renders the post-mortem). Real processes throughout: the dev server, worker subprocesses, Debian's HAProxy in
front of two shop instances, a webhook receiver for every notification. (A kill in the middle of a containment
action has its own test: tests/contain/test_worker_kill.py.)

The incident completes, every notification the run should send reaches the receiver, and a notification sent
twice (a retry after a kill) carries the same idempotency key both times: nothing is paged twice as new."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.conftest import signal_with_start
from tests.contain.conftest import ADMIN_TOKEN, ShopBehindHAProxy
from tests.contain.test_worker_kill import eventually, worker_files, worker_process
from tests.faults.outage_receiver import OutageReceiver
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert
from workflows.messages.common import Phase
from workflows.messages.status import ActionState, IncidentResult, IncidentStatus

TECH_LEAD = "tom"


def paging_through(receiver: OutageReceiver, files: dict[str, str], directory: Path) -> dict[str, str]:
    """Every notification over one webhook channel (no console fallback) and a short recovery soak."""
    policy = yaml.safe_load(Path(files["WARROOM_POLICY"]).read_text())
    policy["page_channel"] = "hook"
    policy["recovery"]["soak"] = "6s"
    Path(files["WARROOM_POLICY"]).write_text(yaml.safe_dump(policy))
    channels = directory / "channels.yaml"
    channels.write_text(
        yaml.safe_dump({"channels": {"hook": {"type": "webhook", "url": receiver.url("/hook")}}})
    )
    return {**files, "WARROOM_CHANNELS": str(channels)}


@pytest.mark.timeout(600)
async def test_kill_9_at_every_phase_boundary_loses_nothing_and_pages_nothing_twice(
    shop: ShopBehindHAProxy, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    receiver = OutageReceiver()
    receiver.start()
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": f"phases-{uuid4()}",
        "WARROOM_DATA_DIR": str(tmp_path / "data"),
        "WARROOM_METRICS_ADDRESS": "",
        "SHOP_ADMIN_TOKEN": ADMIN_TOKEN,
        **paging_through(receiver, worker_files(shop, tmp_path), tmp_path),
    }
    alert = Alert(source="test", dedup_key="shop-eu-errors", event_id="e1", service="shop",
                  summary="shop eu: 50% of orders failing", labels={"region": "eu"})  # fmt: skip
    handle: WorkflowHandle[Any, Any] | None = None
    workers = 0

    async def status() -> IncidentStatus:
        assert handle is not None
        result: IncidentStatus = await handle.query(IncidentWorkflow.status)
        return result

    def received(fragment: str) -> bool:
        return any(fragment in (d.idempotency_key or "") for d in receiver.received)

    async def run_until_killed(boundary: Callable[[], Awaitable[Any]], what: str) -> Any:
        nonlocal workers
        workers += 1
        async with worker_process(env, tmp_path / f"worker-{workers}.log") as worker:
            reached = await eventually(boundary, what)
            worker.kill()  # kill -9: no shutdown, no goodbye to the server
            await worker.wait()
        return reached

    try:
        # A key of its own: the dev server is shared, and another test's incident may hold "shop-eu-errors".
        key = f"shop-eu-errors-{uuid4()}"
        handle = await signal_with_start(dev_env.client, env["WARROOM_TASK_QUEUE"], key, alert)

        async def first_page_out() -> bool:
            return received("/ack/1")

        await run_until_killed(first_page_out, "the first page at the receiver")

        async def drain_waits() -> Any:
            return next((a for a in (await status()).actions
                         if a.name == "drain_eu" and a.state is ActionState.AWAITING_APPROVAL), None)  # fmt: skip

        drain = await run_until_killed(drain_waits, "the drain waiting for approval")
        await handle.signal("approve_action", {"by": TECH_LEAD, "action_id": drain.id, "reason": "eu fails"})

        async def mid_recovery() -> bool:
            current = await status()
            drained = any(a.id == drain.id and a.state is ActionState.SUCCEEDED for a in current.actions)
            if drained and current.mitigated_at is None:
                await handle.signal("mitigate", {"by": TECH_LEAD})
            weight = (await shop.runtime.server_state("shop", "eu")).weight
            return current.mitigated_at is not None and 0 < weight < 100  # soaking at a partial step

        await run_until_killed(mid_recovery, "phased recovery under way")

        asked: list[bool] = []

        async def resolved() -> bool:
            current = await status()
            if (current.recovery or "").startswith("restored") and current.resolved_by is None and not asked:
                asked.append(True)
                await handle.signal("resolve", {"by": TECH_LEAD})
            return current.resolved_by is not None or current.phase in (Phase.ANALYSIS, Phase.CLOSED)

        await run_until_killed(resolved, "the resolution")
        workers += 1
        async with worker_process(env, tmp_path / f"worker-{workers}.log"):
            result: IncidentResult = await asyncio.wait_for(handle.result(), 180)
            final = await status()
            await eventually(lambda: asyncio.sleep(0, received("/postmortem")), "the post-mortem notice")
    finally:
        receiver.stop()

    assert result.resolved_by == TECH_LEAD and result.postmortem_path
    state = await shop.runtime.server_state("shop", "eu")
    assert (state.admin, state.weight) == ("ready", 100), state  # traffic fully restored
    assert [a.state for a in final.actions if a.id == drain.id] == [ActionState.ROLLED_BACK]  # restored
    keys = [d.idempotency_key or "" for d in receiver.received]
    assert all(key.startswith(f"{final.occurrence}/") for key in keys), keys
    steps = {key.removeprefix(f"{final.occurrence}/").rsplit("/", 1)[0] for key in keys}
    for expected in ("ack/1", "resolution", "postmortem"):
        assert any(step.startswith(expected) for step in steps), (expected, sorted(steps))
    assert any("approval" in step for step in steps), sorted(steps)
    # A message delivered twice is the same message: one key. No step went out under two keys.
    by_step = Counter(key.rsplit("/", 1)[0] for key in set(keys))
    assert all(count == 1 for count in by_step.values()), by_step
