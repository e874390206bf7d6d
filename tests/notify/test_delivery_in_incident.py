"""Delivery inside a real incident (time-skipping server): retries, refusals, fallback, and what the timeline
and the status query say about each."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, events, running_worker, start_incident, status_when
from tests.notify.conftest import Receiver, notifiers_for
from tests.notify.incident_helpers import routed_settings
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.commands import Resolve
from workflows.messages.status import EventKind, IncidentStatus


def delivered(status: IncidentStatus) -> bool:
    return bool(status.deliveries)


async def test_two_5xx_then_200_is_one_delivery_with_its_retries_visible(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    settings = routed_settings(settings, tmp_path, {"default_channels": ["hook"]})
    receiver.answer((500, "boom"), (502, "bad gateway"))
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        status = await status_when(handle, delivered)
        await handle.terminate("test over")

    assert [request.headers["Idempotency-Key"] for request in receiver.requests] == [
        f"{status.occurrence}/ack/1/hook"
    ] * 3
    [delivery] = status.deliveries
    assert delivery.delivered and delivery.outcome == "sent" and delivery.step == "ack/1"
    [attempt] = delivery.tried
    assert attempt.channel == "hook" and attempt.outcome == "sent" and attempt.attempts == 3
    [event] = events(status, EventKind.DELIVERY)
    assert event.summary.startswith("page sent: alice: hook sent after 3 attempts")
    [paged] = events(status, EventKind.PAGED)
    assert paged.details["delivered"] is True


async def test_a_4xx_is_not_retried_the_failure_is_recorded_and_the_fallback_channel_is_used(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    people = {"alice": {"email": "alice@example.com", "slack_user_id": "U1", "channels": ["chat", "hook"]}}
    settings = routed_settings(settings, tmp_path, {}, people)
    receiver.answer((400, "invalid_payload"))
    notifiers = notifiers_for({
        "chat": {"type": "slack", "webhook_url": receiver.url("/slack")},
        "hook": {"type": "webhook", "url": receiver.url("/hook")},
    })  # fmt: skip

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        status = await status_when(handle, delivered)
        await handle.terminate("test over")

    assert [request.path for request in receiver.requests] == ["/slack", "/hook"]  # no retry of the 400
    assert receiver.requests[1].headers["Idempotency-Key"] == f"{status.occurrence}/ack/1/hook"
    [delivery] = status.deliveries
    assert delivery.delivered and delivery.fell_back and delivery.channel == "hook"
    failed, sent = delivery.tried
    assert (failed.channel, failed.outcome, failed.attempts) == ("chat", "failed", 1)
    assert failed.detail == "refused, not retried: chat: HTTP 400: invalid_payload"
    assert (sent.channel, sent.outcome) == ("hook", "sent")
    [event] = events(status, EventKind.DELIVERY)
    assert (
        "chat failed (refused, not retried: chat: HTTP 400: invalid_payload) -> fell back to hook sent"
        in (event.summary)
    )
    assert event.details["fell_back"] is True and event.details["channels"] == ["chat", "hook"]


async def test_when_every_channel_fails_the_incident_goes_on_and_says_so(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    settings = routed_settings(
        settings, tmp_path, {"default_channels": ["hook"], "retry_maximum_attempts": 2}
    )
    receiver.then = (503, "down for maintenance")
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        status = await status_when(handle, delivered)
        await handle.signal("resolve", Resolve(by="alice", force=True).model_dump(mode="json"))
        result = await handle.result()

    assert result.resolved_by == "alice"  # a dead channel never fails the incident
    delivery = status.deliveries[0]
    assert not delivery.delivered and delivery.outcome == "failed"
    assert delivery.tried[0].detail == "gave up after 2 attempts: hook: HTTP 503: down for maintenance"
    [paged] = events(status, EventKind.PAGED)
    assert paged.summary.startswith("page FAILED on every channel (try 1) for level 1")


async def test_a_sev1_page_carries_impact_commander_bridge_and_next_update_and_a_broadcast_copy(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    routing = {
        "default_channels": ["hook"],
        "bridge": "https://meet.example/sev1",
        "broadcasts": [{"channels": ["status"], "severities": ["SEV-1"]}],
    }
    settings = routed_settings(settings, tmp_path, routing)
    notifiers = notifiers_for({
        "hook": {"type": "webhook", "url": receiver.url("/hook")},
        "status": {"type": "statuspage", "base_url": receiver.url("/sp"), "page_id": "pg"},
    })  # fmt: skip
    incident = declared_incident(summary='<script>alert("x")</script> checkout down')
    incident = incident.model_copy(
        update={"impact": incident.impact.model_copy(update={"user_scope": "all"})}
    )

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, incident)
        status = await status_when(
            handle, lambda s: len(s.deliveries[0].tried) == 2 if s.deliveries else False
        )
        await handle.terminate("test over")

    by_path = {request.path: request for request in receiver.requests}
    page = by_path["/hook"].json()
    assert by_path["/hook"].headers["Idempotency-Key"] == f"{status.occurrence}/ack/1/alice/hook"
    assert (
        page["facts"]["bridge"] == "https://meet.example/sev1"
        and "Bridge: https://meet.example/sev1" in page["text"]
    )
    assert "Impact: all users" in page["text"] and "Next update: " in page["text"]
    assert "Incident commander: not yet assigned" in page["text"]
    public = by_path[f"/sp/pages/pg/incidents/{handle.id}"]
    assert public.headers["Idempotency-Key"] == f"{status.occurrence}/ack/1/broadcast-0/status"
    assert public.json()["incident"]["status"] == "investigating"
    assert json.loads(public.body)["incident"]["impact_override"] == "critical"
    assert status.deliveries[0].delivered


async def test_pagerduty_gets_trigger_acknowledge_resolve_for_one_alert_and_people_get_the_postmortem(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    routing = {"rules": [{"kinds": ["page", "escalation", "acknowledgement", "resolution"], "channels": ["pager"]}],
               "default_channels": ["hook"]}  # fmt: skip
    settings = routed_settings(settings, tmp_path, routing)
    notifiers = notifiers_for({
        "pager": {"type": "pagerduty", "routing_key": "rk", "base_url": receiver.url("/pd")},
        "hook": {"type": "webhook", "url": receiver.url("/hook")},
    })  # fmt: skip

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        await status_when(handle, delivered)
        await handle.signal("resolve", Resolve(by="bob", force=True).model_dump(mode="json"))
        await handle.result()
        status = await handle.query(IncidentWorkflow.status)

    pagerduty = [request.json() for request in receiver.requests if request.path == "/pd/v2/enqueue"]
    # The resolve acknowledges implicitly: the ack notice is on its way before the health gate lets the
    # resolution out.
    assert [event["event_action"] for event in pagerduty] == ["trigger", "acknowledge", "resolve"]
    assert {event["dedup_key"] for event in pagerduty} == {handle.id}
    [postmortem] = [request.json() for request in receiver.requests if request.path == "/hook"]
    assert postmortem["kind"] == "postmortem_ready" and postmortem["facts"]["postmortem_path"].endswith(".md")
    assert postmortem["facts"]["resolved_by"] == "bob" and "post-mortem draft is ready" in postmortem["text"]
    assert [(d.step, d.channel, d.outcome) for d in status.deliveries] == [
        ("ack/1", "pager", "sent"),
        ("acknowledged", "pager", "sent"),
        ("resolution", "pager", "sent"),
        ("postmortem", "hook", "sent"),
    ]


async def test_a_slack_timeout_is_recorded_as_unknown_and_neither_retried_nor_doubled_on_another_channel(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    """The receiver answers only after the channel's 0.2 s timeout: the condition under test, not a speed
    assertion. Slack cannot dedupe, so warroom must not send it again, nor page again elsewhere."""
    people = {"alice": {"channels": ["chat", "hook"]}}
    settings = routed_settings(settings, tmp_path, {}, people)
    answer_late = threading.Event()
    receiver.on_request = lambda request: answer_late.wait(5) if request.path == "/slack" else None
    notifiers = notifiers_for({
        "chat": {"type": "slack", "webhook_url": receiver.url("/slack"), "timeout_seconds": 0.2},
        "hook": {"type": "webhook", "url": receiver.url("/hook")},
    })  # fmt: skip

    try:
        async with running_worker(time_skipping_env.client, settings, notifiers):
            handle = await start_incident(time_skipping_env.client, settings, declared_incident())
            status = await status_when(handle, delivered)
            await handle.terminate("test over")
    finally:
        answer_late.set()

    assert [request.path for request in receiver.requests] == ["/slack"]
    [delivery] = status.deliveries
    assert (
        delivery.outcome == "unknown"
        and not delivery.delivered
        and [t.channel for t in delivery.tried] == ["chat"]
    )
    [event] = events(status, EventKind.DELIVERY)
    assert event.summary.startswith(
        "page unknown: alice: chat unknown (chat: delivery unknown (no answer within 0.2 s)"
    )
    assert "not retried, the channel cannot dedupe" in event.summary


async def test_a_channel_this_worker_does_not_know_is_a_recorded_failure_and_the_next_channel_is_used(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    settings = routed_settings(settings, tmp_path, {"default_channels": ["sms-gateway", "hook"]})
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        status = await status_when(handle, delivered)
        await handle.terminate("test over")

    failed, sent = status.deliveries[0].tried
    assert failed.channel == "sms-gateway" and failed.outcome == "failed"
    assert "unknown channel 'sms-gateway' (this worker knows: console, hook)" in failed.detail
    assert sent.channel == "hook" and sent.outcome == "sent" and len(receiver.requests) == 1


async def test_a_refusal_after_a_retry_says_on_which_attempt_it_came(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    settings = routed_settings(settings, tmp_path, {"default_channels": ["chat", "console"]})
    receiver.answer((503, "busy"), (404, "no_service"))
    notifiers = {**notifiers_for({"chat": {"type": "slack", "webhook_url": receiver.url("/slack")}}),
                 "console": ConsoleNotifier(io.StringIO())}  # fmt: skip

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(time_skipping_env.client, settings, declared_incident())
        status = await status_when(handle, delivered)
        await handle.terminate("test over")

    refused, sent = status.deliveries[0].tried
    assert (refused.attempts, refused.detail) == (
        2,
        "refused on attempt 2, not retried: chat: HTTP 404: no_service",
    )
    assert sent.channel == "console" and len(receiver.requests) == 2
