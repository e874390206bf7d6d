"""A stand-in for the system containment acts on, registered under the real activity names.

Why a stand-in: the real adapters (`adapters/contain/`: HAProxy Runtime API, HTTP runbooks, the demo shop)
and the real `run_containment_action` / `observe_health` activities land from another branch (issue 9 is split
along `workflows/messages/containment.py`). These stand-ins honour the same contract: an operation is acted on
once per idempotency key, a long one heartbeats and, when cancelled, undoes its work and says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from adapters.notify.base import Notifier
from config.settings import Settings
from workers.worker import WORKFLOWS
from workflows.messages.activities import ActivityName
from workflows.messages.containment import (
    ContainmentOutcome,
    ContainmentRequest,
    ContainmentResult,
    HealthObservationRequest,
    HealthObservationResult,
)
from workflows.messages.notifications import DeliveryResult, Notification

STAND_INS = {ActivityName.CONTAIN.value, ActivityName.OBSERVE_HEALTH.value}


class StandInSystem:
    def __init__(self) -> None:
        self.calls: list[ContainmentRequest] = []
        self.done_keys: dict[str, ContainmentResult] = {}
        self.hang: set[str] = set()  # operations that run until cancelled
        self.started: set[str] = set()
        self.cancelled: list[str] = []
        self.weight = 100
        self.unhealthy_at: int | None = None  # the gate fails once traffic reaches this percent
        self.observed_at: list[int] = []

    @activity.defn(name=ActivityName.CONTAIN.value)
    async def contain(self, request: ContainmentRequest) -> ContainmentResult:
        if request.idempotency_key in self.done_keys:
            return self.done_keys[request.idempotency_key]
        self.calls.append(request)
        if request.operation in self.hang:
            self.started.add(request.action_id)
            try:
                while True:
                    activity.heartbeat("working")
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.cancelled.append(request.action_id)
                return ContainmentResult(
                    outcome=ContainmentOutcome.UNDONE, detail=f"{request.operation} undone"
                )
        if request.operation in ("drain", "set_weight"):
            self.weight = int(request.params.get("percent", 0))
        result = ContainmentResult(
            outcome=ContainmentOutcome.SUCCEEDED,
            detail=f"{request.operation} done",
            observed={"weight": self.weight},
        )
        self.done_keys[request.idempotency_key] = result
        return result

    @activity.defn(name=ActivityName.OBSERVE_HEALTH.value)
    async def observe(self, request: HealthObservationRequest) -> HealthObservationResult:
        self.observed_at.append(self.weight)
        healthy = self.unhealthy_at is None or self.weight < self.unhealthy_at
        error_rate = 0.0 if healthy else 0.2
        return HealthObservationResult(
            healthy=healthy, samples=5, worst_error_rate=error_rate, worst_latency_ms=40,
            detail=f"error rate {error_rate:.0%} at {self.weight}% traffic",
        )  # fmt: skip


class RecordingNotifier:
    """Keeps every notification (the console channel of the test policy)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> DeliveryResult:
        self.sent.append(notification)
        return DeliveryResult(
            channel=notification.channel,
            recipients=notification.recipients,
            delivered=True,
            detail="recorded",
        )

    def of(self, kind: str) -> list[Notification]:
        return [n for n in self.sent if n.kind == kind]


def _name(function: Callable[..., Any]) -> str:
    definition = activity._Definition.from_callable(function)
    return definition.name if definition and definition.name else ""


@asynccontextmanager
async def worker_with(
    client: Client, settings: Settings, system: StandInSystem, notifier: Notifier | None = None
) -> AsyncIterator[Worker]:
    """The product's workflows and activities, with the stand-ins instead of the containment activities. A
    short heartbeat throttle so a cancellation reaches the stand-in within a fraction of a second."""
    notifiers: dict[str, Notifier] = {"console": notifier or RecordingNotifier()}
    real = [
        function for function in build_activities(settings, notifiers) if _name(function) not in STAND_INS
    ]
    async with Worker(
        client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=[*real, system.contain, system.observe],
        max_heartbeat_throttle_interval=timedelta(milliseconds=100),
        default_heartbeat_throttle_interval=timedelta(milliseconds=100),
    ) as worker:  # fmt: skip
        yield worker
