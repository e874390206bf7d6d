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
# Parked incidents cost ~200 KB each in the cache; beyond this they are replayed on wake-up instead.
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
