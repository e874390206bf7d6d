"""What is due when: every timed duty of an incident as a pure function of what the incident knows.

The workflow keeps no timers of its own design: it asks `pending_obligations(policy, facts)` for the duties not
yet done, sleeps until the earliest, then asks again (so an acknowledgement that arrived in the same workflow
task has already removed the pages it makes unnecessary). Each duty has a stable id; the workflow records the
ids it has carried out, so a duty happens at most once. Times are absolute, anchored on facts, so recomputing
after any change (reclassification, snooze, a status update) lands on the same instants.

Duties:
- ack chain     until acknowledged: level 1 at once, each next level one ack deadline later, the last
                level re-paged `final_level_repeats` times;
- open          still open (unresolved) after a while: engage a level (SEV-1: level 3 at once);
- cross-team    the incident touches more than one team: engage the cross-team level;
- management    per severity, an audience told within a window unless a page already reached that level;
- business      customer support / executive briefing / compliance, by their deadline or at resolution;
- regulatory    reminders and the notification deadline, until a human records the notification;
- status        an update is due every interval; a miss nudges comms, then escalates to the IC.

Two rules apply across them: a page that failed on every channel is offered again after
`escalation.page_retry.every` (the workflow records the failure in `failed` instead of `done`), and a snooze
moves pages, notices and nudges to its end, except while the incident is SEV-1 and never a human `escalate`.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from workflows.durations import format_duration
from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.policy import (
    NEXT_BUSINESS_DAY,
    BusinessEscalation,
    BusinessHours,
    EscalationPolicy,
    PageRetry,
    Policy,
)
from workflows.roster import WEEKDAYS


class DutyKind(StrEnum):
    """What performing the duty means: page a level, or send one kind of notice. Values are the old strings."""

    PAGE = "page"
    NOTICE = "notice"
    BUSINESS = "business"
    REGULATORY = "regulatory"
    NUDGE = "nudge"
    UPDATE = "update"
    CUSTOMER_UPDATE = "customer_update"
    ACK_NOTICE = "ack_notice"


class DutyRule(StrEnum):
    """Which rule of the policy (or which human command) made the duty due."""

    ACK_CHAIN = "ack_chain"
    STILL_OPEN = "still_open"
    CROSS_TEAM = "cross_team"
    MANUAL = "manual"
    POSTED_UPDATE = "posted_update"
    ACKNOWLEDGED = "acknowledged"
    MANAGEMENT = "management"
    BUSINESS = "business"
    REGULATORY = "regulatory"
    STATUS_CADENCE = "status_cadence"
    POSTMORTEM_REVIEW = (
        "postmortem_review"  # the review's reminders and overdue escalations (workflows/review)
    )


SNOOZABLE = {DutyKind.PAGE, DutyKind.NOTICE, DutyKind.NUDGE}


class Obligation(BaseModel):
    """One duty. The id is stable (it is stored in `done` of running incidents); the fields say the rest, so
    nobody parses the id."""

    id: str
    kind: DutyKind
    rule: DutyRule
    due_at: datetime
    description: str
    targets: list[str]
    level: int | None = Field(default=None, description="the level a page engages")
    update_index: int | None = Field(default=None, description="the posted update it sends")
    attempt: int = Field(default=1, description="which try of a page this is; >1 after failures")

    @property
    def ack_chain(self) -> bool:
        return self.rule is DutyRule.ACK_CHAIN


class EscalationFacts(BaseModel):
    """What the incident knows right now; the workflow builds it from its state."""

    severity: Severity
    impact: Impact
    response_started_at: datetime
    acknowledged: bool = False
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    engaged_levels: list[int] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list, description="owning team first")
    cross_team_since: datetime | None = None
    last_update_at: datetime | None = None
    snoozed_until: datetime | None = None
    regulatory_since: datetime | None = None
    regulatory_done: bool = False
    manual_requests: dict[int, datetime] = Field(default_factory=dict, description="level -> when requested")
    posted_updates: dict[int, tuple[datetime, Literal["internal", "customer"]]] = Field(
        default_factory=dict, description="updates posted and not yet sent: index -> (when, audience)"
    )
    done: set[str] = Field(default_factory=set)
    status_slots_done: int = Field(
        default=0,
        description="cadence slots of the current anchor whose nudge and escalation are both done; their ids "
        "may be gone from `done` (the workflow counts them so `done` stays small)",
    )
    failed: dict[str, list[datetime]] = Field(
        default_factory=dict,
        description="page duty id -> when its delivery failed on every channel (the id is not in `done`)",
    )


def next_business_day(moment: datetime, hours: BusinessHours) -> datetime:
    """The start of the next business day strictly after `moment`'s date (UTC)."""
    day = moment
    for _ in range(8):
        day = day + timedelta(days=1)
        if WEEKDAYS[day.weekday()] in hours.days:
            return day.replace(hour=hours.start.hour, minute=hours.start.minute, second=0, microsecond=0)
    raise ValueError("business_hours.days is empty")


