"""The post-mortem's facts, computed from the incident, never typed by hand (pure: no I/O, no Temporal).

Input is what the incident knows at analysis time: its status (with the whole timeline, archive included),
the pinned policy, the impact its alerts carried. Output is one model the document template and the reports
read, so "time to acknowledge" means the same thing in both.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.messages.status import (
    ActionView,
    ClassificationReason,
    EventKind,
    IncidentStatus,
    TimelineEvent,
)
from workflows.policy import Policy

# Timeline kinds where someone (or the system) decided something: the reconstructed timeline marks them.
DECISION_KINDS = {
    EventKind.DECLARED: "declared",
    EventKind.CLASSIFIED: "severity decided",
    EventKind.RECLASSIFIED: "severity changed",
    EventKind.ACKNOWLEDGED: "acknowledged",
    EventKind.ESCALATED: "escalated",
    EventKind.ROLE_ASSIGNED: "role assigned",
    EventKind.APPROVAL: "approval decision",
    EventKind.ACTION: "action",
    EventKind.AUTOMATION: "automation",
    EventKind.MITIGATED: "mitigated",
    EventKind.RESOLVE_REQUESTED: "resolve requested",
    EventKind.RESOLVED: "resolved",
}
_LEVEL = re.compile(r"\blevel (\d+)\b")


class Known(BaseModel):
    """What the responders could know at one moment: the facts a decision was made with."""

    alerts: int
    alert_sources: list[str]
    severity: str | None
    paged: int
    acknowledged: bool


class DecisionPoint(BaseModel):
    at: datetime
    decision: str
    actor: str
    summary: str
    known: Known


class ApprovalWait(BaseModel):
    """One approval asked for an action, who decided it, and how long it waited (None: never decided)."""

    action: str
    risk: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision: str | None
    waited_seconds: float | None
    state: str


class Escalation(BaseModel):
    """One page (the first, or a level beyond it) and how long it waited for the acknowledgement."""

    at: datetime
    level: int | None
    actor: str
    summary: str
    first: bool = Field(default=False, description="the first page; the others are escalations")
    acknowledged_after_seconds: float | None = Field(
        default=None, description="None: sent after the acknowledgement, or never acknowledged"
    )


class ImpactFacts(BaseModel):
    users_affected: int | None
    user_scope: str | None
    regions: list[str]
    function: str | None
    revenue_per_hour: float | None
    impact_seconds: float | None = Field(description="first alert (or open) until mitigation or resolution")
    revenue_at_risk_estimate: float | None = Field(
        description="ESTIMATE: revenue per hour at risk x impact duration; not a measured loss"
    )
    flags: list[str]


class PostmortemFacts(BaseModel):
    incident_id: str
    occurrence: str
    service: str | None
    summary: str | None
    severity: Severity | None
    severity_reasons: list[ClassificationReason]
    classified_by: str | None
    policy_name: str | None
    policy_version: str | None = Field(description="digest of the pinned policy: the exact rules in force")
    opened_at: datetime | None
    first_alert_at: datetime | None = Field(description="earliest alert starts_at, else its arrival")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_by_alerts: bool = Field(
        default=False, description="nobody acked before every alert resolved: no time to acknowledge"
    )
    mitigated_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    time_to_detect_seconds: float | None
    time_to_acknowledge_seconds: float | None
    time_to_mitigate_seconds: float | None
    time_to_resolve_seconds: float | None
    ack_deadline_seconds: float | None
    acknowledged_within_deadline: bool | None
    pages: int
    page_log: list[Escalation]
    paged: list[str]
    escalations: list[Escalation]
    highest_level: int
    approvals: list[ApprovalWait]
    alert_count: int
    alert_sources: dict[str, int]
    correlated_alerts: int
    roles: dict[str, str]
    impact: ImpactFacts
    false_positive: bool
    decision_points: list[DecisionPoint]
    went_well: list[str]
    timeline: list[TimelineEvent]


def policy_version(policy: Policy) -> str:
    """A short digest of the pinned snapshot: two incidents under the same version ran under the same rules."""
    canonical = policy.model_dump_json(exclude_none=False).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()[:12]


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Whole seconds between the two moments as the timeline shows them (to the second), so a duration always
    agrees with the timestamps printed beside it, however many milliseconds each step took."""
    if start is None or end is None:
        return None
    return max((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds(), 0.0)


def ack_deadline_seconds(policy: Policy | None, severity: Severity | None) -> float | None:
    """The policy's ack target for a severity; `next_business_day` has no fixed length, so None."""
    if policy is None or severity is None:
        return None
    deadline = policy.escalation.ack_deadline.get(severity)
    return deadline.total_seconds() if isinstance(deadline, timedelta) else None


def first_alert_at(timeline: list[TimelineEvent]) -> datetime | None:
    """When the problem started as the monitors saw it: the earliest `starts_at` an alert carried, else the
    earliest alert's arrival."""
    moments: list[datetime] = []
    for event in timeline:
        if event.kind is not EventKind.ALERT or event.details.get("recurrence"):
            continue
        starts_at = event.details.get("starts_at")
        moments.append(_as_datetime(starts_at) if starts_at else event.at)
    return min(moments, default=None)


def _as_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def resolved_at(timeline: list[TimelineEvent]) -> datetime | None:
    return next((event.at for event in timeline if event.kind is EventKind.RESOLVED), None)


def approval_waits(actions: list[ActionView], until: datetime | None) -> list[ApprovalWait]:
    """Every approval decision with its wait; an action still waiting counts until `until` (resolution)."""
    waits: list[ApprovalWait] = []
    for action in actions:
        base = {"action": action.name, "risk": action.risk, "requested_by": action.requested_by,
                "requested_at": action.requested_at, "state": action.state.value}  # fmt: skip
        for approval in action.approvals:
            waits.append(ApprovalWait(
                **base, decided_by=approval.by, decided_at=approval.at, decision=approval.decision,
                waited_seconds=seconds_between(action.requested_at, approval.at),
            ))  # fmt: skip
        if not action.approvals and action.state.value == "awaiting_approval":
            waits.append(ApprovalWait(**base, decided_by=None, decided_at=None, decision=None,
                                      waited_seconds=seconds_between(action.requested_at, until)))  # fmt: skip
    return waits


def is_page(event: TimelineEvent) -> bool:
    """A page the duty engine sent (the first one, or a higher level's); a human's `escalate` request is an
    ESCALATED event too, but a decision, not a page: the page it causes is recorded on its own."""
    return event.kind is EventKind.PAGED or (event.kind is EventKind.ESCALATED and "duty" in event.details)


def page_log(timeline: list[TimelineEvent], acknowledged_at: datetime | None) -> list[Escalation]:
    """Every page the duty engine sent, with its level and how long it waited for the acknowledgement."""
    found = []
    for event in filter(is_page, timeline):
        level = event.details.get("level")
        if level is None and (match := _LEVEL.search(event.summary)):
            level = int(match.group(1))
        waited = (
            seconds_between(event.at, acknowledged_at)
            if acknowledged_at and acknowledged_at >= event.at
            else None
        )
        found.append(Escalation(at=event.at, level=level, actor=event.actor, summary=event.summary,
                                first=event.kind is EventKind.PAGED, acknowledged_after_seconds=waited))  # fmt: skip
    return found


def decision_points(timeline: list[TimelineEvent]) -> list[DecisionPoint]:
    """Walk the timeline once, keeping what was known so far, and stop at every decision."""
    alerts, paged = 0, 0
    sources: list[str] = []
    severity: str | None = None
    acknowledged = False
    points = []
    for event in timeline:
        if event.kind in DECISION_KINDS:
            known = Known(alerts=alerts, alert_sources=list(sources), severity=severity, paged=paged,
                          acknowledged=acknowledged)  # fmt: skip
            points.append(DecisionPoint(at=event.at, decision=DECISION_KINDS[event.kind], actor=event.actor,
                                        summary=event.summary, known=known))  # fmt: skip
        if event.kind is EventKind.ALERT and not event.details.get("recurrence"):
            alerts += 1
            if event.actor not in sources:
                sources.append(event.actor)
        elif event.kind in (EventKind.CLASSIFIED, EventKind.RECLASSIFIED):
            severity = event.details.get("severity") or _severity_in(event.summary) or severity
        elif is_page(event) and event.details.get("delivered", True):
            paged += 1
        elif event.kind is EventKind.ACKNOWLEDGED:
            acknowledged = True
    return points


def _severity_in(text: str) -> str | None:
    match = re.search(r"SEV-[1-4]", text)
    return match.group(0) if match else None


def impact_facts(impact: Impact, started: datetime | None, ended: datetime | None) -> ImpactFacts:
    duration = seconds_between(started, ended)
    estimate = (
        impact.revenue_per_hour * duration / 3600
        if impact.revenue_per_hour is not None and duration is not None
        else None
    )
    flags = [name for name, present in (("security breach", impact.security_breach),
             ("data corruption", impact.data_corruption), ("regulatory exposure", impact.regulatory)) if present]  # fmt: skip
    return ImpactFacts(
        users_affected=impact.users_affected, user_scope=impact.user_scope, regions=list(impact.regions),
        function=impact.function, revenue_per_hour=impact.revenue_per_hour, impact_seconds=duration,
        revenue_at_risk_estimate=estimate, flags=flags,
    )  # fmt: skip


def went_well(facts: PostmortemFacts) -> list[str]:
    """Observations the data supports, in neutral words; the review adds the rest."""
    notes = []
    if facts.acknowledged_within_deadline:
        notes.append(
            f"Acknowledged in {human_duration(facts.time_to_acknowledge_seconds)}, within the "
            f"{human_duration(facts.ack_deadline_seconds)} target for {facts.severity}."
        )
    if facts.pages and facts.highest_level <= 1 and facts.time_to_acknowledge_seconds is not None:
        notes.append("The first escalation level was enough: no one beyond it had to be paged.")
    if facts.correlated_alerts:
        notes.append(
            f"{facts.correlated_alerts} related alert(s) were correlated into this incident instead of "
            "opening incidents of their own."
        )
    decided = [wait for wait in facts.approvals if wait.waited_seconds is not None and wait.decided_at]
    if decided:
        longest = max(wait.waited_seconds or 0.0 for wait in decided)
        notes.append(f"{len(decided)} approval decision(s) recorded with who and when; the longest wait "
                     f"was {human_duration(longest)}.")  # fmt: skip
    if (
        facts.mitigated_at is not None
        and facts.resolved_at is not None
        and facts.mitigated_at < facts.resolved_at
    ):
        notes.append("Impact was mitigated before the full resolution.")
    if facts.roles:
        notes.append(
            "Roles were assigned: " + ", ".join(f"{role} {who}" for role, who in facts.roles.items()) + "."
        )
    return notes


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def compute_facts(
    status: IncidentStatus,
    *,
    opened_at: datetime | None = None,
    policy: Policy | None = None,
    impact: Impact | None = None,
    false_positive: bool = False,
) -> PostmortemFacts:
    """All facts from one status whose timeline is whole (the archive's events included)."""
    timeline = sorted(
        status.timeline, key=lambda event: (event.at, event.seq if event.seq is not None else -1)
    )
    opened = opened_at or (timeline[0].at if timeline else None)
    resolved = resolved_at(timeline)
    first_alert = first_alert_at(timeline)
    detect_from = (
        first_alert if first_alert is not None and opened is not None and first_alert <= opened else None
    )
    ack_target = ack_deadline_seconds(policy, status.severity)
    acknowledged_by_person_at = None if status.acknowledged_by_alerts else status.acknowledged_at
    to_ack = seconds_between(opened, acknowledged_by_person_at)
    pages = page_log(timeline, acknowledged_by_person_at)
    found_escalations = [page for page in pages if not page.first]
    alert_events = [e for e in timeline if e.kind is EventKind.ALERT and not e.details.get("recurrence")]
    sources: dict[str, int] = {}
    for event in alert_events:
        sources[event.actor] = sources.get(event.actor, 0) + 1
    impact_end = status.mitigated_at or resolved
    facts = PostmortemFacts(
        incident_id=status.incident_id,
        occurrence=status.occurrence or status.incident_id,
        service=status.service,
        summary=status.summary,
        severity=status.severity,
        severity_reasons=status.classification.reasons if status.classification else [],
        classified_by=status.classification.decided_by if status.classification else None,
        policy_name=policy.name if policy else None,
        policy_version=policy_version(policy) if policy else None,
        opened_at=opened,
        first_alert_at=first_alert,
        acknowledged_at=status.acknowledged_at,
        acknowledged_by=status.acknowledged_by,
        acknowledged_by_alerts=status.acknowledged_by_alerts,
        mitigated_at=status.mitigated_at,
        resolved_at=resolved,
        resolved_by=status.resolved_by,
        time_to_detect_seconds=seconds_between(detect_from, opened),
        time_to_acknowledge_seconds=to_ack,
        time_to_mitigate_seconds=seconds_between(opened, status.mitigated_at),
        time_to_resolve_seconds=seconds_between(opened, resolved),
        ack_deadline_seconds=ack_target,
        acknowledged_within_deadline=(to_ack <= ack_target) if to_ack is not None and ack_target else None,
        pages=len(pages),
        page_log=pages,
        paged=list(status.paged),
        escalations=found_escalations,
        highest_level=max([status.escalation_level, *(e.level or 0 for e in found_escalations)], default=0),
        approvals=approval_waits(status.actions, resolved),
        alert_count=max(status.alert_count, len(alert_events)),
        alert_sources=sources,
        correlated_alerts=sum(1 for event in timeline if event.kind is EventKind.CORRELATED),
        roles=dict(status.roles),
        impact=impact_facts(impact or Impact(), first_alert if detect_from else opened, impact_end),
        false_positive=false_positive,
        decision_points=decision_points(timeline),
        went_well=[],
        timeline=timeline,
    )
    facts.went_well = went_well(facts)
    return facts
