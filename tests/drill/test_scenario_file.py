"""A malformed scenario fails with the LINE and the FIELD named, before anything starts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workers.cli.app import app
from workers.cli.errors import CliError
from workers.drill.runner import first_moment, missing_commands
from workers.drill.scenario_file import ScenarioError, load_scenario, parse_scenario

EXAMPLES = Path(__file__).parents[2] / "examples" / "drills"

MALFORMED = """\
name: malformed
alerts:
  - at: 0s
    format: alertmanager
    body:
      status: firing
      alerts:
        - status: firing
          labels: {service: checkout}
responders:
  alice: {acknowledges_after: soon}
script:
  - at: 5m
    do: post_update
    by: peggy
  - at: 10m
    do: acknowledge
    by: alice
    mood: sleepy
  - at: 20m
    do: resolve
    by: judy
    incident: nope
"""


def problems_of(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "drill.yaml")
    return str(caught.value)


def test_every_problem_names_its_line_and_field() -> None:
    message = problems_of(MALFORMED)
    assert "line 11: responders.alice.acknowledges_after:" in message
    assert "line 13: script.0.text: Field required" in message  # a missing field: the line of its step
    assert "line 19: script.1.mood: Extra inputs are not permitted" in message


def test_a_sender_body_is_checked_against_the_senders_wire_model() -> None:
    message = problems_of(MALFORMED)
    assert "line 5: alerts.0.body.groupKey: Field required" in message  # reported with the others


def test_a_script_step_aimed_at_an_unknown_alert_id_names_the_line() -> None:
    fixed = MALFORMED.replace(
        "      status: firing\n      alerts:", "      groupKey: g\n      status: firing\n      alerts:"
    )
    fixed = fixed.replace("acknowledges_after: soon", "acknowledges_after: 5m").replace(
        "    mood: sleepy\n", ""
    )
    fixed = fixed.replace("    by: peggy\n", "    by: peggy\n    text: hello\n")
    message = problems_of(fixed)
    assert "line 24: script.2.incident: no alert has the id 'nope'" in message


def test_yaml_syntax_errors_name_the_line() -> None:
    assert "drill.yaml: line 2 not valid YAML: mapping values" in problems_of("name: x\n  bad: 1\n")


def test_the_shipped_scenarios_are_valid() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) == 4
    for file in files:
        assert load_scenario(file).alerts


def test_the_command_refuses_a_malformed_scenario_with_exit_2_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    async def spy(*args: object) -> None:  # a spy, not a stand-in: it records whether a drill was started
        started.append(args)

    monkeypatch.setattr("workers.cli.drill.run_drill", spy)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(MALFORMED, encoding="utf-8")
    report = tmp_path / "report.md"
    result = CliRunner().invoke(app, ["drill", str(scenario), "--report", str(report)])
    assert isinstance(result.exception, CliError) and result.exception.exit_code == 2  # main() exits with it
    assert "line 19: script.1.mood: Extra inputs are not permitted" in str(result.exception)
    assert started == [] and not report.exists()


APPROVALS = """\
name: approvals
alerts:
  - {at: 0s, format: generic, body: {dedup_key: k, service: checkout, summary: down}}
responders:
  ivan:
    decides:
      - {action: drain-eu, decision: approve, after: 4m, reason: "EU traffic can move"}
script:
  - {at: 5m, do: propose_action, by: carol, action: drain-eu, params: {region: eu}}
  - {at: 9m, do: reject_action, by: judy, action: drain-eu, reason: "wait for the failover"}
"""


def test_approval_steps_parse_into_the_workflows_commands() -> None:
    scenario = parse_scenario(APPROVALS)
    assert scenario.responders["ivan"].decides[0].after.total_seconds() == 240
    assert scenario.command_payload(scenario.script[1]) == {
        "by": "judy", "action": "drain-eu", "reason": "wait for the failover"
    }  # fmt: skip
    assert missing_commands(scenario) == []  # IncidentWorkflow takes them (issue 9)


def test_a_drill_starts_at_the_next_moment_of_the_scenarios_weekday_and_time() -> None:
    scenario = parse_scenario(APPROVALS.replace("name: approvals", 'name: x\nstart: {day: fri, at: "14:05"}'))
    monday = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    assert first_moment(monday, scenario) == datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
    friday_later = datetime(2026, 12, 4, 14, 6, tzinfo=UTC)
    assert first_moment(friday_later, scenario) == datetime(2026, 12, 11, 14, 5, tzinfo=UTC)