def ack_deadline(policy: EscalationPolicy, severity: Severity, started: datetime) -> timedelta:
    deadline = policy.ack_deadline[severity]
    if deadline == NEXT_BUSINESS_DAY:
        return next_business_day(started, policy.business_hours) - started
    assert isinstance(deadline, timedelta)
    return deadline


def is_customer_facing(impact: Impact) -> bool:
    return bool(impact.users_affected) or impact.user_scope is not None or bool(impact.revenue_per_hour)


def has_data_or_compliance_impact(impact: Impact) -> bool:
    return impact.security_breach or impact.regulatory


def _ack_chain(policy: EscalationPolicy, facts: EscalationFacts) -> list[Obligation]:
    if facts.acknowledged or facts.resolved_at is not None:
        return []
    start = facts.response_started_at
    step = ack_deadline(policy, facts.severity, start)
    levels = policy.levels
    duties = []
    for number, level in enumerate(levels, start=1):
        if number > 1 and number in facts.engaged_levels:
            continue  # already engaged by another rule; the chain does not page it twice
        duties.append(
            Obligation(
                id=f"ack/{number}",
                kind=DutyKind.PAGE,
                rule=DutyRule.ACK_CHAIN,
                due_at=start + step * (number - 1),
                level=number,
                targets=level.targets,
                description=f"page level {number} ({level.name})"
                + (" if nobody acknowledges" if number > 1 else ""),
            )
        )
    final = len(levels)
    for repeat in range(1, policy.final_level_repeats + 1):
        duties.append(
            Obligation(
                id=f"ack/{final}/repeat-{repeat}",
                kind=DutyKind.PAGE,
                rule=DutyRule.ACK_CHAIN,
                due_at=start + step * (final - 1 + repeat),
                level=final,
                targets=levels[-1].targets,
                description=f"re-page level {final} ({levels[-1].name}) if nobody acknowledges",
            )
        )
    return duties


def _open_and_cross_team(policy: EscalationPolicy, facts: EscalationFacts) -> list[Obligation]:
    if facts.resolved_at is not None:
        return []
    duties = []
    for rule in policy.open_escalations:
        after = rule.after.get(facts.severity)
        if after is None or rule.level in facts.engaged_levels:
            continue  # absent: this severity is never escalated to the level by time alone
        level = policy.levels[rule.level - 1]
        duties.append(
            Obligation(
                id=f"open/{rule.level}",
                kind=DutyKind.PAGE,
                rule=DutyRule.STILL_OPEN,
                level=rule.level,
                targets=level.targets,
                due_at=facts.response_started_at + after,
                description=f"engage level {rule.level} ({level.name}): {rule.describe(facts.severity)}",
            )
        )
    cross = policy.cross_team_level
    if cross and facts.cross_team_since and cross not in facts.engaged_levels:
        level = policy.levels[cross - 1]
        duties.append(
            Obligation(
                id=f"cross-team/{cross}",
                kind=DutyKind.PAGE,
                rule=DutyRule.CROSS_TEAM,
                level=cross,
                targets=level.targets,
                due_at=facts.cross_team_since,
                description=f"engage level {cross} ({level.name}): teams {', '.join(facts.teams)} involved",
            )
        )
    return duties


def _manual(policy: EscalationPolicy, facts: EscalationFacts) -> list[Obligation]:
    duties = []
    for number, requested_at in sorted(facts.manual_requests.items()):
        if number in facts.engaged_levels or number > len(policy.levels):
            continue
        level = policy.levels[number - 1]
        duties.append(
            Obligation(
                id=f"manual/{number}",
                kind=DutyKind.PAGE,
                rule=DutyRule.MANUAL,
                level=number,
                targets=level.targets,
                due_at=requested_at,
                description=f"engage level {number} ({level.name}): escalated by hand",
            )
        )
    return duties


