"""Real processes for the containment tests: two demo-shop instances behind Debian's HAProxy, started per
test with a generated config and free ports (other engineers run tests on this machine at the same time)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.contain.base import ActionContext
from adapters.contain.haproxy_runtime import HAProxyRuntime
from tests.conftest import free_ports
from workers.demo_processes import Child, HAProxyPorts, render_haproxy_config, start_haproxy, start_shop
from workflows.messages.containment import ContainmentRequest

ADMIN_TOKEN = "shop-admin-test-token"


@dataclass
class ShopBehindHAProxy:
    ports: HAProxyPorts
    socket_path: Path
    children: list[Child]

    @property
    def runtime(self) -> HAProxyRuntime:
        return HAProxyRuntime(str(self.socket_path))

    def shop_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.eu if name == 'eu' else self.ports.us}"

    @property
    def frontend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.frontend}"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A unix socket path must stay under ~108 bytes: pytest's tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="wr-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def shop(tmp_path: Path, short_dir: Path) -> AsyncIterator[ShopBehindHAProxy]:
    frontend, api, eu, us = free_ports(4)
    ports = HAProxyPorts(frontend=frontend, runtime_api=api, eu=eu, us=us)
    socket_path = short_dir / "haproxy.sock"
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_haproxy_config(socket_path, ports))
    children: list[Child] = []
    try:
        children.append(await start_shop("eu", eu, tmp_path, ADMIN_TOKEN))
        children.append(await start_shop("us", us, tmp_path, ADMIN_TOKEN))
        children.append(await start_haproxy(config, socket_path, tmp_path))
        yield ShopBehindHAProxy(ports, socket_path, children)
    finally:
        for child in reversed(children):
            await child.stop()


def request(adapter: str, operation: str, key: str = "occ-1/a1", **params: Any) -> ContainmentRequest:
    return ContainmentRequest(
        incident_id="incident-shop",
        action_id=key.split("/")[1] if "/" in key else "a1",
        adapter=adapter,
        operation=operation,
        params=params,
        idempotency_key=key,
    )


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """A bounded wait for something another thread or process does (a poll arrives, a state changes)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true within {seconds} s")


def context() -> ActionContext:
    beats: list[Any] = []
    return ActionContext(heartbeat=lambda *details: beats.append(details))
