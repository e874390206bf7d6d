"""`warroom run --demo`: the demo shop (regions "eu" and "us") behind Debian's HAProxy, the adapters file and
policy that point warroom at them, and a watcher that raises the shop's alerts on the intake.

The watcher stands in for a monitoring system: every WATCH_SECONDS it reads each instance's /health and
posts a generic alert (`shop-<region>-errors`) when the error rate reaches ALERT_ERROR_RATE, and the
resolution when it falls back under half of it. Everything the demo writes lives under <data dir>/demo.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from string import Template

import httpx

from activities.contain_registry import CONTAINMENT_VARIABLE
from workers.demo_processes import (
    SHOP_DIR,
    Child,
    HAProxyPorts,
    render_haproxy_config,
    start_haproxy,
    start_shop,
)

DEFAULT_PORT = 8100
ALERT_ERROR_RATE = 0.2
WATCH_SECONDS = 2.0
REGIONS = ("eu", "us")
TOKEN_VARIABLE = "SHOP_ADMIN_TOKEN"  # the shop reads it; the adapters file refers to it
MAX_SOCKET_PATH = 100  # a unix socket path is limited to ~108 bytes


@dataclass(frozen=True)
class DemoPlan:
    """Where the demo's pieces listen and what it writes: decided before anything starts."""

    data_dir: Path
    base_port: int = DEFAULT_PORT

    @property
    def ports(self) -> HAProxyPorts:
        base = self.base_port
        return HAProxyPorts(frontend=base, eu=base + 1, us=base + 2, runtime_api=base + 3)

    @property
    def directory(self) -> Path:
        return self.data_dir / "demo"

    @property
    def policy_file(self) -> Path:
        return self.directory / "policy.yaml"

    @property
    def containment_file(self) -> Path:
        return self.directory / "containment.yaml"

    @property
    def token_file(self) -> Path:
        return self.directory / "shop-admin-token"

    def shop_url(self, region: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, region)}"

    @property
    def frontend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.frontend}"


@dataclass(frozen=True)
class DemoRunning:
    plan: DemoPlan
    socket_path: Path
    admin_token: str

    def worker_environment(self) -> dict[str, str]:
        """What a worker needs to act on the demo: its adapters file, and the secret that file refers to."""
        return {CONTAINMENT_VARIABLE: str(self.plan.containment_file), TOKEN_VARIABLE: self.admin_token}

    def announce_lines(self) -> list[str]:
        plan = self.plan
        return [
            f"  Demo shop:     {plan.frontend_url}/order  (HAProxy; eu {plan.shop_url('eu')}, us {plan.shop_url('us')})",
            f"  HAProxy API:   {self.socket_path}  (and 127.0.0.1:{plan.ports.runtime_api})",
            f'  Break eu:      curl -X POST -H "Authorization: Bearer $(cat {plan.token_file})" '
            f"-d '{{\"error_rate\": 0.5}}' {plan.shop_url('eu')}/admin/fault",
        ]


def _socket_path(directory: Path) -> Path:
    path = directory / "haproxy.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix="warroom-demo-")) / "haproxy.sock"


def _admin_token(plan: DemoPlan) -> str:
    if not plan.token_file.exists():
        plan.token_file.write_text(secrets.token_urlsafe(24) + "\n")
        plan.token_file.chmod(0o600)
    return plan.token_file.read_text().strip()


def write_demo_files(plan: DemoPlan, socket_path: Path) -> None:
    """The policy and the adapters file, with this run's ports (no secret in either)."""
    plan.directory.mkdir(parents=True, exist_ok=True)
    values = {
        "eu_port": plan.ports.eu,
        "us_port": plan.ports.us,
        "api_port": plan.ports.runtime_api,
        "socket": str(socket_path),
    }
    for name, target in (("policy.yaml", plan.policy_file), ("containment.yaml", plan.containment_file)):
        text = Template((SHOP_DIR / name).read_text(encoding="utf-8")).substitute(values)
        target.write_text(text, encoding="utf-8")


@asynccontextmanager
async def demo_services(plan: DemoPlan) -> AsyncIterator[DemoRunning]:
    """Shop x2 and HAProxy, started and answering; stopped (HAProxy first) on exit."""
    plan.directory.mkdir(parents=True, exist_ok=True)
    socket_path = _socket_path(plan.directory)
    token = _admin_token(plan)
    write_demo_files(plan, socket_path)
    config = plan.directory / "haproxy.cfg"
    config.write_text(render_haproxy_config(socket_path, plan.ports), encoding="utf-8")
    children: list[Child] = []
    try:
        for region in REGIONS:
            children.append(await start_shop(region, getattr(plan.ports, region), plan.directory, token))
        children.append(await start_haproxy(config, socket_path, plan.directory))
        yield DemoRunning(plan, socket_path, token)
    finally:
        for child in reversed(children):
            await child.stop()


class ShopWatcher:
    """Turns each region's /health into generic alerts on the intake (firing, then resolved)."""

    def __init__(self, plan: DemoPlan, intake_url: str, intake_token: str) -> None:
        self.plan = plan
        self.intake_url = intake_url.rstrip("/")
        self.intake_token = intake_token
        self.firing: dict[str, bool] = dict.fromkeys(REGIONS, False)

    async def watch(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            while not stop.is_set():
                for region in REGIONS:
                    with suppress(httpx.HTTPError, ValueError, KeyError):
                        await self._check(client, region)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), WATCH_SECONDS)

    async def _check(self, client: httpx.AsyncClient, region: str) -> None:
        health = (await client.get(f"{self.plan.shop_url(region)}/health")).json()
        error_rate = float(health["error_rate"])
        if not self.firing[region] and error_rate >= ALERT_ERROR_RATE:
            self.firing[region] = await self._post(client, region, "firing", error_rate)
        elif self.firing[region] and error_rate < ALERT_ERROR_RATE / 2:
            self.firing[region] = not await self._post(client, region, "resolved", error_rate)

    async def _post(self, client: httpx.AsyncClient, region: str, status: str, error_rate: float) -> bool:
        alert = {
            "dedup_key": f"shop-{region}-errors",
            "status": status,
            "service": "shop",
            "summary": f"shop {region}: {error_rate:.0%} of orders failing",
            "severity": "critical",
            "source": "demo-watcher",
            "labels": {"alertname": "ShopErrorRate", "region": region},
            "impact": {"regions": [region], "error_rate": error_rate},
        }
        response = await client.post(
            f"{self.intake_url}/v1/alerts/generic",
            json=alert,
            headers={"Authorization": f"Bearer {self.intake_token}"},
        )
        return response.status_code < 300


@asynccontextmanager
async def watching(plan: DemoPlan, intake_url: str, intake_token: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(ShopWatcher(plan, intake_url, intake_token).watch(stop))
    try:
        yield
    finally:
        stop.set()
        await task
