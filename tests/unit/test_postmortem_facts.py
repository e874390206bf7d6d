"""Post-mortem facts computed from an incident: times, pages, escalations, approval waits, impact estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.postmortem import render_postmortem_markdown
from workflows.incident.domain import Incident
from workflows.incident.state import Cause, IncidentState, Lifecycle
from workflows.incident.views import status_view
from workflows.messages.alerts import Impact
from workflows.messages.status import ActionState, ActionView, ApprovalView, EventKind
from workflows.policy import Policy, SeverityMatrix
from workflows.postmortem_facts import compute_facts, human_duration, policy_version
from workflows.severity import classify

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def minutes(count: float) -> datetime:
    return T0 + timedelta(minutes=count)


def sev1_incident() -> IncidentState:
    state = IncidentState(
        incident_id="incident-db", occurrence="incident-db@x", cause=Cause(service="inventory-db"),
        lifecycle=Lifecycle(opened_at=T0),
    )  # fmt: skip
    state.lifecycle.classification = classify(Impact(user_scope="all"), SeverityMatrix())
    record = Incident(state).record
    record(
        T0,
        EventKind.ALERT,
        "alertmanager",
        "firing: db down",
        starts_at=(T0 - timedelta(minutes=3)).isoformat(),
    )
    record(minutes(1), EventKind.ALERT, "grafana", "firing: checkout 5xx")
    record(minutes(1), EventKind.CORRELATED, "grafana", "joined: depends on inventory-db")
    record(minutes(1), EventKind.CLASSIFIED, "system", "SEV-1: all users", severity="SEV-1")
    record(minutes(1), EventKind.PAGED, "system", "paged level 1: ana (ack within 15m)", level=1, duty="p1")
    record(minutes(15), EventKind.ESCALATED, "kim", "escalation to level 2 requested: need the DBA")
    record(
        minutes(16), EventKind.ESCALATED, "system", "paged level 2: mia (no ack in 15m)", level=2, duty="p2"
    )
    record(minutes(20), EventKind.ACKNOWLEDGED, "ana", "acknowledged")
    record(minutes(50), EventKind.MITIGATED, "ana", "mitigated: failover")
    record(minutes(90), EventKind.RESOLVED, "ana", "resolved")
    state.response.acknowledged_by, state.response.acknowledged_at = "ana", minutes(20)
    state.response.paged, state.response.engaged_levels = ["ana", "mia"], [1, 2]
    state.lifecycle.mitigated_at = minutes(50)
    state.lifecycle.resolved_by, state.lifecycle.resolved_at = "ana", minutes(90)
    return state


def failover_action(approved_after: float | None) -> ActionView:
    approvals = (
        [ApprovalView(by="cto", at=minutes(30 + approved_after), decision="approved")]
        if approved_after is not None else []
    )  # fmt: skip
    return ActionView(
        id="a1", name="fail over inventory-db", adapter="runbook", risk="high",
        state=ActionState.SUCCEEDED if approvals else ActionState.AWAITING_APPROVAL,
        requested_by="ana", requested_at=minutes(30), approvals=approvals,
    )  # fmt: skip


def test_times_are_measured_from_the_first_alert_start_and_the_open() -> None:
    facts = compute_facts(status_view(sev1_incident(), []), opened_at=T0, policy=Policy())
    assert facts.first_alert_at == T0 - timedelta(minutes=3)
    assert facts.time_to_detect_seconds == 180
    assert facts.time_to_acknowledge_seconds == 20 * 60
    assert facts.time_to_mitigate_seconds == 50 * 60
    assert facts.time_to_resolve_seconds == 90 * 60


def test_ack_is_judged_against_the_policy_target_of_the_severity() -> None:
    facts = compute_facts(status_view(sev1_incident(), []), policy=Policy())
    assert facts.ack_deadline_seconds == 15 * 60 and facts.acknowledged_within_deadline is False
    assert not any("within the" in note for note in facts.went_well)
    state = sev1_incident()
    state.response.acknowledged_at = minutes(10)
    facts = compute_facts(status_view(state, []), policy=Policy())
    assert facts.acknowledged_within_deadline is True
    assert "Acknowledged in 10m 00s, within the 15m 00s target for SEV-1." in facts.went_well


def test_pages_escalations_and_what_was_known_at_each_decision() -> None:
    facts = compute_facts(status_view(sev1_incident(), []))
    # The human's request is a decision, not a page: the page it caused is the one escalation counted.
    assert facts.pages == 2 and [e.level for e in facts.escalations] == [2] and facts.highest_level == 2
    # Each page waited for the acknowledgement at 20m: the first for 19 minutes, the level-2 page for 4.
    assert [page.acknowledged_after_seconds for page in facts.page_log] == [19 * 60, 4 * 60]
    assert facts.alert_sources == {"alertmanager": 1, "grafana": 1} and facts.correlated_alerts == 1
    ack = next(point for point in facts.decision_points if point.decision == "acknowledged")
    assert (ack.known.alerts, ack.known.severity, ack.known.paged, ack.known.acknowledged) == (
        2,
        "SEV-1",
        2,
        False,
    )
    classified = next(point for point in facts.decision_points if point.decision == "severity decided")
    assert classified.known.severity is None and classified.known.alert_sources == ["alertmanager", "grafana"]


def test_approval_waits_count_until_the_decision_or_until_resolution() -> None:
    status = status_view(sev1_incident(), []).model_copy(update={"actions": [failover_action(7.5)]})
    [wait] = compute_facts(status).approvals
    assert (wait.decided_by, wait.decision, wait.waited_seconds) == ("cto", "approved", 450)
    status = status.model_copy(update={"actions": [failover_action(None)]})
    [pending] = compute_facts(status).approvals
    assert pending.decided_by is None and pending.waited_seconds == 60 * 60  # asked at 30m, resolved at 90m


def test_revenue_at_risk_is_an_estimate_of_rate_times_impact_duration() -> None:
    impact = Impact(users_affected=2_000_000, revenue_per_hour=1_200_000, regions=["eu", "us"])
    facts = compute_facts(status_view(sev1_incident(), []), opened_at=T0, impact=impact)
    # Impact runs from the first alert's start (T0 - 3m) to mitigation (T0 + 50m): 53 minutes.
    assert facts.impact.impact_seconds == 53 * 60
    assert facts.impact.revenue_at_risk_estimate == 1_200_000 * 53 / 60
    assert compute_facts(status_view(sev1_incident(), [])).impact.revenue_at_risk_estimate is None


def test_the_policy_version_changes_with_the_rules() -> None:
    assert policy_version(Policy()) == policy_version(Policy())
    assert policy_version(Policy()) != policy_version(Policy(name="other"))
    assert compute_facts(status_view(sev1_incident(), []), policy=Policy()).policy_name == "default"


def test_human_durations() -> None:
    assert [human_duration(s) for s in (None, 5, 65, 3600 + 120)] == ["n/a", "5s", "1m 05s", "1h 02m"]


def test_an_ack_that_only_came_from_the_alerts_resolving_measures_no_time_to_acknowledge() -> None:
    """Nobody answered the pages: the alerts resolved. Before, that counted as acknowledged (in time)."""
    state = sev1_incident()
    state.response.acknowledged_by, state.response.acknowledged_at = (
        "alertmanager (all alerts resolved)",
        minutes(5),
    )
    state.response.acknowledged_by_alerts = True
    status = status_view(state, [])
    facts = compute_facts(status, opened_at=T0, policy=Policy())
    assert facts.acknowledged_by_alerts and facts.time_to_acknowledge_seconds is None
    assert facts.acknowledged_within_deadline is None
    assert all(page.acknowledged_after_seconds is None for page in facts.page_log)
    assert not any("first escalation level was enough" in note for note in facts.went_well)
    markdown = render_postmortem_markdown(status)
    assert "acknowledged by nobody before its alerts resolved" in markdown
    assert "acknowledged after" not in markdown
