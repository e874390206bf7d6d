"""A reference incident that walks every path of IncidentWorkflow on a real server, for replay tests.

`python -m tests.replay.reference_incident` records a fresh history into tests/replay/histories/ (against a
dev server it starts itself). Commit the file: CI replays every stored history, so a code change that is not
behind `workflow.patched` fails CI with a NondeterminismError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from io import StringIO
from pathlib import Path
from uuid import uuid4

from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import TEST_POLICY, signal_with_start, start_time_skipping_server
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.worker import build_worker
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, Impact
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

HISTORIES = Path(__file__).parent / "histories"
FAST_POLICY = "name: replay-fast\nescalation:\n  ack_deadline: {SEV-1: 1s, SEV-2: 1s, SEV-3: 1s, SEV-4: 1s}\n"


def _alert(key: str, event_id: str, **impact: object) -> Alert:
    return Alert(
        source="alertmanager",
        dedup_key=key,
        event_id=event_id,
        service="checkout",
        summary="checkout 5xx above 5%",
        severity_hint="critical",
        impact=Impact.model_validate(impact),
    )


async def run_reference_incident(client: Client, data_dir: Path) -> WorkflowHistory:
    policy = data_dir / "policy.yaml"
    policy.write_text(FAST_POLICY, encoding="utf-8")
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, policy_file=policy, metrics_address=""
    )
    key = f"replay-{uuid4()}"
    async with build_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        alert = _alert(key, "d-1", regions=["eu-west-1"])
        handle = await signal_with_start(client, settings.task_queue, key, alert)
        await asyncio.sleep(2.5)  # two escalations at 1 s and 2 s
        await handle.signal(IncidentWorkflow.add_alert, _alert(key, "d-1"))  # a repeat delivery
        await handle.signal(IncidentWorkflow.add_alert, _alert(key, "d-2", regions=["us-east-1"]))
        await handle.signal(IncidentWorkflow.acknowledge, {"byy": "typo"})
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob", "command_id": "ack-1"})
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob", "command_id": "ack-1"})
        await handle.signal(
            IncidentWorkflow.reclassify, {"by": "bob", "severity": "SEV-1", "reason": "all EU"}
        )
        await handle.signal(IncidentWorkflow.add_note, {"by": "carol", "text": "rollback started"})
        await handle.signal(IncidentWorkflow.mitigate, {"by": "bob", "note": "rolled back"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob", "note": "fixed"})
        await handle.result()
        return await handle.fetch_history()


async def record(run: Callable[[Client, Path], Awaitable[WorkflowHistory]], file_name: str) -> Path:
    """Run one scenario on a fresh dev server and store its history under tests/replay/histories/."""
    data_dir = Path(".warroom") / "replay-capture"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        ui=False,
    )
    try:
        history = await run(env.client, data_dir)
    finally:
        await env.shutdown()
    HISTORIES.mkdir(parents=True, exist_ok=True)
    path = HISTORIES / file_name
    path.write_text(history.to_json(), encoding="utf-8")
    return path


async def record_time_skipping(
    scenario: Callable[[WorkflowEnvironment, Settings], Awaitable[WorkflowHistory]], file_name: str
) -> Path:
    """Run one scenario with a worker (tests/policy.yaml, console channel) on a fresh time-skipping server,
    so days and silences take no wall time, and store its history under tests/replay/histories/."""
    env = await start_time_skipping_server()
    data_dir = Path(".warroom") / "replay-capture"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, metrics_address="", policy_file=TEST_POLICY
    )
    try:
        async with build_worker(env.client, settings, {"console": ConsoleNotifier(StringIO())}):
            history = await scenario(env, settings)
    finally:
        await env.shutdown()
    path = HISTORIES / file_name
    path.write_text(history.to_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"recorded {asyncio.run(record(run_reference_incident, 'incident_full_lifecycle.json'))}")
