"""The haproxy adapter against Debian's HAProxy: each operation changes what the Runtime API reads back."""

from __future__ import annotations

import httpx
import pytest

from adapters.contain.base import ContainmentError
from adapters.contain.haproxy import HAProxyAdapter
from adapters.contain.haproxy_runtime import HAProxyRuntime
from tests.contain.conftest import ShopBehindHAProxy, context, request
from workflows.messages.containment import ContainmentOutcome


async def test_drain_disable_enable_change_the_server_state_haproxy_reads_back(
    shop: ShopBehindHAProxy,
) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime, backends=["shop"])
    for operation, state in (("drain", "drain"), ("disable", "maint"), ("enable", "ready")):
        result = await adapter.act(request("haproxy", operation, backend="shop", server="eu"), context())
        assert result.outcome is ContainmentOutcome.SUCCEEDED
        assert result.observed["admin_state"] == state
        assert (await shop.runtime.server_state("shop", "eu")).admin == state
    assert (await shop.runtime.server_state("shop", "us")).admin == "ready"


async def test_a_drained_server_gets_no_new_traffic(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime)
    await adapter.act(request("haproxy", "drain", backend="shop", server="eu"), context())
    async with httpx.AsyncClient() as client:
        served_by = {(await client.get(f"{shop.frontend_url}/order")).json()["instance"] for _ in range(6)}
    assert served_by == {"us"}


async def test_set_weight_by_percent_and_absolute(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime)
    result = await adapter.act(
        request("haproxy", "set_weight", backend="shop", server="eu", percent=25), context()
    )
    assert result.observed["weight"] == 25
    assert "25 (initial 100)" in await shop.runtime.command("get weight shop/eu")
    await adapter.act(request("haproxy", "set_weight", backend="shop", server="eu", weight=7), context())
    assert (await shop.runtime.server_state("shop", "eu")).weight == 7


async def test_a_weight_step_brings_a_drained_server_back_unless_told_not_to(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime)
    await adapter.act(request("haproxy", "drain", backend="shop", server="eu"), context())
    kept = request("haproxy", "set_weight", backend="shop", server="eu", percent=50, ready=False)
    assert (await adapter.act(kept, context())).observed["admin_state"] == "drain"
    zero = request("haproxy", "set_weight", backend="shop", server="eu", percent=0)
    assert (await adapter.act(zero, context())).observed["admin_state"] == "drain"
    step = request("haproxy", "set_weight", backend="shop", server="eu", percent=10)
    result = await adapter.act(step, context())
    assert (result.observed["admin_state"], result.observed["weight"]) == ("ready", 10)


async def test_the_tcp_runtime_api_works_too(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", HAProxyRuntime(f"127.0.0.1:{shop.ports.runtime_api}"))
    await adapter.act(request("haproxy", "disable", backend="shop", server="us"), context())
    assert (await shop.runtime.server_state("shop", "us")).admin == "maint"


async def test_undo_restores_what_was_there_before(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime)
    await adapter.act(request("haproxy", "set_weight", backend="shop", server="eu", weight=50), context())
    journal = context()
    await adapter.act(request("haproxy", "drain", key="occ-1/a2", backend="shop", server="eu"), journal)
    undone = await journal.undo_all()
    assert undone.outcome is ContainmentOutcome.UNDONE
    state = await shop.runtime.server_state("shop", "eu")
    assert (state.admin, state.weight) == ("ready", 50)


async def test_refusals_name_the_problem(shop: ShopBehindHAProxy) -> None:
    adapter = HAProxyAdapter("haproxy", shop.runtime, backends=["shop"])
    with pytest.raises(ContainmentError, match="not in this worker's allowed backends"):
        await adapter.act(request("haproxy", "drain", backend="admin", server="eu"), context())
    with pytest.raises(ContainmentError, match="no server shop/mars"):
        await adapter.act(request("haproxy", "drain", backend="shop", server="mars"), context())
    with pytest.raises(ContainmentError, match="missing parameter 'server'"):
        await adapter.act(request("haproxy", "drain", backend="shop"), context())
    with pytest.raises(ContainmentError, match="percent must be 0-100"):
        await adapter.act(
            request("haproxy", "set_weight", backend="shop", server="eu", percent=150), context()
        )
