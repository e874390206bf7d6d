"""The demo's child processes: shop instances (examples/shop/app.py) and Debian's HAProxy in front of them.

Used by `warroom run --demo` and by the tests that need a real HAProxy. Each child gets its own process group
and dies with us (PR_SET_PDEATHSIG, as the Temporal dev server does), logs to a file, and counts as started
only once it answers: the shop on /admin/maintenance, HAProxy on its Runtime API.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from string import Template

import httpx

from adapters.contain.haproxy_runtime import HAProxyRuntime, RuntimeApiError
from workers.dev_stack import StackError, _die_with_parent_hook

SHOP_DIR = Path(__file__).resolve().parents[1] / "examples" / "shop"
HAPROXY_CANDIDATES = ("/usr/sbin/haproxy", "/usr/bin/haproxy")
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def find_haproxy() -> str:
    found = shutil.which("haproxy") or next((p for p in HAPROXY_CANDIDATES if Path(p).is_file()), None)
    if found is None:
        raise StackError("HAProxy is not installed: `apt-get install haproxy` (Debian), or run `make demo`")
    return found


def shop_script() -> Path:
    script = SHOP_DIR / "app.py"
    if not script.is_file():
        raise StackError(f"the demo shop is not at {script}: run the demo from a warroom source checkout")
    return script


@dataclass
class Child:
    """One child process, its log file, and a clean stop (SIGTERM to its group, SIGKILL if it hangs)."""

    label: str
    process: asyncio.subprocess.Process
    log_file: Path

    @classmethod
    async def start(
        cls, label: str, args: list[str], log_file: Path, env: dict[str, str] | None = None
    ) -> Child:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                preexec_fn=_die_with_parent_hook(),
            )
        return cls(label, process, log_file)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"Last lines of {self.log_file}:\n" + "\n".join(f"  {line}" for line in text)

    def check_alive(self) -> None:
        if self.process.returncode is not None:
            raise StackError(f"{self.label} exited with code {self.process.returncode}.\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()


async def _wait_until(child: Child, probe: Callable[[], Awaitable[None]], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        child.check_alive()
        try:
            await probe()
            return
        except (httpx.HTTPError, RuntimeApiError, OSError):
            if time.monotonic() > deadline:
                raise StackError(
                    f"{child.label} did not answer {what} within {READY_TIMEOUT:.0f} s.\n{child.log_tail()}"
                ) from None
            await asyncio.sleep(0.1)


async def start_shop(name: str, port: int, log_dir: Path, admin_token: str | None = None) -> Child:
    """One shop instance on 127.0.0.1:port, answering once its admin API does."""
    env = {"SHOP_ADMIN_TOKEN": admin_token or ""}
    args = [sys.executable, str(shop_script()), "--name", name, "--port", str(port)]
    child = await Child.start(f"shop '{name}'", args, log_dir / f"shop-{name}.log", env)
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            (
                await client.get(f"http://127.0.0.1:{port}/admin/maintenance", headers=headers)
            ).raise_for_status()

    await _wait_until(child, probe, f"on port {port}")
    return child


@dataclass(frozen=True)
class HAProxyPorts:
    frontend: int
    runtime_api: int  # the TCP Runtime API (the unix socket is the other)
    eu: int
    us: int


def render_haproxy_config(socket_path: Path, ports: HAProxyPorts) -> str:
    template = Template((SHOP_DIR / "haproxy.cfg.template").read_text(encoding="utf-8"))
    return template.substitute(
        socket=str(socket_path),
        api_port=ports.runtime_api,
        port=ports.frontend,
        eu_port=ports.eu,
        us_port=ports.us,
    )


async def start_haproxy(config_file: Path, socket_path: Path, log_dir: Path) -> Child:
    """HAProxy in the foreground (-db) with the given config, answering once its Runtime API does."""
    args = [find_haproxy(), "-db", "-f", str(config_file)]
    child = await Child.start("HAProxy", args, log_dir / "haproxy.log")
    runtime = HAProxyRuntime(str(socket_path), timeout=2)

    async def probe() -> None:
        if "Name: HAProxy" not in await runtime.command("show info"):
            raise RuntimeApiError("not ready")

    await _wait_until(child, probe, f"on its Runtime API {socket_path}")
    return child
