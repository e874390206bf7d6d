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
from io import StringIO
from pathlib import Path
from uuid import uuid4

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.analysis.helpers import item_input, start_item
from tests.conftest import TEST_POLICY, start_time_skipping_server
from tests.replay.reference_incident import HISTORIES
from workers.worker import build_worker

DAY = timedelta(days=1)


async def record(file_name: str) -> Path:
    env = await start_time_skipping_server()
    data_dir = Path(".warroom") / "replay-capture"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, metrics_address="", policy_file=TEST_POLICY
    )
    try:
        async with build_worker(env.client, settings, {"console": ConsoleNotifier(StringIO())}):
            now = await env.get_current_time()
            due = (now + 4 * DAY).replace(hour=17, minute=0, second=0, microsecond=0)
            handle = await start_item(
                env.client, settings.task_queue, item_input(now, due=due), "item-replay"
            )
            await env.sleep(due - now + timedelta(minutes=1))  # two days before, the morning of, the due date
            await handle.signal("reassign", {"by": "erin", "owner": "sam", "reason": "tom is on leave"})
            await env.sleep(DAY + timedelta(minutes=1))  # escalated to sam's manager
            await handle.signal(
                "complete", {"by": "sam", "evidence": "https://github.com/acme/inventory/pull/7"}
            )
            view = await handle.result()
            assert [event.kind for event in view.history].count("escalated") == 1, view.history
            history = await handle.fetch_history()
    finally:
        await env.shutdown()
    path = HISTORIES / file_name
    path.write_text(history.to_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"recorded {asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else 'action_item.json'))}")
