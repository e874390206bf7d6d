"""A sender that costs next to nothing: HTTP/1.1 POSTs over one kept-alive connection, each request written
in one piece (no Nagle wait between head and body).

The benches' senders share the machine's two cores with what they measure; a Python HTTP client spent
more CPU per alert than the intake did, and the bare baselines have no sender at all (the SDK client is
Rust). Real senders (Alertmanager, Grafana) run on other machines."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class RawHttp:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> None:
        if self._stream is None:
            self._stream = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes) -> tuple[int, Any]:
        """Status and JSON answer; a connection the server closed is opened again once."""
        for attempt in (1, 2):
            await self.connect()
            assert self._stream is not None
            reader, writer = self._stream
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            try:
                writer.write(head.encode() + body)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                answer = json.loads(await reader.readexactly(length)) if length else None
                return status, answer
            except (ConnectionError, asyncio.IncompleteReadError, IndexError):
                await self.close()
                if attempt == 2:
                    raise ConnectionError("the intake closed the connection") from None
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._stream is not None:
            writer = self._stream[1]
            self._stream = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
