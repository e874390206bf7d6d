"""The incident's rules without a server: commands -> verdicts and timeline events (workflows/incident/domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.policy_file import load_policy_file
from workflows.incident.domain import Incident, occurrence_of
from workflows.incident.state import Cause, IncidentState, Lifecycle
from workflows.incident.views import result_view, status_view, template_facts
from workflows.messages.commands import Acknowledge, AssignRole, Resolve, Snooze
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind
from workflows.search_attributes import search_measures

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
POLICY = load_policy_file(Path(__file__).parents[1] / "policy.yaml")


def declared(severity: Severity = Severity.SEV3) -> Incident:
    """Declared by tom with its policy pinned, not classified yet."""
    state = IncidentState(
        incident_id="incident-x",
        occurrence=occurrence_of("incident-x", T0),
        cause=Cause(service="checkout", summary="slow", declared_by="tom", declared_severity=severity),
        lifecycle=Lifecycle(opened_at=T0),
    )
    incident = Incident(state)
    incident.pin_policy(POLICY, None, T0)
    return incident


def opened(severity: Severity = Severity.SEV3) -> Incident:
    incident = declared(severity)
    incident.classify(T0)
    state = incident.state
    state.lifecycle.phase = Phase.RESPONSE
    state.lifecycle.response_started_at = T0
    return incident


def firing(key: str = "k1", event_id: str | None = "e1", status: str = "firing") -> dict[str, object]:
    return {"source": "generic", "dedup_key": key, "event_id": event_id, "status": status,
            "service": "checkout", "summary": "5xx"}  # fmt: skip


def test_acknowledge_applies_once_and_a_second_one_is_ignored_with_who_has_it() -> None:
    incident = opened()
    first = incident.handle_signal("acknowledge", {"by": "bob"}, T0)
    second = incident.handle_signal("acknowledge", {"by": "eve"}, T0 + timedelta(minutes=1))
    assert first.verdict.outcome == "applied" and incident.state.response.acknowledged_by == "bob"
    assert second.verdict.outcome == "ignored" and "already acknowledged by bob" in second.verdict.reason
    assert [event.kind for event in second.events] == [EventKind.IGNORED]


def test_a_repeated_command_id_is_a_no_op_that_records_nothing() -> None:
    incident = opened()
    incident.handle_signal("add_note", {"by": "bob", "text": "one", "command_id": "c1"}, T0)
    before = incident.state.timeline.next_seq
    repeat = incident.handle_signal("add_note", {"by": "bob", "text": "one", "command_id": "c1"}, T0)
    assert repeat.verdict.outcome == "ignored" and incident.state.timeline.next_seq == before


@pytest.mark.parametrize(
    "payload", [None, {}, {"by": ""}, {"by": "bob", "ackd_by": "x"}, "ack", [1, 2]], ids=repr
)
def test_a_bad_payload_is_recorded_as_rejected_with_the_field_and_never_raises(payload: object) -> None:
    incident = opened()
    decision = incident.handle_signal("acknowledge", payload, T0)
    assert decision.verdict.outcome == "rejected" and not incident.state.is_acknowledged
    assert decision.events[0].kind is EventKind.REJECTED and decision.events[0].summary.startswith(
        "acknowledge"
    )


def test_commands_on_a_resolved_incident_are_refused_except_notes_and_the_regulator_record() -> None:
    incident = opened()
    incident.handle_signal("resolve", {"by": "bob"}, T0)
    incident.resolved(T0)
    assert incident.refusal("acknowledge", Acknowledge(by="x")) == "acknowledge: incident already resolved"
    assert incident.handle_signal("add_note", {"by": "bob", "text": "late"}, T0).verdict.outcome == "applied"


def test_the_validator_refuses_an_unknown_person_and_an_overlong_snooze_without_changing_state() -> None:
    incident = opened()
    before = incident.state.model_dump()
    assert "unknown person 'mallory'" in (incident.refusal("assign_role", AssignRole(
        by="bob", role="tech_lead", person="mallory")) or "")  # fmt: skip
    assert "at most" in (incident.refusal("snooze", Snooze(by="bob", duration="9h", reason="x")) or "")
    assert incident.state.model_dump() == before


def test_an_upgrade_to_sev1_ends_a_snooze_and_says_so() -> None:
    incident = opened(Severity.SEV3)
    incident.handle_signal("snooze", {"by": "bob", "duration": "2h", "reason": "flaky"}, T0)
    assert incident.state.response.snoozed_until == T0 + timedelta(hours=2)
    upgrade = {"by": "carol", "severity": "SEV-1", "reason": "checkout down everywhere"}
    decision = incident.handle_signal("reclassify", upgrade, T0 + timedelta(minutes=30))
    assert incident.state.response.snoozed_until is None
    assert any(event.summary == "snooze ended: a SEV-1 is never snoozed" for event in decision.events)


def test_a_firing_alert_after_resolution_is_kept_for_the_next_occurrence_and_a_resolve_is_not() -> None:
    incident = opened()
    incident.add_alert(firing(), T0)
    incident.handle_signal("resolve", {"by": "bob"}, T0)
    incident.resolved(T0 + timedelta(minutes=1))
    assert incident.add_alert(firing(event_id="e2"), T0 + timedelta(minutes=2)) is not None
    assert incident.add_alert(firing(event_id="e3", status="resolved"), T0 + timedelta(minutes=3)) is None
    assert [alert.event_id for alert in incident.state.recurrences] == ["e2"]


def test_a_repeated_alert_delivery_counts_but_records_nothing() -> None:
    incident = opened()
    incident.add_alert(firing(), T0)
    before = incident.state.timeline.next_seq
    assert incident.add_alert(firing(), T0) is None
    assert incident.state.cause.repeated_alerts == 1 and incident.state.timeline.next_seq == before


def test_every_event_is_numbered_and_counted_by_kind() -> None:
    incident = opened()
    for number in range(3):
        incident.handle_signal("add_note", {"by": "bob", "text": f"n{number}"}, T0)
    seqs = [event.seq for event in incident.state.timeline.recent]
    assert seqs == list(range(len(seqs))) and incident.state.timeline.counts[EventKind.NOTE] == 3


def test_occurrences_of_one_incident_id_differ_by_when_they_opened() -> None:
    assert occurrence_of("incident-x", T0) == "incident-x@20261130T100000.000Z"
    assert occurrence_of("incident-x", T0) != occurrence_of("incident-x", T0 + timedelta(milliseconds=1))


def test_an_alert_driven_resolve_survives_a_failed_gate_and_a_human_one_is_refused() -> None:
    incident = opened()
    incident.add_alert(firing(), T0)
    incident.add_alert(firing(event_id="e2", status="resolved"), T0)
    incident.resolve_refused(T0, "503")
    assert incident.state.lifecycle.resolve_request is not None  # re-probed by the shell
    other = opened()
    other.handle_signal("resolve", {"by": "bob"}, T0)
    other.resolve_refused(T0, "503")
    assert other.state.lifecycle.resolve_request is None
    assert other.state.timeline.recent[-1].summary.startswith("resolve refused: health gate failed (503)")


def test_a_resolve_before_any_alert_or_declaration_is_refused_so_no_update_waits_on_a_gate_forever() -> None:
    state = IncidentState(
        incident_id="incident-y",
        occurrence=occurrence_of("incident-y", T0),
        lifecycle=Lifecycle(opened_at=T0),
    )
    empty = Incident(state)
    assert "nothing to resolve yet" in (empty.refusal("resolve", Resolve(by="bob")) or "")
    assert opened().refusal("resolve", Resolve(by="bob")) is None


@pytest.mark.parametrize(
    ("human", "declared_as", "kept"),
    [(Severity.SEV1, Severity.SEV3, Severity.SEV1), (Severity.SEV4, Severity.SEV2, Severity.SEV2)],
)
def test_a_severity_set_before_classification_is_only_ever_raised_by_it(
    human: Severity, declared_as: Severity, kept: Severity
) -> None:
    """Signals wait while no worker runs, so a human's reclassify can reach the incident before the matrix."""
    incident = declared(declared_as)
    state = incident.state
    early = {"by": "bob", "severity": human.value, "reason": "all EU"}
    assert incident.handle_signal("reclassify", early, T0).verdict.outcome == "applied"
    incident.classify(T0, keep_earlier_choice=True)
    assert state.severity is kept
    classified = [event for event in state.timeline.recent if event.kind is EventKind.CLASSIFIED]
    assert len(classified) == 1 and classified[0].details["severity"] == kept.value
    # Runs recorded before the change keep the old rule: the classification overwrites the human's choice.
    incident.classify(T0)
    assert state.severity is declared_as