def _posted_updates(facts: EscalationFacts) -> list[Obligation]:
    """A posted status update goes out to its audience, also after resolution."""
    audiences = {"internal": ["incident:paged", "incident:roles"], "customer": ["function:customer_support"]}
    duties = []
    for index, (posted_at, audience) in sorted(facts.posted_updates.items()):
        duty_id = f"update/{index}"
        if duty_id in facts.done:
            continue
        duties.append(
            Obligation(
                id=duty_id,
                kind=DutyKind.UPDATE if audience == "internal" else DutyKind.CUSTOMER_UPDATE,
                rule=DutyRule.POSTED_UPDATE,
                due_at=posted_at,
                targets=audiences[audience],
                update_index=index,
                description=f"send the {audience} status update",
            )
        )
    return duties


def _acknowledgement_notice(facts: EscalationFacts) -> list[Obligation]:
    """Everyone paged hears that someone has it, so nobody else starts on the same thing."""
    if facts.acknowledged_at is None or not facts.engaged_levels:
        return []
    return [
        Obligation(
            id="acknowledged",
            kind=DutyKind.ACK_NOTICE,
            rule=DutyRule.ACKNOWLEDGED,
            due_at=facts.acknowledged_at,
            targets=["incident:paged"],
            description="tell everyone paged that the incident is acknowledged",
        )
    ]


def _management(policy: Policy, facts: EscalationFacts) -> list[Obligation]:
    notice = policy.management.get(facts.severity)
    if notice is None or facts.resolved_at is not None:
        return []
    if notice.satisfied_by_level is not None and notice.satisfied_by_level in facts.engaged_levels:
        return []
    return [
        Obligation(
            id=f"management/{facts.severity.value}",
            kind=DutyKind.NOTICE,
            rule=DutyRule.MANAGEMENT,
            targets=notice.notify,
            due_at=facts.response_started_at + notice.within,
            description=f"{facts.severity.value} management notification (within {format_duration(notice.within)})",
        )
    ]


def _business_applies(rule: BusinessEscalation, facts: EscalationFacts) -> bool:
    if rule.when == "customer_facing":
        return is_customer_facing(facts.impact)
    if rule.when == "sev1":
        return facts.severity is Severity.SEV1
    return has_data_or_compliance_impact(facts.impact)


def _business(policy: Policy, facts: EscalationFacts) -> list[Obligation]:
    duties = []
    for rule in policy.business:
        if not _business_applies(rule, facts):
            continue
        due = facts.response_started_at + rule.within
        if facts.resolved_at is not None:
            due = min(due, facts.resolved_at)  # resolved first: tell them now, with the outcome
        duties.append(
            Obligation(
                id=f"business/{rule.name}",
                kind=DutyKind.BUSINESS,
                rule=DutyRule.BUSINESS,
                targets=rule.notify,
                due_at=due,
                description=f"notify {rule.name} (within {format_duration(rule.within)})",
            )
        )
    return duties


def _regulatory(policy: Policy, facts: EscalationFacts) -> list[Obligation]:
    since = facts.regulatory_since
    if since is None or facts.regulatory_done:
        return []
    rules = policy.regulatory
    duties = [
        Obligation(
            id=f"regulatory/reminder-{index}",
            kind=DutyKind.REGULATORY,
            rule=DutyRule.REGULATORY,
            targets=rules.notify,
            due_at=since + after,
            description=f"regulatory notification reminder ({format_duration(after)} of {format_duration(rules.deadline)} elapsed)",
        )
        for index, after in enumerate(rules.reminders, start=1)
        if after < rules.deadline
    ]
    duties.append(
        Obligation(
            id="regulatory/deadline",
            kind=DutyKind.REGULATORY,
            rule=DutyRule.REGULATORY,
            targets=rules.notify,
            due_at=since + rules.deadline,
            description="regulatory notification deadline reached: record it with record_regulatory_notification",
        )
    )
    return duties


