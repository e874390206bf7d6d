"""Serving the intake with uvicorn inside an existing event loop (`warroom run`, `warroom intake`, tests).

uvicorn's own signal handling is switched off: the process that embeds the intake owns SIGINT/SIGTERM and
stops the intake in order (before the worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT = 10.0
KEEP_ALIVE_SECONDS = 75


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class IntakeStartError(Exception):
    """The intake could not listen (port taken, bad address)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """The intake's listener. Its connections must not wait on Nagle's algorithm: uvicorn writes a response's
    head and body separately, and a body held back until the sender's delayed ACK cost every answer ~40 ms
    (measured: /healthz 44 ms, 2 ms once fixed). asyncio turns TCP_NODELAY on for each connection only when
    the socket says it is TCP, which a bare `socket(AF_INET, SOCK_STREAM)` does not (its proto is 0); Linux
    copies the listener's own TCP_NODELAY to every connection it accepts as well."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise IntakeStartError(f"the intake cannot listen on {host}:{port} ({error.strerror})") from None
    return listener


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, host: str, port: int) -> AsyncIterator[str]:
    """Serve until the block exits; yields the base URL (port 0 picks a free one)."""
    # We bind the socket ourselves: uvicorn reports a taken port with sys.exit, which would end the process.
    listener = listening_socket(host, port)
    # Keep-alive longer than senders' idle pools: a connection closed under a sender's reused request is a
    # failed delivery it has to retry.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=KEEP_ALIVE_SECONDS
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="intake")
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while not server.started:
            if task.done():
                raise IntakeStartError(f"the intake could not listen on {host}:{port}")
            await asyncio.sleep(0.01)
    bound = listener.getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task
        listener.close()
