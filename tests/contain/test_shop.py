"""The demo shop as a real process: fault injection shows in /health, the admin endpoints change behaviour,
and the http_admin and snapshot adapters drive them (with undo)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.contain.base import ContainmentError
from adapters.contain.http_admin import AdminOperation, HttpAdminAdapter
from adapters.contain.snapshot import SnapshotAdapter
from config.secrets import SecretSource
from tests.contain.conftest import ADMIN_TOKEN, ShopBehindHAProxy, context, request

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SETTINGS = {
    "maintenance_mode": AdminOperation("/admin/maintenance"),
    "rate_limit": AdminOperation("/admin/rate-limit"),
    "feature_flags": AdminOperation("/admin/flags"),
    "disable_feature": AdminOperation("/admin/flags", {"{feature}": False}),
}


def admin_adapter(shop: ShopBehindHAProxy) -> HttpAdminAdapter:
    return HttpAdminAdapter(
        "shop",
        targets={"eu": shop.shop_url("eu"), "us": shop.shop_url("us")},
        settings=SETTINGS,
        secrets=SecretSource(environ={"SHOP_ADMIN_TOKEN": ADMIN_TOKEN}),
        token="${SHOP_ADMIN_TOKEN}",
    )


async def test_an_injected_fault_shows_in_health_and_clears(shop: ShopBehindHAProxy) -> None:
    eu = shop.shop_url("eu")
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{eu}/health")).json()["error_rate"] == 0.0
        fault = await client.post(
            f"{eu}/admin/fault", json={"error_rate": 1.0, "latency_ms": 50}, headers=AUTH
        )
        assert fault.status_code == 200
        assert (await client.get(f"{eu}/order")).status_code == 500
        health = (await client.get(f"{eu}/health")).json()
        assert health["error_rate"] == 1.0 and health["latency_ms"] >= 50  # a new fault: a fresh window
        assert (await client.get(f"{shop.shop_url('us')}/health")).json()["error_rate"] == 0.0
        await client.delete(f"{eu}/admin/fault", headers=AUTH)
        assert (await client.get(f"{eu}/order")).status_code == 200
        assert (await client.get(f"{eu}/health")).json()["error_rate"] == 0.0


async def test_admin_endpoints_need_the_token_and_check_their_input(shop: ShopBehindHAProxy) -> None:
    eu = shop.shop_url("eu")
    async with httpx.AsyncClient() as client:
        assert (await client.post(f"{eu}/admin/fault", json={"error_rate": 1})).status_code == 401
        bad = await client.put(f"{eu}/admin/rate-limit", json={"per_second": -1}, headers=AUTH)
        assert bad.status_code == 422 and "per_second" in bad.text
        assert (
            await client.post(f"{eu}/admin/fault", json={"error_rate": 2}, headers=AUTH)
        ).status_code == 422


async def test_maintenance_rate_limit_and_flags_change_what_the_shop_serves(shop: ShopBehindHAProxy) -> None:
    eu = shop.shop_url("eu")
    async with httpx.AsyncClient() as client:
        await client.put(f"{eu}/admin/maintenance", json={"enabled": True}, headers=AUTH)
        assert (await client.get(f"{eu}/order")).status_code == 503
        await client.put(f"{eu}/admin/maintenance", json={"enabled": False}, headers=AUTH)
        await client.put(f"{eu}/admin/rate-limit", json={"per_second": 1}, headers=AUTH)
        codes = [(await client.get(f"{eu}/order")).status_code for _ in range(5)]
        assert 429 in codes and 200 in codes
        await client.put(f"{eu}/admin/rate-limit", json={"per_second": None}, headers=AUTH)
        await client.put(f"{eu}/admin/flags", json={"recommendations": False}, headers=AUTH)
        assert "recommendations" not in (await client.get(f"{eu}/order")).json()


async def test_a_fault_behind_a_feature_flag_stops_when_the_flag_is_off(shop: ShopBehindHAProxy) -> None:
    eu = shop.shop_url("eu")
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{eu}/admin/fault", json={"error_rate": 1.0, "flag": "recommendations"}, headers=AUTH
        )
        assert (await client.get(f"{eu}/order")).status_code == 500
        await client.put(f"{eu}/admin/flags", json={"recommendations": False}, headers=AUTH)
        assert (await client.get(f"{eu}/order")).status_code == 200


async def test_http_admin_sets_a_setting_reads_it_back_and_undoes(shop: ShopBehindHAProxy) -> None:
    adapter = admin_adapter(shop)
    journal = context()
    result = await adapter.act(request("shop", "rate_limit", target="eu", per_second=5), journal)
    assert result.observed == {"eu": {"per_second": 5.0}}
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{shop.shop_url('us')}/admin/rate-limit", headers=AUTH)).json() == {
            "per_second": None
        }
        await journal.undo_all()
        assert (await client.get(f"{shop.shop_url('eu')}/admin/rate-limit", headers=AUTH)).json() == {
            "per_second": None
        }


async def test_http_admin_without_a_target_acts_on_every_instance(shop: ShopBehindHAProxy) -> None:
    result = await admin_adapter(shop).act(request("shop", "feature_flags", recommendations=False), context())
    assert {target: flags["recommendations"] for target, flags in result.observed.items()} == {
        "eu": False,
        "us": False,
    }


async def test_http_admin_fills_a_body_template_from_the_params(shop: ShopBehindHAProxy) -> None:
    journal = context()
    result = await admin_adapter(shop).act(
        request("shop", "disable_feature", target="us", feature="recommendations"), journal
    )
    assert result.observed["us"]["recommendations"] is False
    await journal.undo_all()
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{shop.shop_url('us')}/admin/flags", headers=AUTH)).json()[
            "recommendations"
        ] is True
    with pytest.raises(ContainmentError, match="missing parameter 'feature'"):
        await admin_adapter(shop).act(request("shop", "disable_feature", target="us"), context())


async def test_http_admin_refuses_unknown_operations_and_targets(shop: ShopBehindHAProxy) -> None:
    with pytest.raises(ContainmentError, match="unknown operation 'reboot'"):
        await admin_adapter(shop).act(request("shop", "reboot"), context())
    with pytest.raises(ContainmentError, match="unknown target 'mars'"):
        await admin_adapter(shop).act(
            request("shop", "maintenance_mode", target="mars", enabled=True), context()
        )


async def test_snapshot_keeps_each_sources_answer_under_the_data_dir(
    shop: ShopBehindHAProxy, tmp_path: Path
) -> None:
    urls = {"eu-health": f"{shop.shop_url('eu')}/health", "nothing": "http://127.0.0.1:1/health"}
    adapter = SnapshotAdapter("snapshot", urls=urls, directory=tmp_path / "snapshots")
    result = await adapter.act(request("snapshot", "snapshot"), context())
    document = json.loads(Path(result.observed["path"]).read_text())
    assert document["sources"]["eu-health"]["body"]["instance"] == "eu"
    assert "error" in document["sources"]["nothing"]
    assert "unreachable: ['nothing']" in result.detail
