"""The report's chart: MTTA and MTTR (p50) by week and severity, and overdue action items by owner, as a PNG.

matplotlib with the Agg backend: no display, no GUI toolkit, the same picture on a server as on a laptop."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.dates import MO, DateFormatter, WeekdayLocator
from matplotlib.ticker import MaxNLocator

from workers.reports.aggregate import Report

SEVERITY_COLOURS = {"SEV-1": "#c0392b", "SEV-2": "#e67e22", "SEV-3": "#2980b9", "SEV-4": "#7f8c8d"}


def _by_week(report: Report, measure: str) -> dict[str, tuple[list[date], list[float]]]:
    """Per severity, the weeks in date order (a date axis, so weeks of different severities line up)."""
    series: dict[str, tuple[list[date], list[float]]] = {}
    for point in sorted(report.weekly, key=lambda point: point.week):
        value = getattr(point, measure)
        if value is None:
            continue
        weeks, values = series.setdefault(point.severity, ([], []))
        weeks.append(point.week)
        values.append(value / 60)
    return series


def write_chart(report: Report, path: Path) -> Path:
    figure, (mtta, mttr, overdue) = plt.subplots(1, 3, figsize=(15, 4.5), dpi=100)
    figure.suptitle(
        f"Incidents {report.period.visible_since:%Y-%m-%d} .. {report.period.until:%Y-%m-%d}"
        + (f" ({report.service})" if report.service else "")
    )
    for axes, measure, title in ((mtta, "mtta_p50_seconds", "MTTA p50 by week"),
                                 (mttr, "mttr_p50_seconds", "MTTR p50 by week")):  # fmt: skip
        series = _by_week(report, measure)
        for severity, (weeks, values) in sorted(series.items()):
            axes.plot(
                weeks, values, marker="o", label=severity, color=SEVERITY_COLOURS.get(severity, "#333333")
            )
        axes.set_title(title)
        axes.set_ylabel("minutes")
        axes.set_xlabel("week starting")
        axes.xaxis.set_major_locator(WeekdayLocator(byweekday=MO))
        axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
        axes.tick_params(axis="x", labelrotation=30)
        if series:
            axes.legend()
        else:
            axes.text(0.5, 0.5, "no incidents measured", ha="center", va="center", transform=axes.transAxes)
    owners = report.action_items.overdue_by_owner
    overdue.bar(list(owners) or ["nobody"], list(owners.values()) or [0], color="#8e44ad")
    overdue.set_title("Overdue action items by owner")
    overdue.set_ylabel("items")
    overdue.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not report.action_items.available:
        overdue.text(
            0.5, 0.5, "action items unavailable", ha="center", va="center", transform=overdue.transAxes
        )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
