"""A reference incident that walks the containment paths of IncidentWorkflow, for replay tests: an automatic
action, an approval refused then granted, a human-only task, the emergency stop cancelling a running action,
resume, phased recovery with a re-enabled feature, and the resolve gate after it.

`python -m tests.replay.reference_containment_incident` records it into tests/replay/histories/ (against a dev
server it starts itself), with the stand-in containment activities of tests/workflow/containment_system.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

from temporalio.client import Client, WorkflowHistory

from config.settings import Settings
from tests.conftest import TEST_POLICY, declared_incident, start_incident, status_when
from tests.replay.reference_incident import record
from tests.workflow.containment_system import StandInSystem, worker_with
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import ActionState, IncidentStatus


def _state(status: IncidentStatus, action_id: str) -> ActionState | None:
    return next((action.state for action in status.actions if action.id == action_id), None)


async def run_containment_incident(client: Client, data_dir: Path) -> WorkflowHistory:
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, policy_file=TEST_POLICY, metrics_address=""
    )
    system = StandInSystem()
    system.hang.add("disable_feature")  # cancelled by the halt below
    async with worker_with(client, settings, system):
        handle = await start_incident(
            client, settings, declared_incident(service="shop", severity=Severity.SEV2)
        )
        await status_when(handle, lambda s: _state(s, "a2") is ActionState.AWAITING_APPROVAL)
        await handle.signal(
            IncidentWorkflow.approve_action, {"by": "mallory", "action_id": "a2"}
        )  # not allowed
        await handle.signal(IncidentWorkflow.approve_action, {"by": "tom", "action_id": "a2", "reason": "eu"})
        await status_when(handle, lambda s: _state(s, "a2") is ActionState.SUCCEEDED)
        await handle.signal(IncidentWorkflow.propose_action, {"by": "tom", "action": "disable_reviews"})
        await handle.signal(IncidentWorkflow.approve_action, {"by": "erin", "action_id": "a4"})
        await status_when(handle, lambda s: _state(s, "a4") is ActionState.RUNNING)
        await handle.signal(IncidentWorkflow.halt_automation, {"by": "sue", "reason": "too much at once"})
        await status_when(handle, lambda s: _state(s, "a4") is ActionState.HALTED)
        await handle.signal(IncidentWorkflow.resume_automation, {"by": "sue"})
        system.hang.clear()
        await handle.signal(IncidentWorkflow.propose_action, {"by": "tom", "action": "disable_reviews"})
        await handle.signal(IncidentWorkflow.approve_action, {"by": "ivan", "action_id": "a5"})
        await status_when(handle, lambda s: _state(s, "a5") is ActionState.SUCCEEDED)
        await handle.signal(
            IncidentWorkflow.complete_task, {"by": "cora", "action_id": "a3", "note": "posted"}
        )
        await handle.signal(IncidentWorkflow.mitigate, {"by": "tom"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "note": "eu healthy"})
        await handle.result()
        return await handle.fetch_history()


if __name__ == "__main__":
    print(f"recorded {asyncio.run(record(run_containment_incident, 'incident_containment.json'))}")
