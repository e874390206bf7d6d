"""`warroom run --demo` end to end, as a real process with real children: the shop's real fault raises an
alert, the runbook's automatic action changes the shop, an approved drain changes HAProxy (read back through
its Runtime API), and phased restoration shows on HAProxy's weights."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from adapters.contain.haproxy_runtime import HAProxyRuntime
from tests.cli.conftest import inherited_env
from tests.conftest import free_ports
from workers.data_converter import data_converter
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.status import ActionState, IncidentStatus

INCIDENT = "incident-shop-eu-errors"
TECH_LEAD = "tom"  # examples/shop/policy.yaml: the storefront team's tech lead may approve the drain


def free_port_run(length: int) -> int:
    """The first of `length` consecutive free ports (the demo's HAProxy, eu, us and Runtime API)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + length > 65535:
            continue
        probes = [socket.socket() for _ in range(length)]
        try:
            for offset, held in enumerate(probes):
                held.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for held in probes:
                held.close()
    raise AssertionError("no run of free ports")


@dataclass
class Demo:
    process: asyncio.subprocess.Process
    data_dir: Path
    temporal_port: int
    base: int
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    @property
    def token(self) -> str:
        return (self.data_dir / "demo" / "shop-admin-token").read_text().strip()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def shop(self, region: str) -> str:
        return f"http://127.0.0.1:{self.base + (1 if region == 'eu' else 2)}"

    @property
    def runtime(self) -> HAProxyRuntime:
        return HAProxyRuntime(f"127.0.0.1:{self.base + 3}")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    temporal, ui, intake = free_ports(3)
    base = free_port_run(4)
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    env = {
        **inherited_env(),
        "WARROOM_METRICS_ADDRESS": "",
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{intake}",
    }
    args = ["run", "--demo", "--demo-port", str(base), "--port", str(temporal), "--ui-port", str(ui)]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers.cli", *args, "--data-dir", str(tmp_path / "data"),
            stdout=out, stderr=err, env=env,
        )  # fmt: skip
    running = Demo(process, tmp_path / "data", temporal, base, stdout, stderr)
    try:
        for _ in range(600):
            if "Press Ctrl-C to stop." in stdout.read_text():
                break
            assert process.returncode is None, f"warroom run --demo exited:\n{running.output()}"
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"warroom run --demo did not come up:\n{running.output()}")
        yield running
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def eventually(probe: Any, what: str, seconds: float = 120) -> Any:
    """Poll an async probe until it returns something truthy (bounded; the demo runs on its own clock)."""
    for _ in range(int(seconds / 0.25)):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"never: {what}")


async def incident_status(handle: WorkflowHandle[Any, Any]) -> IncidentStatus | None:
    try:
        status: IncidentStatus = await handle.query(IncidentWorkflow.status)
    except RPCError:
        return None
    return status


@pytest.mark.timeout(420)
async def test_break_the_shop_approve_the_drain_and_watch_phased_recovery(demo: Demo) -> None:
    client = await Client.connect(f"127.0.0.1:{demo.temporal_port}", data_converter=data_converter)
    async with httpx.AsyncClient(timeout=10) as http:
        # 1. The shop's real fault: half of eu's orders fail; the demo's watcher raises the alert.
        assert (
            await http.post(f"{demo.shop('eu')}/admin/fault", json={"error_rate": 0.5}, headers=demo.auth)
        ).is_success
        handle = client.get_workflow_handle(INCIDENT)

        # 2. The runbook's automatic action changes the shop's state: eu is rate limited, nobody asked.
        async def rate_limited() -> bool:
            answer = await http.get(f"{demo.shop('eu')}/admin/rate-limit", headers=demo.auth)
            return bool(answer.json() == {"per_second": 20.0})

        await eventually(rate_limited, "the automatic rate limit on eu")
        assert (await http.get(f"{demo.shop('us')}/admin/rate-limit", headers=demo.auth)).json() == {
            "per_second": None
        }

        # 3. The drain waits for approval; approved, HAProxy drains eu.
        async def pending_drain() -> Any:
            status = await incident_status(handle)
            actions = status.actions if status else []
            return next(
                (a for a in actions if a.name == "drain_eu" and a.state is ActionState.AWAITING_APPROVAL),
                None,
            )

        drain = await eventually(pending_drain, "the drain awaiting approval")
        assert (await demo.runtime.server_state("shop", "eu")).admin == "ready"
        await handle.signal(
            "approve_action", {"by": TECH_LEAD, "action_id": drain.id, "reason": "eu is failing"}
        )

        async def drained() -> bool:
            return (await demo.runtime.server_state("shop", "eu")).admin == "drain"

        await eventually(drained, "eu drained in HAProxy")
        served_by = {
            (await http.get(f"http://127.0.0.1:{demo.base}/order")).json()["instance"] for _ in range(6)
        }
        assert served_by == {"us"}

        # 4. Fixed and mitigated: recovery brings eu back in steps, read from HAProxy's weights.
        await http.delete(f"{demo.shop('eu')}/admin/fault", headers=demo.auth)
        await handle.signal("mitigate", {"by": TECH_LEAD, "note": "eu fault cleared"})
        weights: list[int] = []

        async def fully_back() -> bool:
            state = await demo.runtime.server_state("shop", "eu")
            if state.admin == "ready" and (not weights or weights[-1] != state.weight):
                weights.append(state.weight)
            return state.admin == "ready" and state.weight == 100 and 50 in weights

        await eventually(fully_back, f"eu back at 100% (weights seen: {weights})", seconds=300)
    assert [weight for weight in weights if weight in (10, 25, 50, 100)] == [10, 25, 50, 100], weights
