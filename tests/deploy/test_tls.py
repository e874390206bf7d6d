"""The CLI, the worker and the intake over TLS, mutual TLS and with an API key, against real TLS endpoints in
front of the dev server (tests/deploy/tls_proxy.py says why a proxy: start-dev has no TLS options). Every way
an operator gets TLS wrong ends in one line naming the setting to fix, never a traceback or a secret."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from config.temporal_connection import ENVIRONMENT_VARIABLES as CONNECTION_VARIABLES
from config.temporal_connection import TemporalConnection
from tests.cli.conftest import Result, run_warroom
from tests.conftest import declared_incident, free_port, own_service, start_incident, status_when
from tests.deploy.conftest import SERVER_NAME, Pki
from tests.deploy.processes import start_warroom
from tests.deploy.tls_proxy import TlsProxy, tls_proxy
from tests.intake.conftest import TOKEN
from workers.client import connect

API_KEY = "wr-api-key-do-not-print-4711"


async def warroom_at(endpoint: str, env: dict[str, str], *args: str) -> Result:
    return await run_warroom(*args, env={"WARROOM_TEMPORAL_ADDRESS": endpoint, **env})


def one_line_error(result: Result) -> str:
    assert result.code == 1, result.output
    assert "Traceback" not in result.output and "tonic" not in result.output, result.output
    return result.stderr


async def test_cli_over_mutual_tls_with_the_ca_and_a_client_certificate(
    mtls_endpoint: TlsProxy, pki: Pki
) -> None:
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", pki.env(), "list")
    assert result.code == 0, result.output


async def test_without_the_ca_the_error_says_to_set_it(mtls_endpoint: TlsProxy, pki: Pki) -> None:
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", pki.env(ca=False), "list")
    assert "not signed by a trusted CA: set WARROOM_TEMPORAL_TLS_CA" in one_line_error(result)


async def test_a_ca_that_did_not_sign_the_server_is_refused(mtls_endpoint: TlsProxy, pki: Pki) -> None:
    env = {**pki.env(), "WARROOM_TEMPORAL_TLS_CA": str(pki.other_ca_file)}
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", env, "list")
    assert "set WARROOM_TEMPORAL_TLS_CA" in one_line_error(result)


async def test_mutual_tls_without_a_client_certificate_is_refused_by_the_server(
    mtls_endpoint: TlsProxy, pki: Pki
) -> None:
    relayed_before = mtls_endpoint.relayed
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", pki.env(client_cert=False), "list")
    assert "require a client certificate (set WARROOM_TEMPORAL_TLS_CERT" in one_line_error(result)
    assert mtls_endpoint.relayed == relayed_before  # the server's handshake refused it: nothing got through


async def test_server_name_override_verifies_against_that_name(mtls_endpoint: TlsProxy, pki: Pki) -> None:
    # `localhost` resolves, but pretend the certificate only matters for SERVER_NAME (a cluster behind a LB).
    named = {**pki.env(), "WARROOM_TEMPORAL_TLS_SERVER_NAME": SERVER_NAME}
    assert (await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", named, "list")).code == 0
    wrong = {**pki.env(), "WARROOM_TEMPORAL_TLS_SERVER_NAME": "elsewhere.internal"}
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", wrong, "list")
    assert "set WARROOM_TEMPORAL_TLS_SERVER_NAME" in one_line_error(result)


async def test_plaintext_client_against_tls_says_to_turn_tls_on(tls_endpoint: TlsProxy) -> None:
    result = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", {}, "list")
    assert "set WARROOM_TEMPORAL_TLS=true" in one_line_error(result)


async def test_tls_client_against_a_plaintext_server_says_to_turn_tls_off(
    dev_env: WorkflowEnvironment, pki: Pki
) -> None:
    result = await warroom_at(dev_env.client.service_client.config.target_host, pki.env(), "list")
    assert "did not answer in TLS" in one_line_error(result)


async def test_an_unreadable_certificate_file_is_a_setting_to_fix(tls_endpoint: TlsProxy, pki: Pki) -> None:
    missing = pki.ca_file.parent / "nowhere.pem"
    env = {**pki.env(), "WARROOM_TEMPORAL_TLS_KEY": str(missing)}
    result = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", env, "list")
    assert result.code == 2, result.output
    assert f"cannot read WARROOM_TEMPORAL_TLS_KEY={missing}" in result.stderr


async def test_api_key_with_server_tls_connects_and_stays_out_of_output(
    tls_endpoint: TlsProxy, pki: Pki
) -> None:
    """The dev server does not check API keys (Temporal Cloud does); what is tested here is that the key turns
    TLS on, reaches the client, and never shows in any output, even on failure."""
    env = {"WARROOM_TEMPORAL_API_KEY": API_KEY, "WARROOM_TEMPORAL_TLS_CA": str(pki.ca_file)}
    settings = Settings.from_env({"WARROOM_TEMPORAL_ADDRESS": f"127.0.0.1:{tls_endpoint.port}", **env})
    assert settings.connection.uses_tls and API_KEY not in repr(settings)
    client = await connect(settings)
    assert client.api_key == API_KEY
    ok = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", env, "list")
    assert ok.code == 0 and API_KEY not in ok.output, ok.output
    no_ca = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", {"WARROOM_TEMPORAL_API_KEY": API_KEY}, "list")
    assert "WARROOM_TEMPORAL_TLS_CA" in one_line_error(no_ca) and API_KEY not in no_ca.output


async def test_worker_over_mutual_tls_runs_incidents(
    dev_env: WorkflowEnvironment, mtls_endpoint: TlsProxy, pki: Pki, settings: Settings, tmp_path: Path
) -> None:
    env = {
        **pki.env(),
        "WARROOM_TEMPORAL_ADDRESS": f"127.0.0.1:{mtls_endpoint.port}",
        "WARROOM_TASK_QUEUE": settings.task_queue,
        "WARROOM_POLICY": str(settings.policy_file),
        "WARROOM_DATA_DIR": str(tmp_path),
    }
    worker = await start_warroom(["worker"], env, tmp_path / "worker.log")
    try:
        await worker.wait_for_output(f"worker on task queue '{settings.task_queue}'")
        handle = await start_incident(dev_env.client, settings, declared_incident())
        status = await status_when(handle, lambda s: bool(s.paged), seconds=30)
        assert status.paged, status
        await handle.signal("resolve", {"by": "tester"})
        await handle.result()
    finally:
        assert await worker.stop() == 0, worker.output()
    assert "Traceback" not in worker.output()


async def test_intake_over_tls_with_an_api_key_hands_alerts_to_temporal(
    dev_env: WorkflowEnvironment, tls_endpoint: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    port, task_queue = free_port(), f"test-{uuid4()}"
    env = {
        "WARROOM_TEMPORAL_ADDRESS": f"127.0.0.1:{tls_endpoint.port}",
        "WARROOM_TEMPORAL_TLS_CA": str(pki.ca_file),
        "WARROOM_TEMPORAL_API_KEY": API_KEY,
        "WARROOM_TASK_QUEUE": task_queue,
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{port}",
        "WARROOM_INTAKE_TOKEN": TOKEN,
    }
    intake = await start_warroom(["intake"], env, tmp_path / "intake.log")
    key = f"tls-{uuid4()}"
    try:
        await intake.wait_for_output("intake on ")
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(
                f"http://127.0.0.1:{port}/v1/alerts/generic",
                json={"dedup_key": key, "service": own_service("billing"), "summary": "invoices stuck"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert answer.status_code == 202, answer.text
        handle = dev_env.client.get_workflow_handle(f"incident-{key}")
        assert (await handle.describe()).task_queue == task_queue
        await handle.terminate("test over: no worker on this task queue")
    finally:
        assert await intake.stop() == 0, intake.output()
    assert API_KEY not in intake.output() and "Traceback" not in intake.output()


def test_connection_settings_from_the_environment() -> None:
    assert not Settings.from_env({}).connection.uses_tls
    assert Settings.from_env({"WARROOM_TEMPORAL_TLS": "true"}).connection.uses_tls
    # An env file may list every variable and fill in only some: empty means unset.
    assert not Settings.from_env(
        {"WARROOM_TEMPORAL_TLS_CA": "", "WARROOM_TEMPORAL_API_KEY": " "}
    ).connection.uses_tls
    assert Settings.from_env({"WARROOM_TEMPORAL_TLS_SERVER_NAME": "x"}).connection.uses_tls
    explicit_off = Settings.from_env({"WARROOM_TEMPORAL_TLS": "false", "WARROOM_TEMPORAL_API_KEY": API_KEY})
    assert not explicit_off.connection.uses_tls
    assert TemporalConnection().is_default


async def test_bad_connection_settings_name_the_variable(tls_endpoint: TlsProxy, pki: Pki) -> None:
    bad_flag = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", {"WARROOM_TEMPORAL_TLS": "maybe"}, "list")
    assert bad_flag.code == 2 and "WARROOM_TEMPORAL_TLS" in bad_flag.stderr, bad_flag.output
    half_pair = {
        "WARROOM_TEMPORAL_TLS_CA": str(pki.ca_file),
        "WARROOM_TEMPORAL_TLS_CERT": str(pki.client_cert_file),
    }
    result = await warroom_at(f"127.0.0.1:{tls_endpoint.port}", half_pair, "list")
    assert (
        result.code == 2
        and "needs both WARROOM_TEMPORAL_TLS_CERT and WARROOM_TEMPORAL_TLS_KEY" in result.stderr
    )


def test_every_connection_variable_is_documented_and_in_the_env_file_example() -> None:
    root = Path(__file__).resolve().parents[2]
    operations = (root / "docs" / "operations.md").read_text()
    example = (root / "deploy" / "warroom.env.example").read_text()
    for variable in CONNECTION_VARIABLES:
        assert f"`{variable}`" in operations and f"\n{variable}=" in example, variable


async def test_a_worker_without_the_ca_stops_with_the_hint(mtls_endpoint: TlsProxy, pki: Pki) -> None:
    result = await warroom_at(f"127.0.0.1:{mtls_endpoint.port}", pki.env(ca=False), "worker")
    assert "set WARROOM_TEMPORAL_TLS_CA" in one_line_error(result)


async def test_warroom_run_ignores_remote_cluster_settings(pki: Pki, tmp_path: Path) -> None:
    """An operator's shell may carry the cluster's TLS settings; the embedded dev server speaks plaintext."""
    port, ui_port, intake_port = free_port(), free_port(), free_port()
    env = {
        **pki.env(),
        "WARROOM_TEMPORAL_API_KEY": API_KEY,
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{intake_port}",
        "WARROOM_INTAKE_TOKEN": TOKEN,
        "WARROOM_DATA_DIR": str(tmp_path / "data"),
    }
    stack = await start_warroom(
        ["run", "--port", str(port), "--ui-port", str(ui_port)], env, tmp_path / "run.log"
    )
    try:
        await stack.wait_for_output("Press Ctrl-C to stop.")
    finally:
        assert await stack.stop() == 0, stack.output()
    assert API_KEY not in stack.output()


async def test_an_intake_that_cannot_reach_temporal_says_why_and_answers_503(
    tls_endpoint: TlsProxy, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "WARROOM_TEMPORAL_ADDRESS": f"127.0.0.1:{tls_endpoint.port}",
        "WARROOM_TEMPORAL_TLS": "true",  # system roots: the private CA is missing
        "WARROOM_INTAKE_ADDRESS": f"127.0.0.1:{port}",
        "WARROOM_INTAKE_TOKEN": TOKEN,
    }
    intake = await start_warroom(["intake"], env, tmp_path / "intake.log")
    try:
        await intake.wait_for_output("set WARROOM_TEMPORAL_TLS_CA")
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(
                f"http://127.0.0.1:{port}/v1/alerts/generic",
                json={
                    "dedup_key": f"k-{uuid4()}",
                    "service": own_service("billing"),
                    "summary": "invoices stuck",
                },
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert answer.status_code == 503 and answer.headers["Retry-After"]
    finally:
        assert await intake.stop() == 0, intake.output()


async def test_an_expired_server_certificate_is_named(dev_env: WorkflowEnvironment, pki: Pki) -> None:
    expired = pki.ca.issue_cert(
        "127.0.0.1",
        not_before=datetime.now(UTC) - timedelta(days=10),
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    expired.configure_cert(context)
    host, _, port = dev_env.client.service_client.config.target_host.rpartition(":")
    async with tls_proxy(context, host, int(port)) as endpoint:
        result = await warroom_at(f"127.0.0.1:{endpoint.port}", pki.env(client_cert=False), "list")
    assert "certificate has expired" in one_line_error(result)
