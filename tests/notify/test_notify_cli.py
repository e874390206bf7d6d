"""`warroom notify test CHANNEL` through the real entry point (a subprocess) against a local receiver."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from tests.cli.conftest import run_warroom
from tests.notify.conftest import Receiver


def channels_file(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(f"""
channels:
  ops-hook: {{type: webhook, url: "{receiver.url("/ops")}", hmac_key: "${{OPS_HOOK_KEY}}"}}
  pager: {{type: pagerduty, base_url: "{receiver.url("")}", routing_key: "${{PD_KEY}}"}}
""")
    return path


async def test_notify_test_sends_a_signed_test_message_and_reports_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = {"WARROOM_CHANNELS": str(channels_file(tmp_path, receiver)), "OPS_HOOK_KEY": "cli-key-1"}

    result = await run_warroom("notify", "test", "ops-hook", "--to", "bob", env=env)

    assert result.code == 0, result.output
    assert "sent status_update: ops-hook: accepted (HTTP 200)" in result.stdout
    [request] = receiver.requests
    body = request.json()
    assert body["kind"] == "status_update" and [r["name"] for r in body["recipients"]] == ["bob"]
    assert "the 'ops-hook' channel works" in body["text"]
    assert request.headers["Idempotency-Key"] == body["idempotency_key"]
    signed = request.headers["X-Warroom-Timestamp"].encode() + b"." + request.body
    assert (
        request.headers["X-Warroom-Signature"]
        == "sha256=" + hmac.new(b"cli-key-1", signed, hashlib.sha256).hexdigest()
    )


async def test_notify_test_of_pagerduty_triggers_then_resolves_its_test_alert(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = {"WARROOM_CHANNELS": str(channels_file(tmp_path, receiver)), "PD_KEY": "pd-cli"}

    result = await run_warroom("notify", "test", "pager", env=env)

    assert result.code == 0, result.output
    actions = [request.json()["event_action"] for request in receiver.requests]
    assert actions == ["trigger", "resolve"]
    assert len({request.json()["dedup_key"] for request in receiver.requests}) == 1


async def test_notify_test_fails_with_the_channels_answer_or_the_missing_secret(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = {"WARROOM_CHANNELS": str(channels_file(tmp_path, receiver))}
    missing = await run_warroom("notify", "test", "ops-hook", env=env)
    assert missing.code == 1 and "secret ${OPS_HOOK_KEY} is not set" in missing.stderr

    receiver.answer((403, "forbidden: unknown hook"))
    refused = await run_warroom("notify", "test", "ops-hook", env={**env, "OPS_HOOK_KEY": "k"})
    assert refused.code == 1 and "ops-hook: HTTP 403: forbidden: unknown hook" in refused.stderr

    unknown = await run_warroom("notify", "test", "nope", env=env)
    assert (
        unknown.code == 1
        and "unknown channel 'nope' (configured: console, ops-hook, pager)" in unknown.stderr
    )
