"""How a change to IncidentWorkflow ships while incidents are open (docs/versioning.md): a reorder of what the
workflow does replays the stored histories only behind `workflow.patched`. This proves the replay tests can see
such a change: the unpatched variant fails on every stored incident history, the patched one passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.replay.recorded_ids import recorded_workflow_id
from tests.replay.reference_incident import HISTORIES
from workers.data_converter import data_converter
from workflows.aftercare import AftercareWorkflow
from workflows.incident.state import ContinuedIncident
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import IncidentInput
from workflows.messages.status import IncidentResult

INCIDENT_HISTORIES = sorted(path for path in HISTORIES.glob("incident_*.json"))


@workflow.defn(name="IncidentWorkflow", sandboxed=False)
class PinsPolicyFirstUnpatched(IncidentWorkflow):
    """The same incident, but the policy is pinned before the search attributes are upserted: a reorder."""

    @workflow.run
    async def run(self, inp: IncidentInput | ContinuedIncident) -> IncidentResult:
        self._start_painter()
        self._check_patches()
        await self._pin_policy()
        self._upsert(force=True)
        return await self._phases()


@workflow.defn(name="IncidentWorkflow", sandboxed=False)
class PinsPolicyFirstPatched(IncidentWorkflow):
    """The reorder behind `workflow.patched`: running incidents keep the old order, new ones take the new."""

    @workflow.run
    async def run(self, inp: IncidentInput | ContinuedIncident) -> IncidentResult:
        self._start_painter()
        if workflow.patched("pin-policy-first"):
            self._check_patches()
            await self._pin_policy()
            self._upsert(force=True)
        else:  # IncidentWorkflow.run as it is
            self._check_patches()
            self._sync(force=not self._lean_first_task)
            await self._pin_policy()
        return await self._phases()


async def replay(workflow_class: type, path: Path) -> BaseException | None:
    replayer = Replayer(workflows=[workflow_class, AftercareWorkflow], data_converter=data_converter)
    text = path.read_text(encoding="utf-8")
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(recorded_workflow_id(path, text), text), raise_on_replay_failure=False
    )
    return result.replay_failure


@pytest.mark.parametrize("path", INCIDENT_HISTORIES, ids=[path.stem for path in INCIDENT_HISTORIES])
async def test_an_unpatched_reorder_fails_replay_and_the_patched_one_replays(path: Path) -> None:
    failure = await replay(PinsPolicyFirstUnpatched, path)
    assert failure is not None and "Nondeterminism" in type(failure).__name__ + str(failure)
    assert await replay(PinsPolicyFirstPatched, path) is None
