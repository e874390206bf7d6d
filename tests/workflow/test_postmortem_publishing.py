"""The post-mortem reaches a real signed webhook; MTTA, MTTR and false positive become search attributes."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.publish.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from config.settings import Settings
from tests.conftest import declared_incident, running_worker, start_incident
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import EventKind
from workflows.search_attributes import INCIDENT_FALSE_POSITIVE, INCIDENT_MTTA, INCIDENT_MTTR

SECRET = "wiki-shared-secret-7f3a"


class DocsReceiver:
    """A real HTTP server that verifies the signature as a wiki would, and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer = 201
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # Computed here as a receiver would, not with warroom's own helper.
                signed_part = self.headers[TIMESTAMP_HEADER].encode() + b"." + body
                expected = "sha256=" + hmac.new(SECRET.encode(), signed_part, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers[SIGNATURE_HEADER])
                receiver.received.append(
                    {"signed": signed, "key": self.headers[IDEMPOTENCY_HEADER], "body": json.loads(body)}
                )
                self.send_response(receiver.answer if signed else 401)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/postmortems"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[DocsReceiver]:
    server = DocsReceiver()
    yield server
    server.close()


async def test_the_postmortem_is_published_signed_and_the_measures_are_searchable(
    time_skipping_env: WorkflowEnvironment, settings: Settings, receiver: DocsReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("WARROOM_POSTMORTEM_WEBHOOK_SECRET", SECRET)
    settings = settings.model_copy(update={"postmortem_webhook_url": receiver.url})
    client = time_skipping_env.client
    async with running_worker(client, settings):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(minutes=3))
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await time_skipping_env.sleep(timedelta(minutes=7))
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob", "force": True, "false_positive": True})
        result = await handle.result()
        attributes = (await handle.describe()).typed_search_attributes
        history = json.dumps((await handle.fetch_history()).to_json_dict())

    [delivery] = receiver.received
    assert delivery["signed"] and delivery["key"] == f"{result.occurrence}/postmortem"
    assert delivery["body"]["markdown"].startswith("# Post-mortem: checkout is down")
    assert "resolved as a false positive" in delivery["body"]["markdown"]
    assert SECRET not in history
    mtta, mttr = attributes.get(INCIDENT_MTTA), attributes.get(INCIDENT_MTTR)
    # About the skipped 3 and 10 minutes: the incident may open a few real milliseconds after the sleep began.
    assert mtta == pytest.approx(180, abs=10) and mttr == pytest.approx(600, abs=20)
    assert attributes.get(INCIDENT_FALSE_POSITIVE) is True


async def test_a_receiver_that_keeps_refusing_leaves_the_file_and_a_warning(
    time_skipping_env: WorkflowEnvironment, settings: Settings, receiver: DocsReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("WARROOM_POSTMORTEM_WEBHOOK_SECRET", SECRET)
    receiver.answer = 503
    settings = settings.model_copy(update={"postmortem_webhook_url": receiver.url})
    client = time_skipping_env.client
    async with running_worker(client, settings):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob", "force": True})
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)

    assert result.postmortem_path and len(receiver.received) == 4  # one try per attempt, then given up
    assert all(delivery["signed"] for delivery in receiver.received)
    assert len({delivery["key"] for delivery in receiver.received}) == 1  # the same key on every retry
    warnings = [event.summary for event in status.timeline if event.kind is EventKind.WARNING]
    assert "post-mortem not published to webhook: post-mortem webhook answered HTTP 503" in warnings
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(INCIDENT_FALSE_POSITIVE) is False
