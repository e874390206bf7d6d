"""A reference history of the dead-man's switch, for replay tests: heartbeats every three minutes, a silence
past the deadline that pages, heartbeats resuming (announced), and beats again after that.

`python -m tests.replay.reference_switch` records it into tests/replay/histories/switch.json (against a
time-skipping server it starts itself, so the silence takes no wall time). CI replays every stored history:
a change to how the switch waits that is not behind `workflow.patched` fails with a NondeterminismError.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from intake.handoff import Handoff
from tests.conftest import TEST_POLICY
from tests.replay.reference_incident import HISTORIES
from tests.workflow.test_dead_mans_switch import status_when
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.worker import build_worker
from workflows.messages.heartbeat import Heartbeat, SwitchStatus

SOURCE = "replay-pipeline"


async def _settled(env: WorkflowEnvironment, workflow_id: str, beats: int, silences: int) -> SwitchStatus:
    """The switch once it has taken `beats` and paged `silences` times, and its notices have gone out."""

    def settled(status: SwitchStatus) -> bool:
        notified = sum(event.kind == "notified" for event in status.events)
        return status.beats == beats and status.silences == silences and notified >= 2 * silences

    return await status_when(env.client.get_workflow_handle(workflow_id), settled, seconds=30)


async def record(file_name: str) -> Path:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"), data_converter=data_converter
    )
    data_dir = Path(".warroom") / "replay-capture"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, metrics_address="", policy_file=TEST_POLICY
    )
    handoff = Handoff(env.client, settings.task_queue, timedelta(0))
    try:
        async with build_worker(env.client, settings, {"console": ConsoleNotifier(StringIO())}):
            workflow_id = ""
            for beats in range(1, 5):  # at 0, 3, 6 and 9 minutes
                workflow_id = await handoff.beat(Heartbeat(source=SOURCE))
                await _settled(env, workflow_id, beats, 0)
                await env.sleep(timedelta(minutes=3))
            await env.sleep(timedelta(minutes=11))  # silent past 9 + 10 minutes: paged
            await handoff.beat(Heartbeat(source=SOURCE))  # resumed: announced
            await _settled(env, workflow_id, 5, 1)
            await env.sleep(timedelta(minutes=2))
            await handoff.beat(Heartbeat(source=SOURCE))
            await _settled(env, workflow_id, 6, 1)
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    finally:
        await env.shutdown()
    path = HISTORIES / file_name
    path.write_text(history.to_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"recorded {asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else 'switch.json'))}")