@pytest.mark.parametrize("alerts_yield_to_people", [True, False], ids=["now", "runs-before-the-change"])
def test_the_alerts_resolving_stops_the_pages_but_is_no_ones_ack_until_a_person_acks(
    alerts_yield_to_people: bool,
) -> None:
    """An incident whose alerts resolved before anyone acked counted as acked then, which flattered MTTA."""
    incident = opened()
    incident.alerts_yield_to_people = alerts_yield_to_people
    state = incident.state
    incident.add_alert(firing(), T0)
    incident.add_alert(firing(event_id="e2", status="resolved"), T0 + timedelta(minutes=4))
    incident.resolve_refused(T0 + timedelta(minutes=4), "503")  # the gate fails: the incident stays open
    assert state.is_acknowledged  # the duty engine stops paging either way
    assert state.response.acknowledged_by == "generic (all alerts resolved)"
    automatic = [event for event in state.timeline.recent if event.kind is EventKind.ACKNOWLEDGED]
    late = incident.handle_signal("acknowledge", {"by": "bob"}, T0 + timedelta(minutes=9))
    if not alerts_yield_to_people:  # as recorded before: the alerts' ack is the ack, bob's is ignored
        assert state.acknowledged_by_person_at == T0 + timedelta(minutes=4)
        assert late.verdict.outcome == "ignored" and "already acknowledged by generic" in late.verdict.reason
        return
    assert automatic[0].details == {"by_alerts": True}
    assert late.verdict.outcome == "applied"
    assert state.response.acknowledged_by == "bob" and not state.response.acknowledged_by_alerts
    assert state.acknowledged_by_person_at == T0 + timedelta(minutes=9)
    again = incident.handle_signal("acknowledge", {"by": "eve"}, T0 + timedelta(minutes=10))
    assert again.verdict.outcome == "ignored" and "already acknowledged by bob" in again.verdict.reason


