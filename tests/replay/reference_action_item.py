"""A reference history of an action item, for replay tests: assigned, reminded two days and on the morning
before its due date and at it, reassigned, escalated to the new owner's manager a day late, then done.

`python -m tests.replay.reference_action_item [file]` records it into tests/replay/histories/ (against a
time-skipping server it starts itself, so the days take no wall time). CI replays every stored history: a
change to what an item does between reminders that is not behind `workflow.patched` fails with a
NondeterminismError, and items live for months.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.analysis.helpers import item_input, start_item
from tests.replay.reference_incident import record_time_skipping

DAY = timedelta(days=1)


async def reassigned_and_done(env: WorkflowEnvironment, settings: Settings) -> WorkflowHistory:
    now = await env.get_current_time()
    due = (now + 4 * DAY).replace(hour=17, minute=0, second=0, microsecond=0)
    handle = await start_item(env.client, settings.task_queue, item_input(now, due=due), "item-replay")
    await env.sleep(due - now + timedelta(minutes=1))  # two days before, the morning of, the due date
    await handle.signal("reassign", {"by": "erin", "owner": "sam", "reason": "tom is on leave"})
    await env.sleep(DAY + timedelta(minutes=1))  # escalated to sam's manager
    await handle.signal("complete", {"by": "sam", "evidence": "https://github.com/acme/inventory/pull/7"})
    view = await handle.result()
    assert [event.kind for event in view.history].count("escalated") == 1, view.history
    return await handle.fetch_history()


if __name__ == "__main__":
    file_name = sys.argv[1] if len(sys.argv) > 1 else "action_item.json"
    print(f"recorded {asyncio.run(record_time_skipping(reassigned_and_done, file_name))}")
