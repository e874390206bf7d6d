"""`warroom postmortem lint`: blaming phrasing in human-written sections, with line numbers and a suggestion."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from activities.postmortem import render_postmortem_markdown
from tests.unit.test_postmortem_facts import T0
from workers.cli.app import app
from workflows.blameless import lint
from workflows.incident.state import Cause, IncidentState, Lifecycle
from workflows.incident.views import status_view

DOCUMENT = """# Post-mortem: checkout down

Bob failed to roll back in the summary, which is generated and not linted.

## Contributing factors

### Technical
The health check failed to run after the deploy.
Bob failed to notice the alert. It was human error.

### Process
Someone should have checked the runbook; he forgot the flag and didn't bother to ask.
The on-call was careless and ignored the alert.

## Lessons learned

Safeguards beat memory.
"""


def test_each_blaming_phrase_is_found_on_its_line_with_a_suggestion() -> None:
    findings = lint(DOCUMENT)
    assert [(f.line, f.phrase.lower()) for f in findings] == [
        (9, "bob failed to"), (9, "human error"), (12, "should have"), (12, "forgot"), (12, "didn't bother"),
        (13, "careless"), (13, "ignored the alert"),
    ]  # fmt: skip
    assert all(finding.suggestion for finding in findings)


def test_a_system_failing_and_the_generated_sections_are_not_flagged() -> None:
    assert not lint("## Lessons learned\n\nThe health check failed to run; the pool ran dry.\n")
    generated = render_postmortem_markdown(
        status_view(
            IncidentState(
                incident_id="i", occurrence="i@x", cause=Cause(service="s"), lifecycle=Lifecycle(opened_at=T0)
            ),
            [],
        )
    )
    assert lint(generated) == []


def test_a_document_without_the_template_headings_is_read_whole() -> None:
    assert [f.line for f in lint("Notes\n\nAlice should've paged earlier.\n")] == [3]


def test_the_cli_exits_1_with_findings_and_0_without(tmp_path: Path) -> None:
    blaming, clean = tmp_path / "blaming.md", tmp_path / "clean.md"
    blaming.write_text(DOCUMENT)
    clean.write_text("## Lessons learned\n\nA checklist carries the flag now.\n")
    result = CliRunner().invoke(app, ["postmortem", "lint", str(blaming)])
    assert result.exit_code == 1
    assert f'{blaming}:9: "Bob failed to": name the step, not the person' in result.output
    assert CliRunner().invoke(app, ["postmortem", "lint", str(clean)]).exit_code == 0
    assert CliRunner().invoke(app, ["postmortem", "lint", str(tmp_path / "missing.md")]).exit_code == 2
