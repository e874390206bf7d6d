"""warroom watched by a real Prometheus: Debian's `prometheus` scrapes `warroom run` (worker endpoint and the
intake's /metrics) with warroom's own alert rules loaded, and an alert that went through shows up as
warroom's series in Prometheus' HTTP API. The rules file is also checked and unit-tested by `promtool`."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from intake.metrics import IntakeMetrics
from tests.cli.conftest import inherited_env
from tests.conftest import free_ports
from tests.intake.conftest import payload_json, unique_group
from workflows import metrics as worker_metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "warroom-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "warroom-rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "warroom.json"
PROMETHEUS = "/usr/bin/prometheus"  # Debian's package (the Makefile installs it), never a download
PROMTOOL = "/usr/bin/promtool"
TOKEN = "prometheus-test-token"
STARTUP = 60.0
SCRAPED = 90.0


def promtool(*args: str) -> str:
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    assert "SUCCESS: 9 rules found" in promtool("check", "rules", str(RULES))
    assert "SUCCESS" in promtool("test", "rules", str(RULE_TESTS))


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_every_warroom_series_the_dashboard_and_rules_read_is_one_warroom_defines() -> None:
    """Names are defined once (workflows/metrics.py, intake/metrics.py): a typo in a panel or a rule fails."""
    defined = {
        value for name, value in vars(worker_metrics).items() if name.isupper() and isinstance(value, str)
    } | {family.name for family in IntakeMetrics().registry.collect()}
    read = set()
    for expr in dashboard_expressions() + rule_expressions():
        read |= set(re.findall(r"\bwarroom_[a-z_]+", expr))
    bare = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in read}
    assert bare <= defined, bare - defined
    documented = (ROOT / "docs" / "metrics.md").read_text()
    assert all(f"`{name}" in documented for name in bare), [n for n in bare if f"`{n}" not in documented]


@dataclass
class Process:
    process: asyncio.subprocess.Process
    log: Path

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class Watched:
    intake: str
    prometheus: str
    warroom_log: Path


async def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=out, stderr=asyncio.subprocess.STDOUT, env=env
        )
    return Process(process, log)


async def wait_for(url: str, process: Process, what: str) -> None:
    deadline = time.monotonic() + STARTUP
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            assert process.process.returncode is None, f"{what} exited:\n{process.log.read_text()}"
            assert time.monotonic() < deadline, f"{what} did not come up:\n{process.log.read_text()}"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


def prometheus_config(worker: int, intake: int) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "warroom-worker", "static_configs": [{"targets": [f"127.0.0.1:{worker}"]}]},
            {"job_name": "warroom-intake", "static_configs": [{"targets": [f"127.0.0.1:{intake}"]}]},
        ],
    }


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[Watched]:
    """`warroom run` on free ports, and Prometheus scraping its two endpoints with warroom's rules."""
    assert shutil.which(PROMETHEUS), "Debian's prometheus is missing: `make test` installs it"
    port, ui_port, metrics_port, intake_port, prometheus_port = free_ports(5)
    env = {
        **inherited_env(),
        "WARROOM_TASK_QUEUE": f"prometheus-{uuid4()}",
        "WARROOM_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{intake_port}",
        "WARROOM_INTAKE_TOKEN": TOKEN,
    }
    warroom = await start(
        [sys.executable, "-m", "workers.cli", "run", "--port", str(port), "--ui-port", str(ui_port),
         "--data-dir", str(tmp_path / "state")],
        tmp_path / "warroom.log", env,
    )  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(metrics_port, intake_port)))
    prometheus = await start(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        tmp_path / "prometheus.log",
    )  # fmt: skip
    try:
        intake_url = f"http://127.0.0.1:{intake_port}"
        prometheus_url = f"http://127.0.0.1:{prometheus_port}"
        await wait_for(f"{intake_url}/healthz", warroom, "warroom run")
        await wait_for(f"{prometheus_url}/-/ready", prometheus, "prometheus")
        yield Watched(intake_url, prometheus_url, warroom.log)
    finally:
        await prometheus.stop()
        await warroom.stop()


async def query(http: httpx.AsyncClient, prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = (await http.get(f"{prometheus}/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", (expr, answer)
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def scraped(http: httpx.AsyncClient, watched: Watched, expr: str) -> list[dict[str, Any]]:
    """Poll (bounded) until Prometheus has scraped a series for `expr`."""
    deadline = time.monotonic() + SCRAPED
    while True:
        result = await query(http, watched.prometheus, expr)
        if result:
            return result
        assert time.monotonic() < deadline, (
            f"never scraped: {expr}\n{watched.warroom_log.read_text()[-3000:]}"
        )
        await asyncio.sleep(0.5)


async def test_prometheus_scrapes_warroom_series_after_an_alert_went_through(watched: Watched) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(timeout=20) as http:
        answer = await http.post(f"{watched.intake}/v1/alerts/alertmanager", json=group, headers=headers)
        assert answer.status_code == 202, answer.text
        beat = await http.post(f"{watched.intake}/heartbeat/e2e-pipeline", headers=headers)
        assert beat.status_code == 202, beat.text

        await scraped(http, watched, 'up{job="warroom-worker"} == 1')
        await scraped(http, watched, 'up{job="warroom-intake"} == 1')
        opened = await scraped(http, watched, 'warroom_incidents_opened_total{source="alertmanager"}')
        assert opened[0]["metric"]["severity"].startswith("SEV-")
        assert opened[0]["metric"]["workflow_type"] == "IncidentWorkflow"  # the SDK's labels come along
        pages = await scraped(http, watched, 'warroom_pages_sent_total{channel="console", kind="page"}')
        assert float(pages[0]["value"][1]) >= 1
        requests = await scraped(http, watched, 'warroom_intake_requests_total{route="alertmanager"}')
        assert requests[0]["metric"]["status"] == "202"
        await scraped(http, watched, 'warroom_intake_handoff_seconds_count{route="alertmanager"}')
        await scraped(http, watched, 'warroom_intake_heartbeats_total{source="e2e-pipeline"}')
        # The SDK's series beside ours, on the worker's one endpoint (the dashboard reads these two).
        await scraped(http, watched, "temporal_workflow_task_schedule_to_start_latency_bucket")
        await scraped(http, watched, "temporal_sticky_cache_size")

        rules = (await http.get(f"{watched.prometheus}/api/v1/rules")).json()["data"]["groups"]
        loaded = {rule["name"]: rule["health"] for group in rules for rule in group["rules"]}
        assert len(loaded) == 9 and set(loaded.values()) <= {"ok", "unknown"}, loaded
        for expr in dashboard_expressions():  # every panel's query is valid PromQL for this Prometheus
            await query(http, watched.prometheus, expr)


async def test_warroom_worker_serves_metrics_where_the_metrics_option_says(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    (metrics_port,) = free_ports(1)
    env = {
        **inherited_env(),
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": f"metrics-option-{uuid4()}",
        "WARROOM_METRICS_ADDRESS": "",  # the option wins over the variable
    }
    worker = await start(
        [sys.executable, "-m", "workers.cli", "worker", "--metrics", f"127.0.0.1:{metrics_port}"],
        tmp_path / "worker.log", env,
    )  # fmt: skip
    try:
        await wait_for(f"http://127.0.0.1:{metrics_port}/metrics", worker, "warroom worker")
        async with httpx.AsyncClient(timeout=5) as http:
            served = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        assert "temporal_" in served
    finally:
        await worker.stop()
    assert worker.process.returncode == 0, worker.log.read_text()
    assert f"metrics http://127.0.0.1:{metrics_port}/metrics" in worker.log.read_text()
