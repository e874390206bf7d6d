"""The session-end guard (no WorkflowTaskFailed in any history) must be able to see a failure at all.

A deliberately broken workflow runs in a namespace of its own, so the guard over the default namespace stays
meaningful for the rest of the suite.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

from google.protobuf.duration_pb2 import Duration
from temporalio import workflow
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.conftest import workflow_task_failures


@workflow.defn(sandboxed=False)
class BrokenWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in workflow code")  # a plain exception fails the task, and it retries


async def test_the_guard_reports_a_workflow_task_failure(dev_env: WorkflowEnvironment) -> None:
    namespace = f"guard-{uuid4().hex[:8]}"
    await dev_env.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    client = await Client.connect(dev_env.client.service_client.config.target_host, namespace=namespace)
    for _ in range(50):  # a new namespace takes a moment to reach every service
        try:
            await client.count_workflows()
            break
        except Exception:
            await asyncio.sleep(0.1)
    task_queue = str(uuid4())
    async with Worker(client, task_queue=task_queue, workflows=[BrokenWorkflow]):
        handle = await client.start_workflow(BrokenWorkflow.run, id="broken", task_queue=task_queue)
        failures: list[str] = []
        for _ in range(50):
            failures = await workflow_task_failures(client)
            if failures:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test done")
    assert failures and "a bug in workflow code" in failures[0]
