"""A reference history of the dead-man's switch, for replay tests: heartbeats every three minutes, a silence
past the deadline that pages, heartbeats resuming (announced), and beats again after that.

`python -m tests.replay.reference_switch` records it into tests/replay/histories/switch.json (against a
time-skipping server it starts itself, so the silence takes no wall time). CI replays every stored history:
a change to how the switch waits that is not behind `workflow.patched` fails with a NondeterminismError.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.handoff import Handoff
from tests.conftest import polled
from tests.replay.reference_incident import record_time_skipping
from workflows.messages.activities import ActivityName
from workflows.messages.heartbeat import Heartbeat

SOURCE = "replay-pipeline"


async def _settled(env: WorkflowEnvironment, workflow_id: str, beats: int, silences: int) -> None:
    """Wait until the switch has taken `beats` and sent its 2 * `silences` notices, with nothing in flight.

    Read from the history, not the status query: on the time-skipping server each query ran as a workflow task
    recorded in the history, and most recordings with those extra tasks failed replay (the kept silence timer's
    deadline check, to the millisecond, came out the other way: 4 to 6 in 8). Without queries, 10 in 10
    replayed. A real server keeps queries out of history."""
    handle = env.client.get_workflow_handle(workflow_id)

    async def counts() -> tuple[int, int, bool]:
        events = (await handle.fetch_history()).events
        by_type = Counter(event.event_type for event in events)
        in_flight = (
            by_type[EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]
            > by_type[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
            or by_type[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
            > by_type[EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
        )
        notices = sum(
            event.activity_task_scheduled_event_attributes.activity_type.name == ActivityName.NOTIFY
            for event in events
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        )
        return by_type[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED], notices, in_flight

    settled = (beats, 2 * silences, False)
    if await polled(counts, lambda seen: seen == settled, seconds=30) != settled:
        raise TimeoutError(f"the switch did not settle at {beats} beats and {silences} silences")


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
