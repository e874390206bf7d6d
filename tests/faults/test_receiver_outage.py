"""Fault injection: the page receiver is down for two real minutes (connection refused, as a crashed receiver
looks). Dev server, real time, because the outage is real. No page is lost: alice, whose only channel is that
receiver, gets the page after it returns (the failed page is retried per `escalation.page_retry`); bob, who has
a second channel, gets it through the fallback within the delivery budget. Every copy of one message carries
the same idempotency key, so a receiver can drop what a retry sent twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import declared_incident, running_worker, start_incident, status_when, write_policy
from tests.faults.outage_receiver import OutageReceiver
from tests.notify.conftest import notifiers_for
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.commands import Resolve
from workflows.messages.status import IncidentStatus

OUTAGE_SECONDS = 120


def outage_policy(path: Path) -> Path:
    return write_policy(path, {
        "name": "receiver-outage",
        "page_channel": "hook",  # no console fallback: alice can be reached only through the receiver
        "escalation": {
            "levels": [{"name": "on-call", "targets": ["alice", "bob"]}],
            "final_level_repeats": 0, "open_escalations": [], "cross_team_level": None,
            "page_retry": {"every": "30s", "attempts": 20},
        },
        "roster": {"people": {
            "alice": {"email": "alice@example.com", "channels": ["hook"]},
            "bob": {"email": "bob@example.com", "channels": ["hook", "backup"]},
        }},
        "routing": {"delivery_budget": "20s", "retry_initial_seconds": 1, "retry_maximum_seconds": 5},
    })  # fmt: skip


def alice_reached(status: IncidentStatus) -> bool:
    return any(d.delivered for d in status.deliveries if d.channel == "hook")


@pytest.mark.timeout(OUTAGE_SECONDS + 180)
async def test_pages_survive_a_two_minute_receiver_outage_by_retry_or_fallback(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    down, backup = OutageReceiver(), OutageReceiver()  # `down` listens only after the outage
    backup.start()
    settings = settings.model_copy(update={"policy_file": outage_policy(tmp_path / "policy.yaml")})
    notifiers = notifiers_for({
        "hook": {"type": "webhook", "url": down.url("/hook")},
        "backup": {"type": "webhook", "url": backup.url("/backup")},
    })  # fmt: skip
    client = dev_env.client
    try:
        async with running_worker(client, settings, notifiers):
            handle = await start_incident(client, settings, declared_incident())
            await asyncio.sleep(OUTAGE_SECONDS)
            during: IncidentStatus = await handle.query(IncidentWorkflow.status)
            down.start()
            after = await status_when(handle, alice_reached, seconds=90)
            await handle.signal("resolve", Resolve(by="alice", force=True).model_dump(mode="json"))
            await handle.result()
    finally:
        down.stop()
        backup.stop()

    assert not alice_reached(during), "alice's only channel was down: her page cannot have been sent yet"
    assert backup.received, "bob's page went through his fallback channel during the outage"
    assert alice_reached(after), after.deliveries
    hook_keys = [d.idempotency_key for d in down.received]
    assert hook_keys and all(key and key.startswith(f"{after.occurrence}/") for key in hook_keys), hook_keys
    # Every copy of one message carries one key; nobody got the page twice under two keys: bob, reached
    # through his fallback, is not paged again when the page is retried for alice.
    pages = [d for d in down.received + backup.received if "/ack/1/" in (d.idempotency_key or "")]
    keys_by_person = {
        person: {d.idempotency_key for d in pages if f"/{person}/" in (d.idempotency_key or "")}
        for person in ("alice", "bob")
    }
    assert keys_by_person == {
        "alice": {f"{after.occurrence}/ack/1/alice/hook"},
        "bob": {f"{after.occurrence}/ack/1/bob/backup"},
    }, keys_by_person
    [retried] = [d for d in after.deliveries if d.delivered]
    assert [attempt.recipients for attempt in retried.tried] == [["alice"]], retried
