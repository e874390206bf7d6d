"""One channel that keeps answering "later" cannot hold a page: a provider's Retry-After is capped at the retry
policy's maximum interval, and each channel gets `routing.delivery_budget` before the next one is tried.

Incidents with a real HTTP receiver. The cap test runs on the dev server: it hands the activity its retry
policy, the time-skipping server does not (the activity then caps at 30 s). No server skips an activity's
retry backoff, so the backoffs and budgets here are small; the shipped defaults are 30 s and 60 s.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notify import NotifyActivities
from config.settings import Settings
from tests.conftest import declared_incident, events, running_worker, start_incident, status_when
from tests.notify.conftest import Receiver, notifiers_for
from tests.notify.incident_helpers import routed_settings
from workflows.messages.common import Severity
from workflows.messages.notifications import Notification, NotificationKind
from workflows.messages.status import EventKind, IncidentStatus


def paged(status: IncidentStatus) -> bool:
    return bool(events(status, EventKind.PAGED))


async def test_retry_after_600_is_capped_and_the_page_falls_back_within_the_budget(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    routing = {
        "default_channels": ["hook", "console"],
        "retry_initial_seconds": 0.05,
        "retry_maximum_seconds": 0.2,
        "retry_maximum_attempts": 1000,
        "delivery_budget": "5s",
    }
    settings = routed_settings(settings, tmp_path, routing)
    receiver.then = (503, "busy, come back later")
    receiver.headers = {"Retry-After": "600"}
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})

    async with running_worker(dev_env.client, settings, notifiers):
        handle = await start_incident(dev_env.client, settings, declared_incident(severity=Severity.SEV1))
        status = await status_when(handle, paged)
        await handle.terminate("test over")

    # Taken as is, Retry-After would put the second try 600 s later, beyond the budget: one try only.
    assert len(receiver.requests) >= 2
    [delivery] = status.deliveries
    assert delivery.delivered and delivery.fell_back and delivery.channel == "console"
    hook = delivery.tried[0]
    assert hook.channel == "hook" and hook.outcome == "failed"
    # Attempts that answered; the budget may run out while one more is under way.
    assert len(receiver.requests) - 1 <= hook.attempts <= len(receiver.requests)
    assert hook.detail.startswith("delivery budget of 5s spent: hook: HTTP 503: busy, come back later")


async def test_a_channel_failing_fast_forever_gets_the_budget_not_all_its_attempts(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    routing = {
        "default_channels": ["hook", "console"],
        "retry_initial_seconds": 0.05,
        "retry_maximum_seconds": 0.1,
        "retry_maximum_attempts": 1000,
        "delivery_budget": "1s",
    }
    settings = routed_settings(settings, tmp_path, routing)
    receiver.then = (503, "down")
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})

    async with running_worker(time_skipping_env.client, settings, notifiers):
        handle = await start_incident(
            time_skipping_env.client, settings, declared_incident(severity=Severity.SEV1)
        )
        status = await status_when(handle, paged)
        await handle.terminate("test over")

    assert 2 <= len(receiver.requests) < 1000
    [delivery] = status.deliveries
    assert delivery.delivered and delivery.channel == "console"
    assert delivery.tried[0].detail.startswith("delivery budget of 1s spent: hook: HTTP 503: down")
    assert len(receiver.requests) - 1 <= delivery.tried[0].attempts <= len(receiver.requests)


@pytest.mark.parametrize(("maximum_interval", "expected"), [(timedelta(seconds=30), 30), (None, 30)])
async def test_the_notify_activity_caps_a_providers_retry_after_at_the_maximum_interval(
    receiver: Receiver, maximum_interval: timedelta | None, expected: float
) -> None:
    receiver.then = (429, "slow down")
    receiver.headers = {"Retry-After": "600"}
    notify = NotifyActivities(notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}}))
    env = ActivityEnvironment()
    policy = RetryPolicy(maximum_interval=maximum_interval) if maximum_interval else None
    env.info = dataclasses.replace(env.info, retry_policy=policy)
    notification = Notification(
        idempotency_key="incident-x/ack/1",
        incident_id="incident-x",
        kind=NotificationKind.PAGE,
        channel="hook",
        recipients=["alice"],
        severity=Severity.SEV1,
        service="checkout",
        subject="checkout down",
        body="page",
    )
    with pytest.raises(ApplicationError) as error:
        await env.run(notify.notify, notification)
    assert error.value.next_retry_delay == timedelta(seconds=expected)
