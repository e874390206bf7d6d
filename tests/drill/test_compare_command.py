"""`warroom drill --compare`, as a user runs it (a real process): two policies that differ only in when level 2
is engaged must be reported as exactly that difference, and the Markdown report must be written."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from config.policy_file import DEFAULT_POLICY_FILE
from tests.cli.conftest import inherited_env

EXAMPLES = Path(__file__).parents[2] / "examples" / "drills"
SHIPPED_LEVEL_2 = "- {level: 2, after: {SEV-1: 1h, SEV-2: 1h, SEV-3: 1h}}"
EARLIER_LEVEL_2 = "- {level: 2, after: {SEV-1: 1h, SEV-2: 1h, SEV-3: 30m}}"


async def warroom(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=inherited_env(),
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 100)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, stdout.decode(), stderr.decode()


@pytest.mark.timeout(120)
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
