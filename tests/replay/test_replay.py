"""Replay: the current workflow code must reproduce every stored history and a fresh one exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.replay.recorded_ids import recorded_workflow_id
from tests.replay.reference_incident import HISTORIES, run_reference_incident
from workers.data_converter import data_converter
from workers.worker import WORKFLOWS

STORED = sorted(HISTORIES.glob("*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=data_converter)


def test_there_is_a_stored_history_to_replay() -> None:
    assert STORED, "record one with: python -m tests.replay.reference_incident"


@pytest.mark.parametrize("path", STORED, ids=[path.stem for path in STORED])
async def test_stored_history_replays_without_nondeterminism(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = await replayer().replay_workflow(
        WorkflowHistory.from_json(recorded_workflow_id(path, text), text)
    )
    assert result.replay_failure is None


async def test_a_fresh_full_lifecycle_replays(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    history = await run_reference_incident(dev_env.client, tmp_path)
    kinds = {event.event_type for event in history.events}
    assert len(history.events) > 40 and len(kinds) > 8
    # A new run records one patch marker whatever patches it passes (each would also upsert
    # TemporalChangeVersion): every patch check goes through IncidentWorkflow._patched.
    patches = [
        event
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert len(patches) == 1
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None
