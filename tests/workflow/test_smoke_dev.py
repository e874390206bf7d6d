from uuid import uuid4
from tests.conftest import running_worker
from workflows.incident import IncidentWorkflow
from workflows.messages import IncidentInput, Severity

async def test_smoke_dev(dev_env, settings):
    client = dev_env.client
    async with running_worker(client, settings):
        handle = await client.start_workflow(IncidentWorkflow.run, IncidentInput(incident_key="k", service="checkout", summary="down", declared_by="alice", severity=Severity.SEV1), id=f"incident-{uuid4()}", task_queue=settings.task_queue)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        print(await handle.result())
