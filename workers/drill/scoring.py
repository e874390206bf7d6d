"""The scorecard of a drill: what the policy and the incident guide ask for, against what happened. Pure: a
function of the `DrillRun`, unit-tested without a server.

Times are shown on the drill's clock (from the scenario's start, where its script is written), cut to the
second. What the policy measures is measured from the incident's response start (the moment it was
classified and paging began), the way the escalation tests state the policy's timings ("level 2 at exactly
15:00"). Each miss names the policy rule it measures and by how much it was missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from workers.drill.record import DrillRun, IncidentRecord
from workers.drill.recording import RecordedNotification
from workflows.durations import format_duration
from workflows.messages.common import Severity
from workflows.messages.notifications import NotificationKind
from workflows.messages.status import EventKind, TimelineEvent
from workflows.policy import Policy
from workflows.roster import WEEKDAYS

SYSTEM = "warroom"  # the actor of what the workflow does by itself (workflows/incident/domain.py)
# The policy says when a business day starts; a working day is taken as this long from then.
WORKING_DAY = timedelta(hours=8)
PAGING = {NotificationKind.PAGE, NotificationKind.ESCALATION}
# Duties that page people (the rest of the escalation-kind messages are notices: business, management, ...).
PAGE_DUTIES = {"ack", "open", "cross-team", "manual"}
RULE_OF_DUTY = {
    "ack": "escalation.ack_deadline",
    "open": "escalation.open_escalations",
    "cross-team": "escalation.cross_team_level",
    "manual": "escalate (by hand)",
    "management": "management",
    "business": "business",
    "regulatory": "regulatory",
    "status": "status_updates",
}


def clock(offset: timedelta | None) -> str:
    """+H:MM:SS, cut to the second (hours keep counting past a day: +72:00:00)."""
    if offset is None:
        return "-"
    sign = "-" if offset < timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def seconds(offset: timedelta) -> timedelta:
    """To the nearest second: the server's clock runs in real time while the worker works, so what happens
    at an instant is recorded a few milliseconds after it (more on a loaded machine)."""
    return timedelta(seconds=round(offset.total_seconds()))


@dataclass(frozen=True)
class Times:
    drill: datetime
    response: datetime

    def show(self, moment: datetime) -> str:
        return clock(seconds(moment - self.drill))

    def since_response(self, moment: datetime) -> timedelta:
        return seconds(moment - self.response)


class Page(BaseModel):
    """One notification that reached people: who, when, over which channel, and whether it woke them."""

    at: timedelta
    kind: str
    channel: str
    recipients: list[str]
    step: str
    paging: bool = Field(description="a page of an escalation level, not a notice or an update")
    out_of_hours: bool


class Escalation(BaseModel):
    duty: str
    rule: str
    level: int | None
    at: timedelta = Field(description="on the drill's clock")
    after_response: timedelta = Field(description="what the policy measures: since the response started")
    expected: timedelta | None = Field(
        description="when the policy puts it after the response start, where it has one formula"
    )
    people: list[str]
    why: str


class Check(BaseModel):
    rule: str
    ok: bool
    detail: str
    missed_by: timedelta | None = None


class IncidentScore(BaseModel):
    incident_id: str
    service: str | None
    severity: Severity | None
    response_started_at: datetime | None
    pages: list[Page]
    escalations: list[Escalation]
    checks: list[Check]
    mtta: timedelta | None = Field(
        description="from the first page (the response start) to the acknowledgement"
    )
    mttr: timedelta | None = Field(description="from the first alert sent to resolution")
    roles: dict[str, str]
    people_paged: list[str]
    wake_ups: int = Field(description="people paged outside business hours, counted per page")
    warnings: list[str] = Field(
        default_factory=list, description="what the incident warned about, and commands it rejected"
    )

    @property
    def misses(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


class Scorecard(BaseModel):
    scenario: str
    policy: str
    policy_file: str
    started_at: datetime
    incidents: list[IncidentScore]

    @property
    def misses(self) -> int:
        return sum(len(incident.misses) for incident in self.incidents)


def score(run: DrillRun) -> Scorecard:
    return Scorecard(
        scenario=run.scenario, policy=run.policy_name, policy_file=run.policy_file, started_at=run.started_at,
        incidents=[score_incident(run, incident) for incident in run.incidents],
    )  # fmt: skip


def score_incident(run: DrillRun, incident: IncidentRecord) -> IncidentScore:
    policy, events = run.policy, incident.events
    zero = response_start(events)
    severity = incident.status.severity
    end = first(events, EventKind.RESOLVED)
    ended_at = end.at if end else run.ended_at
    notifications = [n for n in run.notifications if n.incident_id == incident.incident_id]
    times = Times(drill=run.started_at, response=zero or run.started_at)
    detected = first_alert_sent(run, incident.incident_id) or times.response
    pages = [page_of(n, run.started_at, policy) for n in notifications]
    # The alerts resolving acknowledges too (it stops the pages), but nobody answered: it scores as no ack.
    ack = next(
        (e for e in events if e.kind is EventKind.ACKNOWLEDGED and not e.details.get("by_alerts")), None
    )
    checks: list[Check] = []
    if zero is not None and severity is not None:
        checks += ack_checks(policy, severity, times, ack, [page for page in pages if page.paging])
        checks += cadence_checks(policy, severity, times, events, ended_at)
        checks += notice_checks(policy, times, events)
        checks += regulatory_checks(incident, times, events, run.ended_at)
        checks += role_checks(policy, severity, incident.status.roles, events)
    checks += approval_checks(incident, times, run.ended_at)
    checks += review_checks(incident, times, run.ended_at)
    return IncidentScore(
        incident_id=incident.incident_id, service=incident.status.service, severity=severity,
        response_started_at=zero, pages=pages,
        escalations=escalations(policy, severity, events, times),
        warnings=[
            e.summary if e.kind is EventKind.WARNING else f"{e.actor}'s command was rejected: {e.summary}"
            for e in events
            if e.kind in (EventKind.WARNING, EventKind.REJECTED)
        ],
        checks=checks, mtta=times.since_response(ack.at) if ack else None,
        mttr=seconds(end.at - detected) if end else None,
        roles=dict(incident.status.roles), people_paged=list(incident.status.paged),
        wake_ups=sum(len(page.recipients) for page in pages if page.paging and page.out_of_hours),
    )  # fmt: skip


def first_alert_sent(run: DrillRun, incident_id: str) -> datetime | None:
    """MTTR counts from detection: when the first alert of the incident left its sender."""
    sent = [
        delivery.sent_at
        for delivery in run.deliveries
        if any(isinstance(i, dict) and i.get("incident_id") == incident_id for i in _opened(delivery.answer))
    ]
    return min(sent) if sent else None


def _opened(answer: dict[str, object]) -> list[object]:
    incidents = answer.get("incidents")
    return incidents if isinstance(incidents, list) else []


def response_start(events: list[TimelineEvent]) -> datetime | None:
    return next((e.at for e in events if e.kind is EventKind.PHASE and e.summary == "phase response"), None)


def first(events: list[TimelineEvent], kind: EventKind, human: bool = False) -> TimelineEvent | None:
    return next((e for e in events if e.kind is kind and not (human and e.actor == SYSTEM)), None)


def in_business_hours(policy: Policy, moment: datetime) -> bool:
    hours = policy.escalation.business_hours
    if WEEKDAYS[moment.weekday()] not in hours.days:
        return False
    opening = datetime.combine(moment.date(), hours.start, tzinfo=moment.tzinfo)
    return opening <= moment < opening + WORKING_DAY


def page_of(notification: RecordedNotification, zero: datetime, policy: Policy) -> Page:
    step = notification.step.rsplit("/", 1)[0]  # the last part is the channel
    return Page(
        at=seconds(notification.at - zero), kind=notification.kind.value, channel=notification.channel,
        recipients=notification.recipients, step=step,
        paging=notification.kind in PAGING and step.split("/")[0] in PAGE_DUTIES,
        out_of_hours=not in_business_hours(policy, notification.at),
    )  # fmt: skip


# ---------------------------------------------------------------------- escalations


def escalations(
    policy: Policy, severity: Severity | None, events: list[TimelineEvent], times: Times
) -> list[Escalation]:
    classified = sum(e.kind is EventKind.CLASSIFIED for e in events)
    steady = classified <= 1 and not any(
        e.kind in (EventKind.RECLASSIFIED, EventKind.SNOOZED) for e in events
    )
    found = []
    for event in events:
        duty = str(event.details.get("duty", ""))
        if event.kind not in (EventKind.PAGED, EventKind.ESCALATED) or not duty:
            continue
        level = _level(duty)
        found.append(
            Escalation(
                duty=duty, rule=RULE_OF_DUTY.get(duty.split("/")[0], duty.split("/")[0]), level=level,
                at=seconds(event.at - times.drill), after_response=times.since_response(event.at),
                expected=expected_offset(policy, severity, duty) if steady and severity else None,
                people=_people(event.summary), why=_why(event.summary),
            )
        )  # fmt: skip
    return found


def _level(duty: str) -> int | None:
    parts = duty.split("/")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _people(summary: str) -> list[str]:
    names = summary.split(": ", 1)[-1].split(" (", 1)[0]
    return [name.strip() for name in names.split(",") if name.strip()]


def _why(summary: str) -> str:
    """`paged level 1: a, b (page level 1 (on-call))` -> `page level 1 (on-call)`."""
    if " (" not in summary:
        return summary
    inside = summary.split(" (", 1)[1]
    return inside[:-1] if inside.endswith(")") else inside


def expected_offset(policy: Policy, severity: Severity, duty: str) -> timedelta | None:
    """When the policy puts a page of the ack chain or of the open rule, from the response start."""
    parts = duty.split("/")
    deadline = policy.escalation.ack_deadline.get(severity)
    if parts[0] == "ack" and isinstance(deadline, timedelta):
        level = int(parts[1])
        repeat = int(parts[2].split("-")[1]) if len(parts) > 2 and parts[2].startswith("repeat-") else 0
        return deadline * (level - 1 + repeat)
    if parts[0] == "open":
        rule = next((r for r in policy.escalation.open_escalations if r.level == int(parts[1])), None)
        return rule.after.get(severity) if rule else None
    return None


# ---------------------------------------------------------------------- checks


def ack_checks(
    policy: Policy, severity: Severity, times: Times, ack: TimelineEvent | None, pages: list[Page]
) -> list[Check]:
    deadline = policy.escalation.ack_deadline.get(severity)
    rule = f"escalation.ack_deadline {severity.value} ({_span(deadline)})"
    if ack is None:
        return [
            Check(rule=rule, ok=False, detail=f"never acknowledged; {len(pages)} page(s) went unanswered")
        ]
    taken = times.since_response(ack.at)
    said = (
        f"acknowledged by {ack.actor} at {times.show(ack.at)}, {format_duration(taken)} after the first page"
    )
    if not isinstance(deadline, timedelta) or taken <= deadline:
        return [Check(rule=rule, ok=True, detail=said)]
    late = taken - deadline
    return [Check(rule=rule, ok=False, missed_by=late, detail=f"{said}: {format_duration(late)} late")]


def cadence_checks(
    policy: Policy, severity: Severity, times: Times, events: list[TimelineEvent], ended_at: datetime
) -> list[Check]:
    """An update is due `every` after the response starts and after each update, until resolution."""
    every = policy.status_updates.every.get(severity)
    if every is None:
        return []
    rule = f"status_updates.every {severity.value} ({format_duration(every)})"
    posted = [e for e in events if e.kind is EventKind.STATUS_UPDATE and e.actor != SYSTEM]
    checks, anchor = [], times.response
    for update in [*posted, None]:
        due = anchor + every
        moment = update.at if update else ended_at
        late = seconds(moment - due)
        if late > timedelta(0):
            what = (
                f"posted by {update.actor} at {times.show(update.at)}, {format_duration(late)} late"
                if update
                else "none posted"
            )
            checks.append(Check(rule=rule, ok=False, missed_by=late if update else None,
                                detail=f"update due at {times.show(due)} missed: {what}"))  # fmt: skip
        elif update is not None:
            checks.append(Check(rule=rule, ok=True,
                                detail=f"update by {update.actor} at {times.show(update.at)}"))  # fmt: skip
        if update is not None:
            anchor = update.at
    return checks


def notice_checks(policy: Policy, times: Times, events: list[TimelineEvent]) -> list[Check]:
    """Business and management notices: sent within their window (the workflow sends them itself)."""
    windows = {f"business/{rule.name}": (f"business '{rule.name}'", rule.within) for rule in policy.business}
    windows |= {
        f"management/{severity.value}": (f"management {severity.value}", notice.within)
        for severity, notice in policy.management.items()
    }
    checks = []
    for event in events:
        duty = str(event.details.get("duty", ""))
        if duty not in windows or event.kind is not EventKind.NOTIFIED:
            continue
        name, within = windows[duty]
        sent = times.since_response(event.at)
        late = sent - within
        checks.append(
            Check(rule=f"{name} within {format_duration(within)}", ok=late <= timedelta(0),
                  missed_by=late if late > timedelta(0) else None,
                  detail=f"sent at {times.show(event.at)} to {', '.join(_people(event.summary.replace(' -> ', ': ')))}")
        )  # fmt: skip
    return checks


def regulatory_checks(
    incident: IncidentRecord, times: Times, events: list[TimelineEvent], ended_at: datetime
) -> list[Check]:
    deadline = incident.status.regulatory_deadline
    if deadline is None:
        return []
    rule = f"regulatory.deadline (due {times.show(deadline)})"
    done = first(events, EventKind.REGULATORY, human=True)
    reminders = [e for e in events if e.kind is EventKind.REGULATORY and e.actor == SYSTEM]
    sent = f"; {len(reminders)} reminder(s) sent" if reminders else ""
    if done is None:
        left = deadline - ended_at
        state = f"{format_duration(seconds(left))} left" if left > timedelta(0) else "OVERDUE"
        return [Check(rule=rule, ok=left > timedelta(0), detail=f"not recorded by the drill's end ({state}){sent}",
                      missed_by=seconds(-left) if left < timedelta(0) else None)]  # fmt: skip
    late = seconds(done.at - deadline)
    at = times.show(done.at)
    if late > timedelta(0):
        return [Check(rule=rule, ok=False, missed_by=late,
                      detail=f"recorded by {done.actor} at {at}, {format_duration(late)} late{sent}")]  # fmt: skip
    return [Check(rule=rule, ok=True, detail=f"recorded by {done.actor} at {at}, "
                  f"{format_duration(seconds(deadline - done.at))} to spare{sent}")]  # fmt: skip


def role_checks(
    policy: Policy, severity: Severity, roles: dict[str, str], events: list[TimelineEvent]
) -> list[Check]:
    checks = []
    for role in policy.roles.required.get(severity, []):
        person = roles.get(role)
        checks.append(
            Check(rule=f"roles.required {severity.value}: {role}", ok=person is not None,
                  detail=f"{role}: {person}" if person else f"{role} never filled")
        )  # fmt: skip
    return checks


def review_checks(incident: IncidentRecord, times: Times, ended_at: datetime) -> list[Check]:
    """The post-mortem review (issue 10): completed by its due date, with the action items it started."""
    review = incident.review
    if review is None:
        return []
    rule = f"analysis.review.due_within (due {times.show(review.due_at)})"
    who = f"facilitator {review.facilitator or 'none'}"
    if review.completed_at is None:
        overdue = seconds(ended_at - review.due_at)
        if overdue > timedelta(0):
            return [Check(rule=rule, ok=False, missed_by=overdue,
                          detail=f"still open at the drill's end, {format_duration(overdue)} overdue ({who})")]  # fmt: skip
        return [Check(rule=rule, ok=True, detail=f"open at the drill's end, not yet due ({who})")]
    late = seconds(review.completed_at - review.due_at)
    items = f"{len(review.action_items)} action item(s) started"
    said = f"completed by {review.completed_by} at {times.show(review.completed_at)} ({who}); {items}"
    if late > timedelta(0):
        return [Check(rule=rule, ok=False, missed_by=late, detail=f"{said}: {format_duration(late)} late")]
    return [Check(rule=rule, ok=True, detail=said)]


def approval_checks(incident: IncidentRecord, times: Times, ended_at: datetime) -> list[Check]:
    """How long each containment action that needed approval waited for its decision (issue 9's actions);
    one never decided (still waiting, or expired to its safe default) is a miss."""
    checks = []
    for action in incident.status.actions:
        if action.risk != "approval":  # automatic actions run unasked; human-only ones are tasks
            continue
        decided = action.approvals[-1].at if action.approvals else None
        waited = seconds((decided or ended_at) - action.requested_at)
        who = (
            f"{action.approvals[-1].decision} by {action.approvals[-1].by}"
            if action.approvals
            else f"undecided ({action.state.value})"
        )
        checks.append(
            Check(rule=f"approval of '{action.name}' ({action.risk})", ok=decided is not None,
                  detail=f"requested at {times.show(action.requested_at)}, {who} after "
                  f"{format_duration(waited)}")
        )  # fmt: skip
    return checks


def _span(deadline: object) -> str:
    return format_duration(deadline) if isinstance(deadline, timedelta) else str(deadline)


def business_hours_text(policy: Policy) -> str:
    hours = policy.escalation.business_hours
    closing = (datetime.combine(datetime(2000, 1, 1).date(), hours.start) + WORKING_DAY).time()
    return f"{','.join(hours.days)} {hours.start:%H:%M}-{closing:%H:%M} UTC"
