"""Shared plumbing: real Temporal servers (time-skipping and dev), a worker per test on its own task queue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.notify.base import Notifier
from config.settings import Settings
from workers.binaries import find_binary
from workers.worker import build_worker
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: key.indexed_value_type for key in ALL_SEARCH_ATTRIBUTES},
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(task_queue=f"test-{uuid4()}", data_dir=tmp_path, metrics_address="")


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, notifiers: Mapping[str, Notifier] | None = None
) -> AsyncIterator[Worker]:
    async with build_worker(client, settings, notifiers) as worker:
        yield worker


# The dev server carries the same low-latency settings as `warroom run`, so tests see the product's timing.
DEV_SERVER_FLAGS = [
    "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40",
    "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
    "--dynamic-config-value", "history.timerProcessorMaxPollRPS=1000",
    "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
]


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server (visibility, signal-with-start, replay). At the end of the session every workflow it
    ran is checked: no history may contain a WorkflowTaskFailed event."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        ui=False,
        dev_server_extra_args=DEV_SERVER_FLAGS,
    )
    yield env
    try:
        failures = await workflow_task_failures(env.client)
    finally:
        await env.shutdown()
    assert not failures, f"WorkflowTaskFailed events in the suite's histories: {failures}"


async def workflow_task_failures(client: Client) -> list[str]:
    failures = []
    async for execution in client.list_workflows():
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        failures += [
            f"{execution.id}: {event.workflow_task_failed_event_attributes.failure.message}"
            for event in history.events
            if event.HasField("workflow_task_failed_event_attributes")
        ]
    return failures
