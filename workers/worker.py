"""The warroom worker: incident workflows and their activities on one task queue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from adapters.notify.base import Notifier
from config.settings import Settings
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.aftercare import AftercareWorkflow
from workflows.correlation import AlertCorrelationWorkflow
from workflows.dead_mans_switch import DeadMansSwitchWorkflow
from workflows.incident.workflow import IncidentWorkflow
from workflows.review.workflow import PostmortemReviewWorkflow

# AftercareWorkflow stays registered for the aftercare runs incidents started before the post-mortem review
# took over its duties (workflows/review); new incidents start PostmortemReviewWorkflow instead.
WORKFLOWS = [
    IncidentWorkflow,
    PostmortemReviewWorkflow,
    ActionItemWorkflow,
    AftercareWorkflow,
    AlertCorrelationWorkflow,
    DeadMansSwitchWorkflow,
]
# The worker's memory is this cache, not the open work: with 10,000 incidents and action items parked, RSS was
# ~250 MB (~0.4 MB per cached workflow above a 40 MB idle worker), and evicted ones cost the worker nothing.
# An evicted incident replays its current run when it wakes (ms for a parked one, ~2.7 s at the 3,000-event
# bound), so 500 keeps the hot set cached with room under 500 MB; 1,000 would sit near the limit
# (bench/parked.py, docs/performance.md).
MAX_CACHED_WORKFLOWS = 500
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def build_worker(
    client: Client, settings: Settings, notifiers: Mapping[str, Notifier] | None = None
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(settings, notifiers),
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
