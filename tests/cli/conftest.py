"""Plumbing for CLI tests: the real `warroom` entry point as a subprocess, pointed at the session dev server.

Subprocesses are awaited with asyncio, never waited on synchronously: the worker under test runs in this very
event loop, and a blocking wait would freeze it (the CLI would then time out waiting for an outcome).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import pytest
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import running_worker

COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def inherited_env() -> dict[str, str]:
    """This process's environment minus WARROOM_*: a developer's own settings must not leak into tests."""
    return {name: value for name, value in os.environ.items() if not name.startswith("WARROOM_")}


async def run_warroom(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """Run `python -m workers.cli ARGS` (the same `main()` as the `warroom` script) and capture everything."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**inherited_env(), "WARROOM_METRICS_ADDRESS": "", **(env or {})},
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    finally:
        if process.returncode is None:  # timed out or cancelled: leave no process behind
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


Warroom = Callable[..., Awaitable[Result]]


@pytest.fixture
async def warroom(dev_env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Warroom]:
    """`await warroom("ack", id)` against the session dev server, with a worker on this test's task queue."""
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": settings.task_queue,
        "USER": "tester",
    }

    async def call(*args: str) -> Result:
        return await run_warroom(*args, env=env)

    async with running_worker(dev_env.client, settings):
        yield call


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Visibility is eventually consistent: poll with a bounded wait (TimeoutError when it runs out)."""
    async with asyncio.timeout(within):
        while True:  # polling is the point: there is no event to wait for in another process's index
            if await check():
                return
            await asyncio.sleep(0.2)
