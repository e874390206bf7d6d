"""An incident opened after the policy file broke still pages, under the policy the worker validated at start.

Runs the real worker and IncidentWorkflow on the time-skipping server. (The workflow records the fallback
warning in its timeline once it reads `LoadedPolicy`; the activity's warning, log and metric are proven in
tests/unit/test_load_policy.py.)
"""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import TEST_POLICY, declared_incident, events, running_worker, start_incident, status_when
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import EventKind


async def test_an_incident_opened_after_the_file_broke_pages_under_the_start_up_policy(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yaml"
    shutil.copy(TEST_POLICY, policy_file)
    settings = settings.model_copy(update={"policy_file": policy_file})
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        policy_file.write_text("status_updates:\n  every: {SEV-1: 0s}\n")  # someone's edit, after start
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        status = await status_when(handle, lambda status: bool(events(status, EventKind.PAGED)))
        assert events(status, EventKind.POLICY)[0].summary == "policy 'test-roster' pinned"
        assert events(status, EventKind.PAGED)[0].summary.startswith("paged level 1: olivia, tom, sam")
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()
