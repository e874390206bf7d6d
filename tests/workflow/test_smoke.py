from uuid import uuid4
from tests.conftest import running_worker
from workflows.incident import IncidentWorkflow
from workflows.messages import IncidentInput, Severity

async def test_smoke(time_skipping_env, settings):
    client = time_skipping_env.client
    async with running_worker(client, settings):
        handle = await client.start_workflow(IncidentWorkflow.run, IncidentInput(incident_key="k", service="checkout", summary="down", declared_by="alice", severity=Severity.SEV1), id=f"incident-{uuid4()}", task_queue=settings.task_queue)
        await time_skipping_env.sleep(3600)
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        await handle.signal(IncidentWorkflow.acknowledge, {"byy": "bob"})
        await handle.signal(IncidentWorkflow.acknowledge)
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)
        for e in status.timeline: print(e.at, e.kind.value, e.actor, e.summary)
        print(result)
