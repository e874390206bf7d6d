"""`warroom intake` as a real process: it serves alerts into Temporal, answers 503 while Temporal is down,
refuses to start without a token, and stops cleanly on SIGINT."""

from __future__ import annotations

import asyncio
import signal
import stat
import sys
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.cli.conftest import inherited_env, run_warroom
from tests.conftest import free_port, own_service, running_worker
from tests.intake.conftest import TOKEN
from workers.intake_process import stack_intake_config

ALERT_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


async def start_intake(
    tmp_path: Path, temporal: str, task_queue: str
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    out = (tmp_path / "intake.out").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", "intake", stdout=out, stderr=asyncio.subprocess.STDOUT,
        env={**inherited_env(), "WARROOM_TEMPORAL_ADDRESS": temporal, "WARROOM_TASK_QUEUE": task_queue,
             "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{port}", "WARROOM_INTAKE_TOKEN": TOKEN,
             "WARROOM_METRICS_ADDRESS": ""},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http, asyncio.timeout(20):
        while True:  # polling is the point: the child's readiness is its HTTP answer
            assert process.returncode is None, (tmp_path / "intake.out").read_text()
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    return await asyncio.wait_for(process.wait(), 15)


async def test_warroom_intake_hands_alerts_to_temporal(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    target = dev_env.client.service_client.config.target_host
    process, url = await start_intake(tmp_path, target, settings.task_queue)
    key = f"cmd-{uuid4()}"
    async with running_worker(dev_env.client, settings), httpx.AsyncClient(timeout=10) as http:
        body = {"dedup_key": key, "service": own_service("billing"), "summary": "invoices stuck"}
        answer = await http.post(f"{url}/v1/alerts/generic", json=body, headers=ALERT_HEADERS)
        assert answer.status_code == 202, answer.text
        assert (
            await dev_env.client.get_workflow_handle(f"incident-{key}").describe()
        ).id == f"incident-{key}"
        assert (await http.get(f"{url}/openapi.json")).json()["paths"]["/v2/enqueue"]
    assert await stop(process) == 0
    output = (tmp_path / "intake.out").read_text()
    assert "intake stopped." in output and "Traceback" not in output and TOKEN not in output
    await dev_env.client.get_workflow_handle(f"incident-{key}").signal("resolve", {"by": "tester"})


async def test_warroom_intake_answers_503_while_temporal_is_down(tmp_path: Path) -> None:
    process, url = await start_intake(tmp_path, f"127.0.0.1:{free_port()}", "nowhere")
    async with httpx.AsyncClient(timeout=30) as http:
        body = {"dedup_key": "k", "service": own_service("billing"), "summary": "invoices stuck"}
        answer = await http.post(f"{url}/v1/alerts/generic", json=body, headers=ALERT_HEADERS)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert await stop(process) == 0


async def test_warroom_intake_refuses_to_start_without_a_token_or_with_a_bad_setting() -> None:
    result = await run_warroom("intake", env={"WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{free_port()}"})
    assert result.code == 1 and "WARROOM_INTAKE_TOKEN" in result.stderr
    assert "Traceback" not in result.output
    bad = await run_warroom(
        "intake", env={"WARROOM_INTAKE_TOKEN": TOKEN, "WARROOM_INTAKE_ADDRESS": "here:port"}
    )
    assert bad.code == 1 and "bad WARROOM_INTAKE_* setting (WARROOM_INTAKE_ADDRESS (port):" in bad.stderr
    assert "Traceback" not in bad.output and TOKEN not in bad.output
    window = await run_warroom(
        "intake", env={"WARROOM_INTAKE_TOKEN": TOKEN, "WARROOM_INTAKE_REPEAT_WINDOW": "1y"}
    )
    assert window.code == 1 and "(WARROOM_INTAKE_REPEAT_WINDOW: " in window.stderr


def test_warroom_run_without_a_token_keeps_a_generated_one_in_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WARROOM_INTAKE_TOKEN", "WARROOM_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=tmp_path / "state", metrics_address="")
    config, hint = stack_intake_config(settings)
    token_file = tmp_path / "state" / "intake-token"
    assert hint == f"token in {token_file}"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [t.get_secret_value() for t in config.tokens] == [token_file.read_text().strip()]
    assert len(token_file.read_text().strip()) >= 32
    again, _ = stack_intake_config(settings)  # a restart keeps the token senders were configured with
    assert again.tokens == config.tokens
    monkeypatch.setenv("WARROOM_INTAKE_TOKEN", "from-env")
    from_env, hint = stack_intake_config(settings)
    assert [t.get_secret_value() for t in from_env.tokens] == ["from-env"] and "WARROOM_INTAKE_TOKEN" in hint
