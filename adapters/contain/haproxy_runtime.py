"""A client for HAProxy's Runtime API (the stats socket): one command per connection, text back.

Address: a unix socket path (`/run/haproxy/admin.sock` or `unix:/...`) or `host:port` for a TCP `stats
socket ipv4@...` line. The socket must be declared with `level admin` for the set commands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

TIMEOUT_SECONDS = 5.0

# srv_admin_state bits (HAProxy's SRV_ADMF_*): any maintenance flag means MAINT, else a drain flag DRAIN.
_MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
_DRAIN_FLAGS = 0x08 | 0x10
# srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping.
_OPERATIONAL = {0: "down", 1: "starting", 2: "up", 3: "stopping"}


class RuntimeApiError(Exception):
    """HAProxy refused a command or could not be reached; the message is HAProxy's own answer."""


@dataclass(frozen=True)
class ServerState:
    backend: str
    server: str
    admin: str  # ready | drain | maint
    operational: str  # up | down | starting | stopping
    weight: int  # current (user) weight
    initial_weight: int

    def as_observed(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "server": self.server,
            "admin_state": self.admin,
            "operational_state": self.operational,
            "weight": self.weight,
            "initial_weight": self.initial_weight,
        }


def _admin_state(flags: int) -> str:
    if flags & _MAINT_FLAGS:
        return "maint"
    if flags & _DRAIN_FLAGS:
        return "drain"
    return "ready"


class HAProxyRuntime:
    def __init__(self, address: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.address = address
        self.timeout = timeout

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        address = self.address.removeprefix("unix:").removeprefix("unix@")
        if address.startswith("/") or address.startswith("."):
            return await asyncio.open_unix_connection(address)
        host, _, port = address.removeprefix("ipv4@").rpartition(":")
        return await asyncio.open_connection(host or "127.0.0.1", int(port))

    async def command(self, line: str) -> str:
        """Send one command and read HAProxy's whole answer (it closes the connection after answering)."""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await self._open()
                try:
                    writer.write(line.encode() + b"\n")
                    await writer.drain()
                    answer = await reader.read()
                finally:
                    writer.close()
        except (OSError, TimeoutError) as error:
            raise RuntimeApiError(f"HAProxy Runtime API at {self.address}: {error or 'timed out'}") from None
        return answer.decode(errors="replace")

    async def set_command(self, line: str) -> None:
        """A `set ...` command answers nothing on success, and its complaint otherwise."""
        answer = (await self.command(line)).strip()
        if answer:
            raise RuntimeApiError(f"HAProxy refused '{line}': {answer}")

    async def set_state(self, backend: str, server: str, state: str) -> None:
        await self.set_command(f"set server {backend}/{server} state {state}")

    async def set_weight(self, backend: str, server: str, weight: str) -> None:
        await self.set_command(f"set server {backend}/{server} weight {weight}")

    async def server_state(self, backend: str, server: str) -> ServerState:
        answer = await self.command(f"show servers state {backend}")
        header: list[str] = []
        for line in answer.splitlines():
            if line.startswith("# "):
                header = line[2:].split()
                continue
            fields = line.split()
            if not header or len(fields) < len(header):
                continue
            row = dict(zip(header, fields, strict=False))
            if row.get("be_name") == backend and row.get("srv_name") == server:
                return ServerState(
                    backend=backend,
                    server=server,
                    admin=_admin_state(int(row["srv_admin_state"])),
                    operational=_OPERATIONAL.get(int(row["srv_op_state"]), row["srv_op_state"]),
                    weight=int(row["srv_uweight"]),
                    initial_weight=int(row["srv_iweight"]),
                )
        raise RuntimeApiError(f"HAProxy has no server {backend}/{server}: {answer.strip()[:200]}")

    async def current_sessions(self, backend: str, server: str) -> int:
        """Connections the server still serves (`show stat` scur): what a drain waits for."""
        answer = await self.command("show stat")
        lines = answer.splitlines()
        if not lines or not lines[0].startswith("# "):
            raise RuntimeApiError(f"unexpected 'show stat' answer: {answer[:200]}")
        columns = lines[0][2:].split(",")
        for line in lines[1:]:
            row = dict(zip(columns, line.split(","), strict=False))
            if row.get("pxname") == backend and row.get("svname") == server:
                return int(row.get("scur") or 0)
        raise RuntimeApiError(f"HAProxy has no server {backend}/{server} in 'show stat'")
