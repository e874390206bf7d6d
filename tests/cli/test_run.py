"""`warroom run` as a real process: the stack comes up, serves a round trip and stops without orphans."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.cli.conftest import inherited_env, run_warroom
from tests.conftest import free_ports

STARTUP_TIMEOUT = 30.0
INTAKE_TOKEN = "run-test-intake-token"
PAYLOAD = Path(__file__).resolve().parents[1] / "payloads" / "alertmanager_firing.json"
STOP_TIMEOUT = 15.0


@dataclass
class Stack:
    process: asyncio.subprocess.Process
    port: int
    ui_port: int
    metrics_port: int
    data_dir: Path
    stdout: Path
    stderr: Path
    env: dict[str, str]

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    async def wait_until_announced(self) -> int:
        """Wait for the banner; returns the server pid it names."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Press Ctrl-C to stop." not in self.stdout.read_text():
            assert self.process.returncode is None, f"warroom run exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"warroom run did not come up:\n{self.output()}"
            await asyncio.sleep(0.1)
        found = re.search(r"Server pid:\s+(\d+)", self.stdout.read_text())
        assert found, self.output()
        return int(found.group(1))


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """`warroom run` on free ports with a temporary data dir; killed (with its server) if a test fails."""
    port, ui_port, metrics_port, intake_port = free_ports(4)
    env = {
        **inherited_env(),
        "WARROOM_TASK_QUEUE": f"run-{uuid4()}",
        "WARROOM_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{intake_port}",
        "WARROOM_INTAKE_TOKEN": INTAKE_TOKEN,
        "USER": "tester",
    }
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers.cli", "run",
            "--port", str(port), "--ui-port", str(ui_port), "--data-dir", str(tmp_path / "state"),
            stdout=out, stderr=err, env=env,
        )  # fmt: skip
    running = Stack(process, port, ui_port, metrics_port, tmp_path / "state", stdout, stderr, env)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()  # the server child dies with it (PR_SET_PDEATHSIG)
            await process.wait()


def processes_using(path: Path) -> list[int]:
    """Pids whose command line mentions `path`: a leftover server would show up here."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline and "temporal" in cmdline:
            pids.append(int(entry.name))
    return pids


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_run_comes_up_serves_a_round_trip_and_stops_cleanly_on_sigint(stack: Stack) -> None:
    server_pid = await stack.wait_until_announced()
    stdout = stack.stdout.read_text()
    assert f"http://localhost:{stack.ui_port}" in stdout and f"localhost:{stack.port}" in stdout

    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"http://127.0.0.1:{stack.ui_port}/")).status_code == 200
        metrics = await http.get(f"http://127.0.0.1:{stack.metrics_port}/metrics")
        assert metrics.status_code == 200

    env = {**stack.env, "WARROOM_TEMPORAL_ADDRESS": f"127.0.0.1:{stack.port}"}
    declared = await run_warroom(
        "declare", "--service", "api", "--summary", "5xx", "--severity", "SEV-1", env=env
    )
    assert declared.code == 0, declared.output + stack.output()
    incident_id = declared.stdout.strip()
    acked = await run_warroom("ack", incident_id, env=env)
    assert "applied: acknowledged" in acked.stdout, acked.output + stack.output()
    resolved = await run_warroom("resolve", incident_id, "--note", "fixed", env=env)
    assert "applied: resolved" in resolved.stdout, resolved.output + stack.output()

    intake_url = f"http://127.0.0.1:{stack.env['WARROOM_INTAKE_ADDRESS'].rpartition(':')[2]}"
    assert f"Intake:        {intake_url}/v1/alerts/<format>" in stdout and INTAKE_TOKEN not in stdout
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(
            f"{intake_url}/v1/alerts/alertmanager",
            content=PAYLOAD.read_bytes(),
            headers={"Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"},
        )
    assert posted.status_code == 202, posted.text + stack.output()
    alert_incident = posted.json()["incidents"][0]["incident_id"]
    shown = await run_warroom("status", alert_incident, env=env)
    assert shown.code == 0 and "checkout" in shown.stdout, shown.output + stack.output()

    stopping = time.monotonic()
    stack.process.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(stack.process.wait(), STOP_TIMEOUT)
    assert code == 0, stack.output()
    assert time.monotonic() - stopping < STOP_TIMEOUT
    assert not is_alive(server_pid), "the Temporal server outlived warroom run"
    assert processes_using(stack.data_dir) == []
    assert "Traceback" not in stack.output()
    assert (stack.data_dir / "temporal.db").is_file()  # state is kept for the next run


async def test_run_refuses_a_port_that_is_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_warroom("run", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.code == 1, result.output
    assert f"port 127.0.0.1:{port} is already in use" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.output
