"""observe_health against the real shop: a healthy instance passes its soak, a faulty one fails the gate."""

from __future__ import annotations

import httpx
from temporalio.testing import ActivityEnvironment

from activities.observe import observe_health
from tests.contain.conftest import ADMIN_TOKEN, ShopBehindHAProxy
from workflows.messages.containment import HealthObservationRequest


def gate(url: str, soak: float = 0.6) -> HealthObservationRequest:
    return HealthObservationRequest(
        incident_id="incident-shop", url=url, soak_seconds=soak, max_error_rate=0.05, max_latency_ms=500
    )


async def test_a_healthy_shop_passes_after_the_soak(shop: ShopBehindHAProxy) -> None:
    env = ActivityEnvironment()
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    result = await env.run(observe_health, gate(f"{shop.shop_url('eu')}/health"))
    assert result.healthy and result.samples >= 3 and result.worst_error_rate == 0.0
    assert len(beats) == result.samples


async def test_a_faulty_shop_fails_the_gate_with_the_reason(shop: ShopBehindHAProxy) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{shop.shop_url('eu')}/admin/fault",
            json={"error_rate": 0.5},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    result = await ActivityEnvironment().run(observe_health, gate(f"{shop.shop_url('eu')}/health", soak=30))
    assert not result.healthy
    assert "error rate" in result.detail and result.worst_error_rate > 0.05


async def test_slow_answers_fail_the_latency_limit(shop: ShopBehindHAProxy) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{shop.shop_url('us')}/admin/fault",
            json={"latency_ms": 700},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    result = await ActivityEnvironment().run(observe_health, gate(f"{shop.shop_url('us')}/health", soak=30))
    assert not result.healthy and "latency" in result.detail


async def test_an_unreachable_health_endpoint_is_unhealthy() -> None:
    result = await ActivityEnvironment().run(observe_health, gate("http://127.0.0.1:1/health"))
    assert not result.healthy and "unreadable" in result.detail
