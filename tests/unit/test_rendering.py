"""What humans read: the post-mortem draft and the Web UI details, with hostile text kept as data."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.postmortem import postmortem_filename, render_postmortem_markdown
from activities.postmortem_document import (
    BUILT_IN,
    PostmortemTemplateError,
    render_document,
    template_environment,
)
from workflows.incident.details import render_details
from workflows.incident.domain import Incident
from workflows.incident.state import Cause, IncidentState, Lifecycle
from workflows.incident.views import status_view
from workflows.messages.alerts import Impact
from workflows.messages.common import Phase, Severity
from workflows.messages.status import Deadline, EventKind
from workflows.policy import SeverityMatrix
from workflows.postmortem_facts import compute_facts
from workflows.severity import classify

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def incident() -> IncidentState:
    state = IncidentState(
        incident_id="incident-abc",
        occurrence="incident-abc@20261126T120000.000Z",
        cause=Cause(service="checkout", summary="pay | fail\n<b>x</b>"),
        lifecycle=Lifecycle(opened_at=T0),
    )
    state.lifecycle.classification = classify(Impact(user_scope="all"), SeverityMatrix())
    incident = Incident(state)
    incident.record(T0, EventKind.ALERT, "alertmanager", "firing: 5xx | high -> paging")
    state.response.acknowledged_by, state.response.acknowledged_at = (
        "bob",
        T0 + timedelta(minutes=4, seconds=5),
    )
    incident.record(T0 + timedelta(minutes=4, seconds=5), EventKind.ACKNOWLEDGED, "bob", "acknowledged")
    incident.record(T0 + timedelta(hours=1), EventKind.RESOLVED, "bob", "resolved")
    return state


def test_postmortem_has_metrics_reasons_and_a_timeline_whose_cells_cannot_break_the_table() -> None:
    markdown = render_postmortem_markdown(status_view(incident(), []))
    assert "| Time to acknowledge | 4m 05s |" in markdown
    assert "| Time to resolve | 1h 00m | |" in markdown
    assert "- user_scope: all of users affected (SEV-1)" in markdown
    assert "firing: 5xx \\| high -> paging" in markdown
    timeline = markdown.split("## Timeline (UTC)")[1].split("\n## ")[0]
    timeline_rows = [line for line in timeline.splitlines() if line.startswith("| 2026-11-26")]
    assert len(timeline_rows) == 3 and all(row.count(" | ") == 3 for row in timeline_rows)


def test_postmortem_file_names_are_safe() -> None:
    assert postmortem_filename("incident-../../etc/passwd") == "incident-.._.._etc_passwd.md"
    # One file per occurrence: a recurrence under the same id never overwrites the earlier draft.
    assert postmortem_filename("incident-x@20261126T120000.000Z") != postmortem_filename(
        "incident-x@20261127T080000.000Z"
    )


def test_details_show_the_next_deadline_and_the_json_to_paste() -> None:
    state = incident()
    state.lifecycle.phase = Phase.RESPONSE
    state.response.acknowledged_at = None
    upcoming = [
        Deadline(
            kind="ack", due_at=T0 + timedelta(minutes=15), description="page level 2", targets=["manager"]
        )
    ]
    details = render_details(state, upcoming)
    assert details.startswith(f"## {Severity.SEV1.value} · checkout · response")
    assert "**Next:** page level 2 (manager) at 2026-11-26 12:15:00 UTC" in details
    assert '`acknowledge`: `{"by": "your-name"}`' in details


def test_html_in_user_text_is_escaped_everywhere_it_is_rendered() -> None:
    state = incident()
    assert "<b>" not in render_details(state, []) and "&lt;b&gt;x&lt;/b&gt;" in render_details(state, [])
    markdown = render_postmortem_markdown(status_view(state, []))
    # The post-mortem is Markdown that people also read raw: markup is backslash-escaped, `->` stays `->`.
    assert "<b>" not in markdown.replace("\\<b>", "") and "\\<b>x\\</b>" in markdown
    assert "5xx \\| high -> paging" in markdown and "&gt;" not in markdown


def test_a_configured_template_replaces_the_built_in_one_and_a_broken_one_is_named(tmp_path: Path) -> None:
    facts = compute_facts(status_view(incident(), []))
    custom = tmp_path / "ours.md.j2"
    custom.write_text(
        "# {{ f.summary | oneline }} ({{ f.severity }}), acked in {{ f.time_to_acknowledge_seconds | dur }}\n"
    )
    assert render_document(facts, custom) == "# pay | fail \\<b>x\\</b> (SEV-1), acked in 4m 05s\n"
    edit(custom, "{{ f.no_such_fact }}")
    with pytest.raises(PostmortemTemplateError, match=r"ours\.md\.j2"):
        render_document(facts, custom)
    with pytest.raises(PostmortemTemplateError, match=r"missing\.md\.j2"):
        render_document(facts, tmp_path / "missing.md.j2")


def edit(template: Path, text: str) -> None:
    """Rewrite a template with a later modification time: two writes within one kernel clock tick share an
    mtime, and the cached environment reloads by mtime."""
    before = template.stat().st_mtime_ns
    template.write_text(text)
    os.utime(template, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_templates_are_compiled_once_per_process_and_an_edited_template_is_reloaded(tmp_path: Path) -> None:
    facts = compute_facts(status_view(incident(), []))
    compiled = template_environment(BUILT_IN.parent).get_template(BUILT_IN.name)
    render_document(facts)
    assert template_environment(BUILT_IN.parent).get_template(BUILT_IN.name) is compiled

    custom = tmp_path / "ours.md.j2"
    custom.write_text("first {{ f.severity }}\n")
    assert render_document(facts, custom) == "first SEV-1\n"
    edit(custom, "second {{ f.severity }}\n")
    assert render_document(facts, custom) == "second SEV-1\n"
