"""What the CLI prints and sends, without a server: outcomes, exit codes, and query escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.cli.commands import visibility_query
from workers.cli.errors import CliError
from workers.cli.steering import report_outcome
from workflows.messages.status import EventKind, TimelineEvent


def event(kind: EventKind, summary: str, command_id: str = "c1") -> TimelineEvent:
    return TimelineEvent(at=datetime.now(UTC), kind=kind, actor="bob", summary=summary, command_id=command_id)


def test_a_rejected_command_exits_1_and_prints_the_workflow_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = 'resolve refused: health gate failed (503); fix it or resend with "force": true'
    code = report_outcome("incident-x", "resolve", [event(EventKind.REJECTED, reason)], settled=True)
    assert code == 1
    assert capsys.readouterr().out == f"rejected: {reason}\n"


def test_an_ignored_command_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = report_outcome(
        "incident-x", "acknowledge", [event(EventKind.IGNORED, "already acked")], settled=True
    )
    assert code == 0
    assert capsys.readouterr().out == "ignored: already acked\n"


def test_a_resolve_still_waiting_for_its_health_gate_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    requested = event(EventKind.RESOLVE_REQUESTED, "resolve requested; checking health")
    assert report_outcome("incident-x", "resolve", [requested], settled=False) == 0
    assert "pending" in capsys.readouterr().out


def test_a_command_without_any_recorded_outcome_is_an_error() -> None:
    with pytest.raises(CliError, match="no outcome was recorded"):
        report_outcome("incident-x", "acknowledge", [], settled=False)


def test_user_values_in_list_queries_stay_values() -> None:
    query = visibility_query("response", None, 'pay" OR WorkflowType = "x\\', include_closed=False)
    assert query == (
        "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running' AND IncidentPhase = \"response\" "
        'AND IncidentService = "pay\\" OR WorkflowType = \\"x\\\\"'
    )
