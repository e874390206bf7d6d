"""A TLS endpoint in front of the Temporal dev server: `temporal server start-dev` (CLI 1.9.1, server 1.32) has
no TLS options, so this terminates TLS (optionally requiring a client certificate: mutual TLS) with the
standard library and relays the bytes to the plaintext dev server. The client's TLS handshake, certificate
checks and HTTP/2 (ALPN h2) are the real thing; only the server side of TLS is Python's instead of Go's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class TlsProxy:
    port: int
    relayed: int = 0  # connections whose TLS handshake succeeded (a refused client certificate never counts)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@asynccontextmanager
async def tls_proxy(
    context: ssl.SSLContext, upstream_host: str, upstream_port: int
) -> AsyncIterator[TlsProxy]:
    """Serve TLS on a free loopback port and relay each connection to the upstream plaintext server."""
    proxy = TlsProxy(port=0)

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        proxy.relayed += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(upstream_host, upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(relay(reader, writer))
        proxy._tasks.add(task)
        task.add_done_callback(proxy._tasks.discard)

    context.set_alpn_protocols(["h2"])
    server = await asyncio.start_server(on_connection, "127.0.0.1", 0, ssl=context, ssl_handshake_timeout=10)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(proxy._tasks):
            task.cancel()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
        await server.wait_closed()
