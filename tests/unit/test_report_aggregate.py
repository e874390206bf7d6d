"""The report's arithmetic on hand-made records: percentiles, targets, noise, action items, the period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from workers.reports.aggregate import ActionItemRecord, IncidentRecord, Period, build_report, percentile
from workers.reports.chart import write_chart
from workers.reports.render import render_markdown, render_table
from workflows.messages.common import Severity

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PERIOD = Period(since=NOW - timedelta(days=30), until=NOW, retention_seconds=90 * 86400,
                visible_since=NOW - timedelta(days=30), note="retention 90d")  # fmt: skip


def incident(
    number: int, severity: Severity, mtta_minutes: float, *, days_ago: float = 1, **extra: object
) -> IncidentRecord:
    fields: dict[str, object] = {
        "workflow_id": f"incident-{number}", "occurrence": f"incident-{number}@x", "service": "checkout",
        "severity": severity, "started_at": NOW - timedelta(days=days_ago), "mtta_seconds": mtta_minutes * 60,
        "mttr_seconds": mtta_minutes * 600, "pages": 2, "alert_sources": {"alertmanager": 3},
    }  # fmt: skip
    return IncidentRecord(**{**fields, **extra})  # type: ignore[arg-type]


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3 and percentile(range(1, 11), 0.9) == 9
    assert percentile([7], 0.9) == 7


def test_mtta_and_mttr_by_severity_against_the_ack_target() -> None:
    incidents = [incident(n, Severity.SEV1, minutes) for n, minutes in enumerate([5, 10, 20, 30])]
    incidents.append(incident(9, Severity.SEV3, 60))
    report = build_report(incidents, PERIOD, ack_targets={Severity.SEV1: 15 * 60.0, Severity.SEV3: 7200.0})
    sev1, sev3 = report.severities
    assert (sev1.incidents, sev1.mtta_p50_seconds, sev1.mtta_p90_seconds) == (4, 600, 1800)
    assert (sev1.acknowledged_within_target, sev1.acknowledged) == (2, 4) and sev1.mttr_p50_seconds == 6000
    assert sev3.severity == "SEV-3" and sev3.acknowledged_within_target == 1
    assert report.by_severity == {"SEV-1": 4, "SEV-3": 1} and report.pages_per_incident == 2


def test_noise_escalations_and_approval_waits() -> None:
    incidents = [
        incident(1, Severity.SEV3, 5, false_positive=True, alert_sources={"grafana": 9}),
        incident(2, Severity.SEV3, 5, false_positive=True, alert_sources={"grafana": 1, "datadog": 2}),
        incident(3, Severity.SEV1, 5, escalation_level=3, approval_waits=[60.0, 600.0], service="inventory"),
    ]
    report = build_report(incidents, PERIOD)
    assert report.false_positives == 2 and report.false_positives_by_service == {"checkout": 2}
    assert [(s.source, s.alerts, s.false_positives) for s in report.noisiest_sources][:2] == [
        ("grafana", 10, 2), ("datadog", 2, 1),
    ]  # fmt: skip
    assert report.escalated_past_level_1 == 1
    assert (report.approval_waits.count, report.approval_waits.max_seconds) == (2, 600)


def test_incidents_outside_what_retention_keeps_are_not_counted() -> None:
    kept = PERIOD.model_copy(update={"visible_since": NOW - timedelta(days=7)})
    report = build_report([incident(1, Severity.SEV2, 5, days_ago=10), incident(2, Severity.SEV2, 5)], kept)
    assert report.incidents == 1


def test_action_items_open_and_overdue_by_owner_and_priority_or_unavailable_with_the_reason() -> None:
    items = [
        ActionItemRecord(owner="ana", priority="high", status="open", due=NOW - timedelta(days=60)),
        ActionItemRecord(owner="ana", priority="low", status="open", due=NOW + timedelta(days=3)),
        ActionItemRecord(owner="bo", priority="high", status="completed", due=NOW - timedelta(days=60)),
    ]
    stats = build_report([], PERIOD, action_items=items).action_items
    assert (stats.open, stats.overdue) == (2, 1)
    assert stats.overdue_by_owner == {"ana": 1} and stats.open_by_priority == {"high": 1, "low": 1}
    missing = build_report([], PERIOD, action_items=None, action_items_reason="not registered").action_items
    assert not missing.available and missing.open == 0 and missing.reason == "not registered"
    assert "Action items (unavailable: not registered)" in render_table(
        build_report([], PERIOD, action_items_reason="not registered")
    )


def test_weekly_points_and_renderings(tmp_path: Path) -> None:
    incidents = [incident(1, Severity.SEV1, 10, days_ago=1), incident(2, Severity.SEV1, 20, days_ago=9)]
    report = build_report(incidents, PERIOD)
    assert [(p.week.isoformat(), p.incidents) for p in report.weekly] == [
        ("2026-11-16", 1),
        ("2026-11-23", 1),
    ]
    markdown = render_markdown(report)
    assert "| SEV-1 | 2 | 10m 00s | 20m 00s |" in markdown and markdown.startswith("# Incident report")
    chart = write_chart(report, tmp_path / "chart.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
