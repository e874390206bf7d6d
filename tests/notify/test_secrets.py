"""Secrets stay with the worker: an incident paged over every secret-bearing channel leaves no secret in its
workflow history or in the logs, even when a channel echoes one back in its error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities import default_notifiers
from config.settings import Settings
from tests.conftest import declared_incident, running_worker, start_incident, status_when
from tests.notify.conftest import Mailbox, Receiver
from tests.notify.incident_helpers import routed_settings
from workflows.messages.commands import Resolve

SLACK_TOKEN = "T0SECRET/B0SECRET/slacktoken0123456789"
SECRETS = {
    "SLACK_WEBHOOK_PATH": SLACK_TOKEN,
    "WEBHOOK_HMAC_KEY": "hmac-secret-5b1c7e",
    "PAGERDUTY_ROUTING_KEY": "pd-routing-key-8d2f",
    "STATUSPAGE_API_KEY": "statuspage-key-3a9c",
}


async def test_no_secret_reaches_history_or_logs(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    tmp_path: Path,
    receiver: Receiver,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = receiver.url("")
    channels = tmp_path / "channels.yaml"
    channels.write_text(f"""
channels:
  chat: {{type: slack, webhook_url: "{base}/services/${{SLACK_WEBHOOK_PATH}}"}}
  hook: {{type: webhook, url: "{base}/hook", hmac_key: "${{WEBHOOK_HMAC_KEY}}"}}
  pager: {{type: pagerduty, base_url: "{base}", routing_key: "${{PAGERDUTY_ROUTING_KEY}}"}}
  status: {{type: statuspage, base_url: "{base}/sp", page_id: pg, api_key: "${{STATUSPAGE_API_KEY}}"}}
  mail: {{type: email, host: {mailbox.host}, port: {mailbox.port}, username: {mailbox.username},
          password: "${{SMTP_PASSWORD}}", sender: warroom@example.com, ca_file: "{mailbox.ca_file}"}}
""")
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"SMTP_PASSWORD={mailbox.password}\n")  # one secret from the file, the rest env
    monkeypatch.setenv("WARROOM_CHANNELS", str(channels))
    monkeypatch.setenv("WARROOM_SECRETS_FILE", str(secrets_file))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    broadcasts = [{"channels": [name]} for name in ("chat", "hook", "pager", "status")]
    routing = {"default_channels": ["mail"], "broadcasts": broadcasts}
    settings = routed_settings(settings, tmp_path, routing)
    # The webhook receiver refuses and echoes the signing key back: the error must be redacted.
    receiver.answer((401, f"bad signature for key {SECRETS['WEBHOOK_HMAC_KEY']}"), path="/hook")
    caplog.set_level(logging.DEBUG)

    async with running_worker(time_skipping_env.client, settings, default_notifiers()):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        await status_when(handle, lambda status: bool(status.deliveries))  # paged before it is resolved
        await handle.signal("resolve", Resolve(by="alice", force=True).model_dump(mode="json"))
        result = await handle.result()
        history = (await handle.fetch_history()).to_json()
        status = await handle.query("status")

    # Every channel really used its secret...
    paths = {request.path for request in receiver.requests}
    assert f"/services/{SLACK_TOKEN}" in paths
    assert any(SECRETS["PAGERDUTY_ROUTING_KEY"] in request.body.decode() for request in receiver.requests)
    assert any(
        r.headers.get("Authorization") == f"OAuth {SECRETS['STATUSPAGE_API_KEY']}" for r in receiver.requests
    )
    assert mailbox.messages and mailbox.messages[0]["authenticated"]
    assert result.resolved_by == "alice"
    # ...and none of them is in the history (policy snapshot, inputs, results, failures) or the logs.
    assert "***" in history  # the echoed key was there, redacted
    for secret in [*SECRETS.values(), mailbox.password]:
        assert secret not in history, f"secret {secret[:6]}... in the workflow history"
        assert secret not in caplog.text, f"secret {secret[:6]}... in the logs"
        assert secret not in str(status)
