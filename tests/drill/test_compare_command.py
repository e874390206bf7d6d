"""`warroom drill` as a user runs it (a real process): `--compare` of two policies that differ only in when
level 2 is engaged reports exactly that difference (and writes the Markdown report); the user's channels and
Temporal server are never used."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from config.policy_file import DEFAULT_POLICY_FILE
from tests.cli.conftest import inherited_env
from tests.conftest import TIME_SKIPPING_RERUNS

EXAMPLES = Path(__file__).parents[2] / "examples" / "drills"
SHIPPED_LEVEL_2 = "- {level: 2, after: {SEV-1: 1h, SEV-2: 1h, SEV-3: 1h}}"
EARLIER_LEVEL_2 = "- {level: 2, after: {SEV-1: 1h, SEV-2: 1h, SEV-3: 30m}}"


async def warroom(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**inherited_env(), **(env or {})},
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 100)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, stdout.decode(), stderr.decode()


@pytest.mark.timeout(120)
# The test server's hang (tests/conftest.py) is re-run; an assertion failure never is.
@pytest.mark.flaky(reruns=TIME_SKIPPING_RERUNS, only_rerun=["Timeout", "stalled"])
async def test_compare_reports_exactly_the_level_2_delay(tmp_path: Path) -> None:
    shipped = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    assert SHIPPED_LEVEL_2 in shipped
    earlier = tmp_path / "earlier-level-2.yaml"
    earlier.write_text(shipped.replace(SHIPPED_LEVEL_2, EARLIER_LEVEL_2), encoding="utf-8")
    report = tmp_path / "drill.md"
    scenario = str(EXAMPLES / "quiet-night-sev3.yaml")

    code, stdout, stderr = await warroom(
        "drill", scenario, "--policy", str(DEFAULT_POLICY_FILE), "--compare", str(earlier), "--json",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0, stderr
    differences = json.loads(stdout)["comparison"]["differences"]
    assert [(d["what"], d["before"].split(" -> ")[1], d["after"].split(" -> ")[1]) for d in differences] == [
        ("escalation open/2", "erin, frank", "erin, frank")
    ]
    before, after = differences[0]["before"].split(" -> ")[0], differences[0]["after"].split(" -> ")[0]
    assert (before, after) == ("+1:00:00", "+0:30:00")  # after the response start, to the second
    markdown = report.read_text(encoding="utf-8")
    assert "| escalation open/2 |" in markdown.replace(
        f"| {json.loads(stdout)['run']['incidents'][0]['incident_id']} ", "| "
    )
    assert markdown.count("# Drill: quiet-night SEV-3 nobody acknowledges") == 2


class CountingReceiver:
    """A real HTTP server that counts every request: a channel a drill must never reach."""

    def __init__(self) -> None:
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.requests += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.timeout(120)
async def test_a_drill_ignores_the_users_channels_and_server(tmp_path: Path) -> None:
    """Even with WARROOM_CHANNELS routing `console` to a real webhook and WARROOM_TEMPORAL_ADDRESS naming a
    server, the drill records its pages and reaches neither: own server, own channel."""
    receiver = CountingReceiver()
    channels = tmp_path / "channels.yaml"
    channels.write_text(f"channels:\n  console: {{type: webhook, url: '{receiver.url}'}}\n", encoding="utf-8")
    try:
        code, stdout, stderr = await warroom(
            "drill", str(EXAMPLES / "quiet-night-sev3.yaml"), "--json",
            env={"WARROOM_CHANNELS": str(channels), "WARROOM_TEMPORAL_ADDRESS": "127.0.0.1:1",
                 "WARROOM_TASK_QUEUE": "warroom"},
        )  # fmt: skip
    finally:
        receiver.close()
    assert code == 0, stderr
    recorded = json.loads(stdout)["run"]["notifications"]
    assert len(recorded) == 6 and {n["channel"] for n in recorded} == {"console"}
    assert receiver.requests == 0
