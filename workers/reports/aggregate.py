"""From incident and action-item records to the report's numbers (pure: no Temporal, no clock, no I/O).

Records are what the collector read from visibility and `status` queries; everything here is a function of
them, so the report can be tested with a handful of hand-made records and trusted on real ones."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from workflows.messages.common import Severity

DONE_STATES = {"completed", "done", "cancelled", "canceled", "closed"}
NOISIEST_SHOWN = 10


@dataclass(frozen=True)
class IncidentRecord:
    """One incident occurrence as visibility and its status query describe it."""

    workflow_id: str
    occurrence: str
    service: str | None
    severity: Severity | None
    started_at: datetime
    mtta_seconds: float | None = None
    mttr_seconds: float | None = None
    false_positive: bool = False
    pages: int = 0
    escalation_level: int = 0
    alert_sources: dict[str, int] = field(default_factory=dict)
    approval_waits: list[float] = field(default_factory=list)
    queried: bool = True


@dataclass(frozen=True)
class ActionItemRecord:
    owner: str | None
    priority: str | None
    status: str | None
    due: datetime | None

    @property
    def is_open(self) -> bool:
        return (self.status or "open").lower() not in DONE_STATES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due is not None and self.due < now


class Period(BaseModel):
    since: datetime
    until: datetime
    retention_seconds: float | None = Field(
        description="namespace retention: closed workflows older are gone"
    )
    visible_since: datetime = Field(description="the oldest moment this report can see")
    note: str


class SeverityStats(BaseModel):
    severity: str
    incidents: int
    mtta_p50_seconds: float | None
    mtta_p90_seconds: float | None
    mttr_p50_seconds: float | None
    mttr_p90_seconds: float | None
    ack_target_seconds: float | None = Field(description="the policy's ack deadline for this severity")
    acknowledged: int
    acknowledged_within_target: int


class Waits(BaseModel):
    count: int
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


class SourceStats(BaseModel):
    source: str
    alerts: int
    incidents: int
    false_positives: int


class ActionItemStats(BaseModel):
    available: bool
    reason: str | None = None
    open: int = 0
    overdue: int = 0
    open_by_owner: dict[str, int] = Field(default_factory=dict)
    overdue_by_owner: dict[str, int] = Field(default_factory=dict)
    open_by_priority: dict[str, int] = Field(default_factory=dict)
    overdue_by_priority: dict[str, int] = Field(default_factory=dict)


class WeeklyPoint(BaseModel):
    week: date = Field(description="the Monday that starts the week (UTC)")
    severity: str
    incidents: int
    mtta_p50_seconds: float | None
    mttr_p50_seconds: float | None


class Report(BaseModel):
    period: Period
    service: str | None
    incidents: int
    not_queried: int = Field(description="incidents whose status query did not answer: counted, not detailed")
    by_severity: dict[str, int]
    by_service: dict[str, int]
    severities: list[SeverityStats]
    pages: int
    pages_per_incident: float | None
    escalated_past_level_1: int
    approval_waits: Waits
    false_positives: int
    false_positives_by_service: dict[str, int]
    noisiest_sources: list[SourceStats]
    action_items: ActionItemStats
    weekly: list[WeeklyPoint]


def percentile(values: Iterable[float], share: float) -> float | None:
    """Nearest-rank percentile: a value that occurred, never an interpolation between two incidents."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def week_of(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def severity_stats(
    incidents: list[IncidentRecord], targets: dict[Severity, float | None]
) -> list[SeverityStats]:
    stats = []
    for severity in Severity:
        group = [incident for incident in incidents if incident.severity is severity]
        if not group:
            continue
        acks = [i.mtta_seconds for i in group if i.mtta_seconds is not None]
        repairs = [i.mttr_seconds for i in group if i.mttr_seconds is not None]
        target = targets.get(severity)
        stats.append(SeverityStats(
            severity=severity.value, incidents=len(group),
            mtta_p50_seconds=percentile(acks, 0.5), mtta_p90_seconds=percentile(acks, 0.9),
            mttr_p50_seconds=percentile(repairs, 0.5), mttr_p90_seconds=percentile(repairs, 0.9),
            ack_target_seconds=target, acknowledged=len(acks),
            acknowledged_within_target=sum(1 for ack in acks if target is not None and ack <= target),
        ))  # fmt: skip
    return stats


