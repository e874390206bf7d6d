"""A worker killed with -9 in the middle of a containment action: the retry on a fresh worker process finishes
the action once. Real processes throughout: the dev server, `warroom worker` subprocesses, Debian's HAProxy
in front of two shop instances."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from string import Template
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import inherited_env
from tests.conftest import signal_with_start
from tests.contain.conftest import ADMIN_TOKEN, ShopBehindHAProxy
from workers.demo_processes import SHOP_DIR
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert
from workflows.messages.status import ActionState, IncidentStatus

TECH_LEAD = "tom"


def worker_files(shop: ShopBehindHAProxy, directory: Path) -> dict[str, str]:
    """The demo's policy and adapters for this shop; the drain waits (up to 2 min) for open sessions."""
    values = {"eu_port": shop.ports.eu, "us_port": shop.ports.us, "api_port": shop.ports.runtime_api,
              "socket": str(shop.socket_path)}  # fmt: skip
    policy = yaml.safe_load(Template((SHOP_DIR / "policy.yaml").read_text()).substitute(values))
    for action in policy["containment"]["runbooks"][0]["actions"]:
        if action["name"] == "drain_eu":
            action["params"]["wait_seconds"] = 120
    policy_file, adapters_file = directory / "policy.yaml", directory / "containment.yaml"
    policy_file.write_text(yaml.safe_dump(policy))
    adapters_file.write_text(Template((SHOP_DIR / "containment.yaml").read_text()).substitute(values))
    return {"WARROOM_POLICY": str(policy_file), "WARROOM_CONTAINMENT": str(adapters_file)}


@asynccontextmanager
async def worker_process(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "workers.cli",
            "worker",
            stdout=out,
            stderr=out,
            env={**inherited_env(), **env},
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def status_of(handle: Any) -> IncidentStatus:
    status: IncidentStatus = await handle.query(IncidentWorkflow.status)
    return status


async def eventually(probe: Any, what: str, seconds: float = 120) -> Any:
    for _ in range(int(seconds / 0.25)):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"never: {what}")


@pytest.mark.timeout(300)
async def test_a_worker_killed_mid_drain_does_not_drain_twice(
    shop: ShopBehindHAProxy, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"kill-{uuid4()}"
    data_dir = tmp_path / "data"
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": queue,
        "WARROOM_DATA_DIR": str(data_dir),
        "WARROOM_METRICS_ADDRESS": "",
        "SHOP_ADMIN_TOKEN": ADMIN_TOKEN,
        **worker_files(shop, tmp_path),
    }
    # One slow order holds a session on eu (us in maintenance routes it there): the drain waits for it.
    await shop.runtime.set_state("shop", "us", "maint")
    http = httpx.AsyncClient(timeout=300)
    await http.post(f"{shop.shop_url('eu')}/admin/fault", json={"latency_ms": 600_000},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    slow = asyncio.create_task(http.get(f"{shop.frontend_url}/order"))

    async def session_open() -> bool:
        return await shop.runtime.current_sessions("shop", "eu") >= 1

    await eventually(session_open, "the slow order on eu")
    alert = Alert(source="test", dedup_key="shop-eu-errors", event_id="e1", service="shop",
                  summary="shop eu: 50% of orders failing", labels={"region": "eu"})  # fmt: skip
    try:
        async with worker_process(env, tmp_path / "worker-1.log") as first:
            handle = await signal_with_start(dev_env.client, queue, f"shop-eu-errors-{uuid4()}", alert)

            async def pending_drain() -> Any:
                actions = (await status_of(handle)).actions
                return next(
                    (a for a in actions if a.name == "drain_eu" and a.state is ActionState.AWAITING_APPROVAL),
                    None,
                )

            drain = await eventually(pending_drain, "the drain awaiting approval")
            await handle.signal(
                "approve_action", {"by": TECH_LEAD, "action_id": drain.id, "reason": "eu fails"}
            )

            async def draining() -> bool:
                return (await shop.runtime.server_state("shop", "eu")).admin == "drain"

            await eventually(draining, "the first attempt draining eu")
            first.kill()  # kill -9 in the middle of the action: no undo, no report
            await first.wait()
        async with worker_process(env, tmp_path / "worker-2.log"):
            slow.cancel()  # the session ends: the retried drain can finish

            async def drain_done() -> Any:
                actions = (await status_of(handle)).actions
                return next((a for a in actions if a.id == drain.id and a.state is not ActionState.RUNNING
                             and a.state is not ActionState.APPROVED), None)  # fmt: skip

            done = await eventually(drain_done, "the drain finished on the second worker", seconds=180)
    finally:
        slow.cancel()
        await http.aclose()
    assert done.state is ActionState.SUCCEEDED, done
    assert (await shop.runtime.server_state("shop", "eu")).admin == "drain"
    # The retry ran on the new worker (attempt 2), and the journal holds the state from before the FIRST
    # attempt (ready, full weight): the retry did not take the crashed attempt's drain for the original.
    history = await handle.fetch_history()
    attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                if e.HasField("activity_task_started_event_attributes")]  # fmt: skip
    assert 2 in attempts, attempts
    befores = [json.loads(p.read_text()) for p in (data_dir / "containment").glob("*.before.json")]
    drain_before = [b for b in befores if b["key"].endswith(f"/{drain.id}")]
    assert drain_before and drain_before[0]["remembered"] == {"shop/eu": {"admin": "ready", "weight": 100}}
    done_files = [json.loads(p.read_text()) for p in (data_dir / "containment").glob("*.done.json")]
    assert [d["key"] for d in done_files if d["key"].endswith(f"/{drain.id}")] == [drain_before[0]["key"]]
