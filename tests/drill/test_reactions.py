"""How simulated responders react, without a server: an approval request schedules the decision of the
responders who decide that action, once, `after` the request (issue 9's actions, as the status shows them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.policy_file import DEFAULT_POLICY_FILE
from tests.drill.test_scenario_file import APPROVALS
from tests.drill.test_scoring import status
from workers.drill.runner import Drill
from workers.drill.scenario_file import parse_scenario
from workflows.messages.status import ActionState, ActionView

START = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)


def action(state: ActionState) -> ActionView:
    return ActionView(
        id="a1", name="drain-eu", adapter="haproxy", risk="high", state=state, requested_by="carol",
        requested_at=START + timedelta(minutes=5, seconds=3),
    )  # fmt: skip


def test_an_action_awaiting_approval_schedules_its_deciders_answer_once() -> None:
    drill = Drill(parse_scenario(APPROVALS), DEFAULT_POLICY_FILE)
    drill.started_at = START
    waiting = status(actions=[action(ActionState.AWAITING_APPROVAL)])
    drill._decisions_due("incident-k1", waiting)
    drill._decisions_due("incident-k1", waiting)  # seen again on the next poll: not scheduled twice
    scheduled = [(due.at, due.label) for due in drill._queue]
    assert scheduled == [(START + timedelta(minutes=9, seconds=3), "ivan: approve_action")]


def test_a_decided_action_schedules_nothing() -> None:
    drill = Drill(parse_scenario(APPROVALS), DEFAULT_POLICY_FILE)
    drill.started_at = START
    drill._decisions_due("incident-k1", status(actions=[action(ActionState.APPROVED)]))
    assert drill._queue == []