def noisiest_sources(incidents: list[IncidentRecord]) -> list[SourceStats]:
    alerts: Counter[str] = Counter()
    involved: Counter[str] = Counter()
    noise: Counter[str] = Counter()
    for incident in incidents:
        for source, count in incident.alert_sources.items():
            alerts[source] += count
            involved[source] += 1
            noise[source] += incident.false_positive
    ranked = sorted(alerts, key=lambda source: (-noise[source], -alerts[source], source))
    return [
        SourceStats(
            source=source, alerts=alerts[source], incidents=involved[source], false_positives=noise[source]
        )
        for source in ranked[:NOISIEST_SHOWN]
    ]


def action_item_stats(
    items: list[ActionItemRecord] | None, now: datetime, reason: str | None
) -> ActionItemStats:
    if items is None:
        return ActionItemStats(available=False, reason=reason)
    open_items = [item for item in items if item.is_open]
    overdue = [item for item in open_items if item.is_overdue(now)]

    def count(group: list[ActionItemRecord], key: str) -> dict[str, int]:
        return dict(sorted(Counter(getattr(item, key) or "unassigned" for item in group).items()))

    return ActionItemStats(
        available=True, reason=reason, open=len(open_items), overdue=len(overdue),
        open_by_owner=count(open_items, "owner"), overdue_by_owner=count(overdue, "owner"),
        open_by_priority=count(open_items, "priority"), overdue_by_priority=count(overdue, "priority"),
    )  # fmt: skip


def weekly(incidents: list[IncidentRecord]) -> list[WeeklyPoint]:
    groups: dict[tuple[date, str], list[IncidentRecord]] = defaultdict(list)
    for incident in incidents:
        groups[
            (week_of(incident.started_at), incident.severity.value if incident.severity else "unclassified")
        ].append(incident)
    return [
        WeeklyPoint(
            week=week,
            severity=severity,
            incidents=len(group),
            mtta_p50_seconds=percentile([i.mtta_seconds for i in group if i.mtta_seconds is not None], 0.5),
            mttr_p50_seconds=percentile([i.mttr_seconds for i in group if i.mttr_seconds is not None], 0.5),
        )
        for (week, severity), group in sorted(groups.items())
    ]


def build_report(
    incidents: list[IncidentRecord],
    period: Period,
    *,
    service: str | None = None,
    ack_targets: dict[Severity, float | None] | None = None,
    action_items: list[ActionItemRecord] | None = None,
    action_items_reason: str | None = None,
) -> Report:
    """The whole report; `action_items` None means they could not be read (the reason says why)."""
    in_period = [i for i in incidents if period.visible_since <= i.started_at <= period.until]
    queried = [i for i in in_period if i.queried]
    waits = [wait for incident in queried for wait in incident.approval_waits]
    pages = sum(incident.pages for incident in queried)
    false_positives = [incident for incident in in_period if incident.false_positive]
    return Report(
        period=period,
        service=service,
        incidents=len(in_period),
        not_queried=len(in_period) - len(queried),
        by_severity=dict(
            sorted(Counter(i.severity.value if i.severity else "unclassified" for i in in_period).items())
        ),
        by_service=dict(sorted(Counter(i.service or "unknown" for i in in_period).items())),
        severities=severity_stats(in_period, ack_targets or {}),
        pages=pages,
        pages_per_incident=pages / len(queried) if queried else None,
        escalated_past_level_1=sum(1 for incident in queried if incident.escalation_level > 1),
        approval_waits=Waits(
            count=len(waits),
            p50_seconds=percentile(waits, 0.5),
            p90_seconds=percentile(waits, 0.9),
            max_seconds=max(waits, default=None),
        ),
        false_positives=len(false_positives),
        false_positives_by_service=dict(
            sorted(Counter(i.service or "unknown" for i in false_positives).items())
        ),
        noisiest_sources=noisiest_sources(queried),
        action_items=action_item_stats(action_items, period.until, action_items_reason),
        weekly=weekly(in_period),
    )
