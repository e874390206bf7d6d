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

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.handoff import Handoff
from tests.replay.reference_incident import record_time_skipping
from tests.workflow.test_dead_mans_switch import status_when
from workflows.messages.heartbeat import Heartbeat, SwitchStatus

SOURCE = "replay-pipeline"


async def _settled(env: WorkflowEnvironment, workflow_id: str, beats: int, silences: int) -> SwitchStatus:
    """The switch once it has taken `beats` and paged `silences` times, and its notices have gone out."""

    def settled(status: SwitchStatus) -> bool:
        notified = sum(event.kind == "notified" for event in status.events)
        return status.beats == beats and status.silences == silences and notified >= 2 * silences

    return await status_when(env.client.get_workflow_handle(workflow_id), settled, seconds=30)


async def silent_and_resumed(env: WorkflowEnvironment, settings: Settings) -> WorkflowHistory:
    handoff = Handoff(env.client, settings.task_queue, timedelta(0))
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
    return await env.client.get_workflow_handle(workflow_id).fetch_history()


if __name__ == "__main__":
    file_name = sys.argv[1] if len(sys.argv) > 1 else "switch.json"
    print(f"recorded {asyncio.run(record_time_skipping(silent_and_resumed, file_name))}")
