"""`warroom run` sets the namespace retention, so closed incidents stay visible to reports for a quarter."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from tests.cli.conftest import run_warroom
from tests.cli.test_run import STOP_TIMEOUT, Stack, stack  # noqa: F401 - `stack` is the fixture
from workers.binaries import find_binary


async def describe_namespace(port: int) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        find_binary("temporal"), "operator", "namespace", "describe", "--address", f"127.0.0.1:{port}",
        "--namespace", "default", "--output", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    described: dict[str, object] = json.loads(stdout)
    return described


async def test_run_keeps_closed_workflows_for_90_days_by_default(stack: Stack) -> None:  # noqa: F811
    await stack.wait_until_announced()
    assert "retention 90d" in stack.stdout.read_text()
    described = await describe_namespace(stack.port)
    config = described["config"]
    assert isinstance(config, dict) and config["workflowExecutionRetentionTtl"] == f"{90 * 24 * 3600}s"
    stack.process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(stack.process.wait(), STOP_TIMEOUT) == 0


async def test_a_retention_shorter_than_a_day_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = await run_warroom("run", "--retention", "2h", "--data-dir", str(tmp_path))
    assert result.code == 2 and "--retention" in result.stderr and "at least 1d" in result.stderr, (
        result.output
    )
    assert not (tmp_path / "temporal.db").exists()
