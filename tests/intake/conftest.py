"""Plumbing for intake tests: the real app under a real uvicorn server on a free loopback port, a real
worker on the session dev server, and a locally generated SNS signing certificate (no internet: the
certificate fetcher and the subscription confirmer are injected and record every URL they are given)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.app import create_app
from intake.config import IntakeConfig
from intake.handoff import Handoff
from intake.server import serving
from intake.sns import SnsMessage, SnsVerifier, string_to_sign
from tests.conftest import running_worker
from workers.data_converter import data_converter
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert
from workflows.messages.common import incident_workflow_id
from workflows.messages.status import IncidentStatus

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"  # copies of ../shared/payloads
TOKEN = "intake-test-token-5f1d0c2e"
GRAFANA_SECRET = "grafana-hmac-secret-77aa"
ROUTING_KEY = "366d44130b488c32bf6a20055db7471d"  # the one in pagerduty_v2_trigger.json
SECRETS = (TOKEN, GRAFANA_SECRET, ROUTING_KEY)
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def payload_json(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(payload(name))
    return document


@dataclass
class SnsSigner:
    """Signs SNS messages with a local key; its certificate is what the injected fetcher returns."""

    key: rsa.RSAPrivateKey
    certificate_pem: bytes
    fetched: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)

    def sign(self, message: dict[str, Any], version: str = "1", fresh: bool = True) -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL, "Signature": "AA=="}
        message.setdefault("Timestamp", "")
        if fresh:
            message["Timestamp"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        data = string_to_sign(SnsMessage.model_validate(message))
        message["Signature"] = base64.b64encode(self.key.sign(data, padding.PKCS1v15(), algorithm)).decode()
        return message

    async def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.certificate_pem

    async def confirm(self, url: str) -> None:
        self.confirmed.append(url)

    def verifier(self) -> SnsVerifier:
        return SnsVerifier(fetch=self.fetch, confirm=self.confirm)


@pytest.fixture(scope="session")
def sns_key() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sns_signer(sns_key: tuple[rsa.RSAPrivateKey, bytes]) -> SnsSigner:
    return SnsSigner(*sns_key)


def intake_config(**overrides: Any) -> IntakeConfig:
    values: dict[str, Any] = {
        "tokens": (SecretStr(TOKEN),),
        "grafana_hmac_secret": SecretStr(GRAFANA_SECRET),
        "pagerduty_routing_keys": (SecretStr(ROUTING_KEY),),
        "correlation_window": timedelta(0),
        "max_body_bytes": 64 * 1024,
    }
    return IntakeConfig.model_validate(values | overrides)


@dataclass
class Intake:
    url: str
    http: httpx.AsyncClient
    client: Client
    settings: Settings

    async def post(
        self, path: str, body: bytes | dict[str, Any] | list[Any], headers: dict[str, str] | None = None,
        token: str | None = TOKEN,
    ) -> httpx.Response:  # fmt: skip
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return await self.http.post(f"{self.url}{path}", content=content, headers=sent)

    def handle(self, dedup_key: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(incident_workflow_id(dedup_key))

    async def status(self, dedup_key: str) -> IncidentStatus:
        status: IncidentStatus = await self.handle(dedup_key).query(IncidentWorkflow.status)
        return status

    async def status_when(
        self, dedup_key: str, predicate: Callable[[IncidentStatus], bool], seconds: float = 15
    ) -> IncidentStatus:
        async with asyncio.timeout(seconds):
            while True:  # signals are asynchronous: poll the query with a bounded wait
                status = await self.status(dedup_key)
                if predicate(status):
                    return status
                await asyncio.sleep(0.05)

    async def exists(self, dedup_key: str) -> bool:
        """Strongly consistent (describe, not visibility): was this incident ever started?"""
        try:
            await self.handle(dedup_key).describe()
        except RPCError:
            return False
        return True

    async def workflow_count(self) -> int:
        """Workflows started on this test's task queue (visibility: eventually consistent)."""
        return (await self.client.count_workflows(f'TaskQueue = "{self.settings.task_queue}"')).count


@pytest.fixture
def make_intake(
    dev_env: WorkflowEnvironment, settings: Settings, sns_signer: SnsSigner
) -> Callable[..., Any]:
    """`async with make_intake(**config) as intake:` a served intake plus a worker on this test's queue."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Intake]:
        config = intake_config(**overrides)
        handoff = Handoff(dev_env.client, settings.task_queue, config.correlation_window)
        app = create_app(config, handoff, sns_signer.verifier())
        async with (
            running_worker(dev_env.client, settings),
            serving(app, "127.0.0.1", 0) as url,
            httpx.AsyncClient(timeout=20) as http,
        ):
            yield Intake(url, http, dev_env.client, settings)

    return start


@pytest.fixture
async def intake(make_intake: Callable[..., Any]) -> AsyncIterator[Intake]:
    async with make_intake() as running:
        yield running


def unique_group(document: dict[str, Any]) -> dict[str, Any]:
    """The payload under a fresh groupKey, so tests sharing the session server never share an incident."""
    return {**document, "groupKey": f"{document['groupKey']}/{uuid4()}"}


def _decoded(node: Any) -> Any:
    """The history JSON with every payload's base64 `data` decoded, so a scan sees what is stored."""
    if isinstance(node, dict):
        decoded = {key: _decoded(value) for key, value in node.items()}
        if isinstance(node.get("data"), str) and "metadata" in node:
            with contextlib.suppress(ValueError):
                decoded["data"] = base64.b64decode(node["data"]).decode("utf-8", "replace")
        return decoded
    if isinstance(node, list):
        return [_decoded(item) for item in node]
    return node


async def history_text(handle: WorkflowHandle[Any, Any]) -> str:
    history = await handle.fetch_history()
    return json.dumps(_decoded(json.loads(history.to_json())), ensure_ascii=False)


async def signalled_alerts(handle: WorkflowHandle[Any, Any], at_least: int = 0) -> list[Alert]:
    """Every Alert delivered by `add_alert` signals, decoded from the history; waits (10 s at most) until there
    are `at_least`: a signal the server accepted while a workflow task was running is buffered, and reaches
    the history only when that task completes."""
    async with asyncio.timeout(10):
        while True:
            history = await handle.fetch_history()
            alerts = []
            for event in history.events:
                if event.HasField("workflow_execution_signaled_event_attributes"):
                    attributes = event.workflow_execution_signaled_event_attributes
                    if attributes.signal_name == "add_alert":
                        for item in attributes.input.payloads:
                            alerts.append(data_converter.payload_converter.from_payload(item, Alert))
            if len(alerts) >= at_least:
                return alerts
            await asyncio.sleep(0.1)
