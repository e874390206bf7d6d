"""What the CLI prints and sends, without a server: outcomes, exit codes, and query escaping."""

from __future__ import annotations

import pytest

from workers.cli.commands import visibility_query
from workers.cli.steering import report_verdict
from workflows.messages.commands import CommandVerdict


def test_a_rejected_command_exits_1_and_prints_the_workflow_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = 'resolve refused: health gate failed (503); fix it or resend with "force": true'
    code = report_verdict(CommandVerdict(command="resolve", outcome="rejected", reason=reason))
    assert code == 1
    assert capsys.readouterr().out == f"rejected: {reason}\n"


def test_an_ignored_command_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = report_verdict(CommandVerdict(command="acknowledge", outcome="ignored", reason="already acked"))
    assert code == 0
    assert capsys.readouterr().out == "ignored: already acked\n"


def test_user_values_in_list_queries_stay_values() -> None:
    query = visibility_query("response", None, 'pay" OR WorkflowType = "x\\', include_closed=False)
    assert query == (
        "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running' AND IncidentPhase = \"response\" "
        'AND IncidentService = "pay\\" OR WorkflowType = \\"x\\\\"'
    )