def _status_updates(policy: Policy, facts: EscalationFacts) -> list[Obligation]:
    interval = policy.status_updates.every.get(facts.severity)
    if interval is None or facts.resolved_at is not None:
        return []
    anchor = facts.last_update_at or facts.response_started_at
    tag = anchor.isoformat()
    slot = _first_open_slot(tag, facts.done, facts.status_slots_done)
    due = anchor + interval * slot
    nudge = Obligation(
        id=f"status/{tag}/{slot}/nudge",
        kind=DutyKind.NUDGE,
        rule=DutyRule.STATUS_CADENCE,
        due_at=due,
        targets=["role:communications"],
        description="status update due: nudge communications",
    )
    escalation = Obligation(
        id=f"status/{tag}/{slot}/escalate",
        kind=DutyKind.NUDGE,
        rule=DutyRule.STATUS_CADENCE,
        targets=["role:incident_commander"],
        due_at=due + policy.status_updates.escalate_after,
        description="status update missed: escalate to the incident commander",
    )
    return [duty for duty in (nudge, escalation) if duty.id not in facts.done]


def _first_open_slot(tag: str, done: Set[str], floor: int = 0) -> int:
    """The first cadence slot since the anchor whose nudge or escalation is not done yet.

    Slot n+1 is only offered once slot n is done, so the done slots of one anchor are a prefix 1..n: gallop
    then bisect, O(log n) lookups whatever the incident's age (ids of earlier anchors may be dropped, but
    not the prefix of the current one)."""

    def finished(slot: int) -> bool:
        if slot <= floor:  # counted by the workflow, whose ids it no longer keeps
            return True
        return f"status/{tag}/{slot}/nudge" in done and f"status/{tag}/{slot}/escalate" in done

    if not finished(1):
        return 1
    low, high = max(floor, 1), max(floor, 1) + 1  # finished(low) holds, finished(high) is unknown
    while finished(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if finished(middle) else (low, middle)
    return high


def _retried(duty: Obligation, failures: list[datetime], retry: PageRetry) -> Obligation | None:
    """A page that failed on every channel, offered again after the backoff; None once its tries are spent."""
    if len(failures) >= retry.attempts:
        return None
    attempt = len(failures) + 1
    return duty.model_copy(
        update={
            "due_at": max(duty.due_at, max(failures) + retry.every),
            "attempt": attempt,
            "description": f"{duty.description} (try {attempt} of {retry.attempts}: "
            "the last failed on every channel)",
        }
    )


def _snoozed(duty: Obligation, facts: EscalationFacts) -> Obligation:
    """A snooze holds pages, notices and nudges until it ends, but not while the incident is SEV-1 (an upgrade
    ends it at once) and never a human `escalate`: someone asked for that level now."""
    until = facts.snoozed_until
    if (
        until is None
        or duty.due_at >= until
        or duty.kind not in SNOOZABLE
        or duty.rule is DutyRule.MANUAL
        or facts.severity is Severity.SEV1
    ):
        return duty
    return duty.model_copy(update={"due_at": until, "description": f"{duty.description} (after the snooze)"})


def _offered(duty: Obligation, policy: Policy, facts: EscalationFacts) -> Obligation | None:
    """The duty as it stands now: None when done or out of tries, else retried and snoozed as due."""
    if duty.id in facts.done:
        return None
    failures = facts.failed.get(duty.id) if duty.kind is DutyKind.PAGE else None
    if failures:
        retried = _retried(duty, failures, policy.escalation.page_retry)
        if retried is None:
            return None
        duty = retried
    return _snoozed(duty, facts)


def pending_obligations(policy: Policy, facts: EscalationFacts) -> list[Obligation]:
    """Every duty not yet done, soonest first; ties keep the order of the rules above (pages first)."""
    duties = [
        *_ack_chain(policy.escalation, facts),
        *_open_and_cross_team(policy.escalation, facts),
        *_manual(policy.escalation, facts),
        *_posted_updates(facts),
        *_acknowledgement_notice(facts),
        *_management(policy, facts),
        *_business(policy, facts),
        *_regulatory(policy, facts),
        *_status_updates(policy, facts),
    ]
    offered = [duty for duty in (_offered(duty, policy, facts) for duty in duties) if duty is not None]
    return sorted(offered, key=lambda duty: duty.due_at)