def test_an_ack_by_the_alerts_resolving_measures_no_time_to_acknowledge() -> None:
    incident = opened()
    incident.alerts_yield_to_people = True
    incident.add_alert(firing(), T0)
    incident.add_alert(firing(event_id="e2", status="resolved"), T0 + timedelta(minutes=4))
    state = incident.state
    assert state.response.acknowledged_by_alerts and state.acknowledged_by_person_at is None
    incident.resolved(T0 + timedelta(minutes=5))
    measured = {update.key.name: update.value for update in search_measures(state)}
    assert "IncidentMttaSeconds" not in measured and measured["IncidentMttrSeconds"] == 300.0
    assert result_view(state).time_to_acknowledge_seconds is None
    assert status_view(state, []).acknowledged_by_alerts
    assert "incident_commander" not in template_facts(state, POLICY)


@pytest.mark.parametrize("alerts_yield_to_people", [True, False], ids=["now", "runs-before-the-change"])
def test_a_persons_resolve_replaces_the_alerts_pending_one_whose_gate_keeps_failing(
    alerts_yield_to_people: bool,
) -> None:
    """Before, `resolve --force` was ignored ("resolution already in progress") while the alerts' resolve waited
    on a failing health gate, so nobody could close an incident whose health URL stayed down."""
    incident = opened()
    incident.alerts_yield_to_people = alerts_yield_to_people
    lifecycle = incident.state.lifecycle
    incident.add_alert(firing(), T0)
    incident.add_alert(firing(event_id="e2", status="resolved"), T0)
    incident.resolve_refused(T0, "503")
    lifecycle.next_probe_at = T0 + timedelta(minutes=30)  # the shell's backoff
    # Without force it would go through the same gate, and its refusal would drop the alerts' resolve, which
    # re-probes until healthy: it is ignored, and says how to resolve now.
    plain = incident.handle_signal("resolve", {"by": "eve"}, T0 + timedelta(minutes=5))
    assert plain.verdict.outcome == "ignored" and lifecycle.resolve_by_alerts
    forced = {"by": "bob", "force": True, "note": "health URL retired"}
    decision = incident.handle_signal("resolve", forced, T0 + timedelta(minutes=10))
    if not alerts_yield_to_people:
        assert plain.verdict.reason == "resolution already in progress"
        assert decision.verdict.outcome == "ignored" and lifecycle.resolve_request.by.startswith("generic")
        return
    assert '"force": true' in plain.verdict.reason
    assert decision.verdict.outcome == "applied" and "in place of the alerts'" in decision.verdict.reason
    request = lifecycle.resolve_request
    assert request is not None and request.by == "bob" and request.force
    assert not lifecycle.resolve_by_alerts and lifecycle.next_probe_at is None  # the gate runs at once
    assert incident.state.response.acknowledged_by == "bob"
    incident.resolved(T0 + timedelta(minutes=10))
    assert lifecycle.resolved_by == "bob"
