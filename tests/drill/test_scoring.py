"""The scorecard and the comparison are pure functions of a drill's record: tested here on hand-built records
(what the workflow's timeline looks like), without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.policy_file import load_policy_file
from workers.drill.compare import compare
from workers.drill.record import AlertDelivery, DrillRun, IncidentRecord
from workers.drill.recording import RecordedNotification
from workers.drill.report import markdown_report, text_report
from workers.drill.scoring import clock, score
from workflows.messages.action_items import ReviewView
from workflows.messages.common import Phase, Severity
from workflows.messages.notifications import NotificationKind
from workflows.messages.status import EventKind, IncidentStatus, TimelineEvent

POLICY_FILE = Path(__file__).parents[2] / "config" / "policy.yaml"
POLICY = load_policy_file(POLICY_FILE)
START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # a Friday, 02:00 UTC: out of business hours
RESPONSE = START + timedelta(seconds=1)  # the worker takes a moment to open the incident
INCIDENT = "incident-test"


def at(minutes: float) -> datetime:
    return RESPONSE + timedelta(minutes=minutes)


def event(
    kind: EventKind, minutes: float, summary: str = "", actor: str = "warroom", **details: Any
) -> TimelineEvent:
    return TimelineEvent(at=at(minutes), kind=kind, actor=actor, summary=summary, details=details)


def status(severity: Severity = Severity.SEV1, **changes: Any) -> IncidentStatus:
    values: dict[str, Any] = dict(
        incident_id=INCIDENT, phase=Phase.CLOSED, service="checkout", summary="down", severity=severity,
        classification=None, escalation_level=1, paged=["alice"], acknowledged_by=None, acknowledged_at=None,
        mitigated_at=None, resolved_by=None, next_deadline=None, alert_count=1, timeline=[],
        roles={"incident_commander": "judy"},
    )  # fmt: skip
    return IncidentStatus.model_validate({**values, **changes})


def page(
    minutes: float, step: str, people: list[str], kind: NotificationKind = NotificationKind.PAGE
) -> RecordedNotification:
    return RecordedNotification(
        at=at(minutes), incident_id=INCIDENT, channel="pager", kind=kind, recipients=people,
        subject="s", step=f"{step}/pager",
    )  # fmt: skip


def run_of(
    events: list[TimelineEvent], notifications: list[RecordedNotification], **status_changes: Any
) -> DrillRun:
    timeline = [event(EventKind.PHASE, 0, "phase response"), *events]
    return DrillRun(
        scenario="test", policy_name=POLICY.name, policy_file=str(POLICY_FILE), policy=POLICY,
        started_at=START, ended_at=at(240),
        deliveries=[AlertDelivery(sent_at=START, at=RESPONSE, step="a", format="generic",
                                  answer={"incidents": [{"incident_id": INCIDENT, "alerts": 1}]})],
        incidents=[IncidentRecord(incident_id=INCIDENT, status=status(**status_changes), events=timeline)],
        notifications=notifications,
    )  # fmt: skip


def test_a_late_acknowledgement_is_a_miss_of_the_ack_deadline_by_how_late_it_was() -> None:
    card = score(
        run_of([event(EventKind.ACKNOWLEDGED, 19.5, "ack", actor="alice")], [page(0, "ack/1", ["alice"])])
    )
    check = next(c for c in card.incidents[0].checks if c.rule.startswith("escalation.ack_deadline"))
    assert not check.ok
    assert check.rule == "escalation.ack_deadline SEV-1 (15m)"
    assert check.missed_by == timedelta(minutes=4, seconds=30)
    assert card.incidents[0].mtta == timedelta(minutes=19, seconds=30)


def test_the_alerts_resolving_before_anyone_acked_scores_as_no_acknowledgement() -> None:
    """The alerts' resolution acknowledges (it stops the pages) but nobody answered; a person's ack counts."""
    by_alerts = event(EventKind.ACKNOWLEDGED, 5, "acknowledged by alert resolution",
                      actor="alertmanager (all alerts resolved)", by_alerts=True)  # fmt: skip
    card = score(run_of([by_alerts], [page(0, "ack/1", ["alice"])]))
    check = next(c for c in card.incidents[0].checks if c.rule.startswith("escalation.ack_deadline"))
    assert not check.ok and check.detail.startswith("never acknowledged")
    assert card.incidents[0].mtta is None
    later = event(EventKind.ACKNOWLEDGED, 9, "acknowledged", actor="alice")
    assert score(run_of([by_alerts, later], [])).incidents[0].mtta == timedelta(minutes=9)


def test_escalations_are_measured_from_the_response_start_and_set_beside_the_policy() -> None:
    events = [
        event(EventKind.PAGED, 0, "paged level 1: alice (page level 1 (on-call))", duty="ack/1"),
        event(EventKind.ESCALATED, 0.0004, "paged level 3: vic (engage level 3 (executive): SEV-1 engages it at once)", duty="open/3"),
        event(EventKind.ESCALATED, 15.0003, "paged level 2: erin, frank (page level 2 (management) if nobody acknowledges)", duty="ack/2"),
    ]  # fmt: skip
    fired = {e.duty: e for e in score(run_of(events, [])).incidents[0].escalations}
    assert fired["ack/2"].after_response == fired["ack/2"].expected == timedelta(minutes=15)
    assert fired["ack/2"].people == ["erin", "frank"]
    assert fired["ack/2"].why == "page level 2 (management) if nobody acknowledges"
    assert fired["ack/2"].at == timedelta(
        minutes=15, seconds=1
    )  # the drill's clock: the response began at +1 s
    assert fired["open/3"].expected == timedelta(0) and fired["ack/1"].level == 1


def test_status_update_cadence_counts_from_the_last_update_and_names_each_miss() -> None:
    events = [
        event(EventKind.STATUS_UPDATE, 25, "u1", actor="peggy"),
        event(EventKind.STATUS_UPDATE, 70, "u2", actor="peggy"),  # due at 55: 15 min late
        event(
            EventKind.STATUS_UPDATE, 70, "sent", actor="warroom"
        ),  # the workflow's own send is not an update
        event(EventKind.RESOLVED, 110, "resolved", actor="judy"),  # due at 100: none posted
    ]
    checks = [c for c in score(run_of(events, [])).incidents[0].checks if c.rule.startswith("status_updates")]
    assert [c.ok for c in checks] == [True, False, False]
    assert checks[1].missed_by == timedelta(minutes=15)
    assert "update due at +0:55:01 missed: posted by peggy at +1:10:01, 15m late" in checks[1].detail
    assert "none posted" in checks[2].detail


def test_business_notices_and_the_regulatory_clock() -> None:
    events = [
        event(EventKind.NOTIFIED, 30, "notify customer support (within 30m) -> mallory", duty="business/customer support"),
        event(EventKind.NOTIFIED, 61, "notify executive briefing (within 1h) -> grace, heidi", duty="business/executive briefing"),
        event(EventKind.REGULATORY, 24 * 60, "reminder", duty="regulatory/reminder-1"),
        event(EventKind.REGULATORY, 80 * 60, "regulator notified", actor="sybil"),
    ]  # fmt: skip
    checks = {
        c.rule: c for c in score(run_of(events, [], regulatory_deadline=at(72 * 60))).incidents[0].checks
    }
    assert checks["business 'customer support' within 30m"].ok
    late = checks["business 'executive briefing' within 1h"]
    assert not late.ok and late.missed_by == timedelta(minutes=1)
    regulatory = checks["regulatory.deadline (due +72:00:01)"]
    assert not regulatory.ok and regulatory.missed_by == timedelta(hours=8)
    assert "1 reminder(s) sent" in regulatory.detail


def test_pages_out_of_business_hours_are_wake_ups_and_notices_are_not() -> None:
    notifications = [
        page(0, "ack/1", ["alice", "carol"]),
        page(30, "business/customer support", ["mallory"], NotificationKind.ESCALATION),
        page(60, "open/2", ["erin"], NotificationKind.ESCALATION),
    ]
    incident = score(run_of([], notifications)).incidents[0]
    assert incident.wake_ups == 3  # alice, carol and erin at night; mallory's notice wakes nobody by policy
    assert [p.paging for p in incident.pages] == [True, False, True]


def test_required_roles_and_mttr_from_the_first_alert_sent() -> None:
    events = [event(EventKind.RESOLVED, 90, "resolved", actor="judy")]
    incident = score(run_of(events, [], roles={})).incidents[0]
    role = next(c for c in incident.checks if c.rule.startswith("roles.required"))
    assert not role.ok and role.detail == "incident_commander never filled"
    assert incident.mttr == timedelta(
        minutes=90, seconds=1
    )  # the alert left its sender 1 s before the response


def test_compare_lists_only_what_differs() -> None:
    base = [event(EventKind.PAGED, 0, "paged level 1: alice (page level 1 (on-call))", duty="ack/1")]
    one = run_of([*base, event(EventKind.ESCALATED, 60, "paged level 2: erin (x)", duty="open/2")],
                 [page(0, "ack/1", ["alice"]), page(60, "open/2", ["erin"], NotificationKind.ESCALATION)])  # fmt: skip
    other = run_of([*base, event(EventKind.ESCALATED, 30, "paged level 2: erin (x)", duty="open/2")],
                   [page(0, "ack/1", ["alice"]), page(30, "open/2", ["erin"], NotificationKind.ESCALATION)])  # fmt: skip
    other = other.model_copy(update={"policy_file": "other.yaml"})
    comparison = compare(score(one), score(other))
    assert [(d.what, d.before, d.after) for d in comparison.differences] == [
        ("escalation open/2", "+1:00:00 -> erin", "+0:30:00 -> erin")
    ]
    assert comparison.policy_b == "other.yaml"  # same policy name: told apart by file


def test_reports_render_the_timeline_and_every_miss() -> None:
    run = run_of([event(EventKind.ACKNOWLEDGED, 20, "ack", actor="alice")], [page(0, "ack/1", ["alice"])])
    card = score(run)
    text, markdown = text_report(run, card), markdown_report(run, card)
    assert "MISS  escalation.ack_deadline SEV-1 (15m)" in text
    assert "| MISS | escalation.ack_deadline SEV-1 (15m) |" in markdown
    assert "+0:00:01  page  pager" in text
    assert clock(timedelta(hours=72, seconds=3)) == "+72:00:03"


def test_the_postmortem_review_is_scored_against_its_due_date() -> None:
    review = ReviewView(
        review_id="review-x", incident_id=INCIDENT, resolved_at=at(90), due_at=at(90 + 48 * 60),
        facilitator="erin", incident_commander="judy", state="complete", completed_by="judy",
        completed_at=at(90 + 50 * 60), action_items=["item-1", "item-2"],
    )  # fmt: skip
    run = run_of([], [])
    run.incidents[0].review = review
    check = next(c for c in score(run).incidents[0].checks if c.rule.startswith("analysis.review"))
    assert not check.ok and check.missed_by == timedelta(hours=2)
    assert (
        check.detail == "completed by judy at +51:30:01 (facilitator erin); 2 action item(s) started: 2h late"
    )
