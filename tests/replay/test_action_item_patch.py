"""The action item's `action-item-current-roster` patch guards what it should: the history recorded before it
replays only because the new step sits behind `workflow.patched`. Forced on, the same history fails replay."""

from __future__ import annotations

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory

from tests.replay.reference_incident import HISTORIES
from tests.replay.test_replay import replayer
from workflows.action_item.workflow import CURRENT_ROSTER

BEFORE = HISTORIES / "action_item_before_current_roster.json"


async def test_the_roster_refresh_unpatched_fails_the_history_recorded_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history = WorkflowHistory.from_json(BEFORE.stem, BEFORE.read_text(encoding="utf-8"))
    assert (await replayer().replay_workflow(history)).replay_failure is None

    real = workflow.patched
    monkeypatch.setattr(
        workflow, "patched", lambda patch_id: True if patch_id == CURRENT_ROSTER else real(patch_id)
    )
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
