"""A worker dies after the receiver got the request but before the activity completed: the retry, on a new
worker, carries the same idempotency key, and the incident records one delivery."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import build_activities
from activities.policy import PolicyActivities
from config.settings import Settings
from tests.conftest import declared_incident, start_incident, status_when
from tests.notify.conftest import Receiver, notifiers_for
from tests.notify.incident_helpers import routed_settings
from workers.worker import WORKFLOWS


def activity_worker(env: WorkflowEnvironment, settings: Settings, receiver: Receiver) -> Worker:
    """An activity worker that stops at once when shut down: a crash, as far as the in-flight send goes."""
    notifiers = notifiers_for({"hook": {"type": "webhook", "url": receiver.url("/hook")}})
    return Worker(
        env.client,
        task_queue=settings.task_queue,
        activities=build_activities(settings, notifiers),
        graceful_shutdown_timeout=timedelta(0),
    )


def workflow_worker(env: WorkflowEnvironment, settings: Settings) -> Worker:
    """Workflows run on their own worker (as they may in production), so only the sender dies. It loads the
    policy itself: incidents pin it with a local activity."""
    return Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS,
        activities=[PolicyActivities(settings).load_policy], no_remote_activities=True,
    )  # fmt: skip


async def test_retry_after_a_worker_dies_mid_send_carries_the_same_idempotency_key(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    settings = routed_settings(settings, tmp_path, {"default_channels": ["hook"]})
    first_request_arrived, release_first_answer = threading.Event(), threading.Event()

    def hold_the_first_answer(_: object) -> None:
        if not first_request_arrived.is_set():
            first_request_arrived.set()
            release_first_answer.wait(10)  # the sender is gone by the time this answer would go out

    receiver.on_request = hold_the_first_answer
    env = time_skipping_env
    try:
        async with workflow_worker(env, settings):
            async with activity_worker(env, settings, receiver):
                handle = await start_incident(env.client, settings, declared_incident())
                assert await asyncio.to_thread(first_request_arrived.wait, 10)
            # The first sender is gone: its activity never completed. A new worker takes over.
            release_first_answer.set()
            async with activity_worker(env, settings, receiver):
                # The SDK reports the cut-off attempt as failed on shutdown, so the retry comes at once.
                status = await status_when(handle, lambda s: bool(s.deliveries), seconds=10)
                await handle.terminate("test over")
    finally:
        release_first_answer.set()

    keys = [request.headers["Idempotency-Key"] for request in receiver.requests]
    assert keys == [f"{status.occurrence}/ack/1/hook"] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    [delivery] = status.deliveries
    assert delivery.delivered and delivery.tried[0].attempts == 2
