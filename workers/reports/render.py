"""The report as a person reads it (a terminal table or Markdown) or a program does (JSON)."""

from __future__ import annotations

from workers.reports.aggregate import Report
from workflows.postmortem_facts import human_duration


def _duration(seconds: float | None) -> str:
    return human_duration(seconds) if seconds is not None else "-"


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def sections(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table; both text renderings are made of these."""
    severity_rows = [
        [s.severity, str(s.incidents), _duration(s.mtta_p50_seconds), _duration(s.mtta_p90_seconds),
         _duration(s.ack_target_seconds), f"{s.acknowledged_within_target}/{s.acknowledged}",
         _duration(s.mttr_p50_seconds), _duration(s.mttr_p90_seconds)]
        for s in report.severities
    ]  # fmt: skip
    waits = report.approval_waits
    items = report.action_items
    overview = [
        ["incidents", str(report.incidents)],
        ["by severity", _pairs(report.by_severity)],
        ["by service", _pairs(report.by_service)],
        ["pages", f"{report.pages} ({report.pages_per_incident:.1f} per incident)" if report.pages_per_incident
         is not None else str(report.pages)],
        ["escalated past level 1", str(report.escalated_past_level_1)],
        ["approvals", f"{waits.count} (wait p50 {_duration(waits.p50_seconds)}, p90 {_duration(waits.p90_seconds)}, "
         f"max {_duration(waits.max_seconds)})"],
        ["false positives", f"{report.false_positives} ({_pairs(report.false_positives_by_service)})"],
    ]  # fmt: skip
    if report.not_queried:
        overview.append(
            ["not queried", f"{report.not_queried} (status query unanswered: counted, not detailed)"]
        )
    item_rows = [
        ["open", str(items.open), _pairs(items.open_by_owner), _pairs(items.open_by_priority)],
        ["overdue", str(items.overdue), _pairs(items.overdue_by_owner), _pairs(items.overdue_by_priority)],
    ]
    sources = [
        [s.source, str(s.alerts), str(s.incidents), str(s.false_positives)] for s in report.noisiest_sources
    ]
    return [
        ("Overview", ["", ""], overview),
        ("MTTA and MTTR by severity (target: the policy's ack deadline)",
         ["severity", "incidents", "MTTA p50", "MTTA p90", "ack target", "acked in time", "MTTR p50", "MTTR p90"],
         severity_rows),
        ("Action items" + ("" if items.available else f" (unavailable: {items.reason})"),
         ["", "count", "by owner", "by priority"], item_rows),
        ("Noisiest alert sources", ["source", "alerts", "incidents", "false positives"], sources),
    ]  # fmt: skip


def period_line(report: Report) -> str:
    scope = f" for service {report.service}" if report.service else ""
    return (
        f"Incidents started {report.period.visible_since:%Y-%m-%d %H:%M} .. {report.period.until:%Y-%m-%d %H:%M} "
        f"UTC{scope}. {report.period.note}"
    )


def render_table(report: Report) -> str:
    lines = [period_line(report)]
    for title, header, rows in sections(report):
        lines += ["", title]
        table = ([header] if any(header) else []) + rows
        if not rows:
            lines.append("  none")
            continue
        widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
        lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                  for row in table]  # fmt: skip
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    lines = ["# Incident report", "", period_line(report)]
    for title, header, rows in sections(report):
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("_none_")
            continue
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)
