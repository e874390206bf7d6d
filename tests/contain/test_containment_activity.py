"""run_containment_action with Debian's HAProxy: a completed key is not acted on again, and a halt (activity
cancellation) while a drain waits for open sessions puts the server back, also through a real Temporal
server with WAIT_CANCELLATION_COMPLETED, which is how the incident workflow cancels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
from temporalio import workflow
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import ActivityCancellationType

from activities.contain import ContainmentActivities
from adapters.contain.haproxy import HAProxyAdapter
from adapters.contain.journal import ActionJournal
from tests.contain.conftest import ADMIN_TOKEN, ShopBehindHAProxy, request, until
from workflows.messages.activities import ActivityName
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult


def containment(shop: ShopBehindHAProxy, tmp_path: Path) -> ContainmentActivities:
    adapters = {"haproxy": HAProxyAdapter("haproxy", shop.runtime, backends=["shop"])}
    return ContainmentActivities(adapters, ActionJournal(tmp_path / "containment"))


@asynccontextmanager
async def session_held_on_eu(shop: ShopBehindHAProxy) -> AsyncIterator[None]:
    """One slow order in flight on eu (us in maintenance so HAProxy must route it there): a drain waits."""
    await shop.runtime.set_state("shop", "us", "maint")
    async with httpx.AsyncClient(timeout=120) as client:
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        await client.post(f"{shop.shop_url('eu')}/admin/fault", json={"latency_ms": 60_000}, headers=auth)
        slow = asyncio.create_task(client.get(f"{shop.frontend_url}/order"))
        for _ in range(500):  # until HAProxy counts the order as an open session on eu
            if await shop.runtime.current_sessions("shop", "eu") >= 1:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"the slow order never reached eu: {slow}")
        try:
            yield
        finally:
            slow.cancel()


async def test_a_completed_key_is_answered_from_the_journal_without_acting(
    shop: ShopBehindHAProxy, tmp_path: Path
) -> None:
    drain = request("haproxy", "drain", key="occ-1/a2", backend="shop", server="eu")
    first = await ActivityEnvironment().run(containment(shop, tmp_path).run_containment_action, drain)
    assert first.observed["admin_state"] == "drain"
    await shop.runtime.set_state("shop", "eu", "ready")  # a human put it back meanwhile
    # The same key again, from a fresh worker (a retry after kill -9): nothing is sent to HAProxy.
    again = await ActivityEnvironment().run(containment(shop, tmp_path).run_containment_action, drain)
    assert again.detail.startswith("already done under this key")
    assert (await shop.runtime.server_state("shop", "eu")).admin == "ready"


async def test_unknown_adapters_and_bad_params_fail_with_the_reason(
    shop: ShopBehindHAProxy, tmp_path: Path
) -> None:
    env = ActivityEnvironment()
    activities = containment(shop, tmp_path)
    unknown = await env.run(activities.run_containment_action, request("k8s", "scale", key="occ-1/a7"))
    assert unknown.outcome is ContainmentOutcome.FAILED and "unknown adapter 'k8s'" in unknown.detail
    typo = await env.run(
        activities.run_containment_action, request("haproxy", "drain", key="occ-1/a8", backend="shop")
    )
    assert typo.outcome is ContainmentOutcome.FAILED and "missing parameter 'server'" in typo.detail


async def test_cancelling_a_drain_that_waits_for_sessions_undoes_it(
    shop: ShopBehindHAProxy, tmp_path: Path
) -> None:
    async with session_held_on_eu(shop):
        env = ActivityEnvironment()
        beats: list[str] = []
        env.on_heartbeat = lambda *details: beats.extend(str(d) for d in details)
        drain = request("haproxy", "drain", backend="shop", server="eu", wait_seconds=60)
        run = asyncio.create_task(env.run(containment(shop, tmp_path).run_containment_action, drain))
        await until(lambda: any("sessions open" in beat for beat in beats))
        assert (await shop.runtime.server_state("shop", "eu")).admin == "drain"
        env.cancel()
        result = await run
    assert result.outcome is ContainmentOutcome.UNDONE
    assert "shop/eu back to ready" in result.detail
    assert (await shop.runtime.server_state("shop", "eu")).admin == "ready"


@workflow.defn(sandboxed=False)
class HaltableAction:
    """The incident workflow's way of running an action, cut down: cancel on halt, wait for the answer."""

    def __init__(self) -> None:
        self.halted = False

    @workflow.signal
    def halt(self) -> None:
        self.halted = True

    @workflow.run
    async def run(self, action: ContainmentRequest) -> ContainmentResult:
        handle = workflow.start_activity(
            ActivityName.CONTAIN.value,
            action,
            result_type=ContainmentResult,
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=timedelta(seconds=5),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        await workflow.wait_condition(lambda: self.halted or handle.done())
        if not handle.done():
            handle.cancel()
        return await handle


async def test_a_halt_through_temporal_gets_the_undo_back_in_the_workflow(
    shop: ShopBehindHAProxy, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    queue = f"contain-{uuid4()}"
    activities = containment(shop, tmp_path)
    async with (
        session_held_on_eu(shop),
        Worker(
            dev_env.client,
            task_queue=queue,
            workflows=[HaltableAction],
            activities=[activities.run_containment_action],
        ),
    ):
        drain = request("haproxy", "drain", backend="shop", server="eu", wait_seconds=60)
        handle = await dev_env.client.start_workflow(
            HaltableAction.run, drain, id=f"halt-{uuid4()}", task_queue=queue
        )
        for _ in range(500):
            if (await shop.runtime.server_state("shop", "eu")).admin == "drain":
                break
            await asyncio.sleep(0.02)
        await handle.signal(HaltableAction.halt)
        result = await handle.result()
    assert result.outcome is ContainmentOutcome.UNDONE
    assert (await shop.runtime.server_state("shop", "eu")).admin == "ready"
