"""The approval rules without a server (workflows/containment): who may decide, the two-person rule, stale
decisions, the emergency stop, expiry to the safe default. Runs the shop runbook of tests/policy.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.policy_file import load_policy_file
from workflows.containment.actions import AUTOMATION
from workflows.containment.policy import ActionSpec, RecoveryPolicy, default_risk
from workflows.incident.domain import Incident, occurrence_of
from workflows.incident.state import Cause, IncidentState, Lifecycle
from workflows.messages.common import Phase, Severity
from workflows.messages.containment import ContainmentOutcome, ContainmentResult
from workflows.messages.status import ActionState, EventKind

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
POLICY = load_policy_file(Path(__file__).parents[1] / "policy.yaml")
ROLES = {"tech_lead": "tom", "incident_commander": "ivan"}


def responding() -> Incident:
    state = IncidentState(
        incident_id="incident-shop", occurrence=occurrence_of("incident-shop", T0),
        cause=Cause(service="shop", summary="5xx", declared_by="olivia", declared_severity=Severity.SEV2),
        lifecycle=Lifecycle(opened_at=T0),
    )  # fmt: skip
    incident = Incident(state)
    incident.pin_policy(POLICY, None, T0)
    incident.classify(T0)
    state.lifecycle.phase, state.lifecycle.response_started_at = Phase.RESPONSE, T0
    state.response.roles.update(ROLES)
    state.containment.runbook = "shop"
    # The shell resolves with the roster; here roles and plain names are enough.
    incident.people = lambda refs: [ROLES.get(r.removeprefix("role:"), r) for r in refs if ":" not in r or
                                    r.removeprefix("role:") in ROLES]  # fmt: skip
    return incident


def send(incident: Incident, name: str, payload: dict[str, object]) -> tuple[str, str]:
    decision = incident.handle_signal(name, payload, T0)
    return decision.verdict.outcome, decision.verdict.reason


def test_an_automatic_action_is_approved_at_once_and_an_approval_action_waits() -> None:
    incident = responding()
    assert send(incident, "propose_action", {"by": "olivia", "action": "snapshot"})[0] == "applied"
    assert (
        send(incident, "propose_action", {"by": "olivia", "action": "drain", "reason": "eu is sick"})[0]
        == "applied"
    )
    snapshot, drain = incident.state.containment.actions
    assert (snapshot.id, snapshot.state) == ("a1", ActionState.APPROVED)
    assert (drain.id, drain.state, drain.params) == (
        "a2",
        ActionState.AWAITING_APPROVAL,
        {"backend": "shop", "server": "eu"},
    )


def test_only_an_allowed_approver_may_decide_and_the_refusal_names_who_may() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "olivia", "action": "drain"})
    outcome, reason = send(incident, "approve_action", {"by": "mallory", "action_id": "a1"})
    assert outcome == "rejected"
    assert "mallory may not decide a1 (drain)" in reason and "tom" in reason and "ivan" in reason
    assert incident.state.containment.actions[0].state is ActionState.AWAITING_APPROVAL
    assert incident.state.timeline.recent[-1].kind is EventKind.REJECTED
    assert send(incident, "approve_action", {"by": "tom", "action_id": "a1"})[0] == "applied"
    assert incident.state.containment.actions[0].state is ActionState.APPROVED


def test_two_person_action_refuses_its_requester_and_needs_a_second_person() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "tom", "action": "disable_reviews"})
    outcome, reason = send(incident, "approve_action", {"by": "tom", "action_id": "a1"})
    assert outcome == "rejected" and "needs two people: tom requested it" in reason
    assert send(incident, "approve_action", {"by": "erin", "action_id": "a1"})[0] == "applied"
    assert incident.state.containment.actions[0].state is ActionState.APPROVED


def test_two_person_action_proposed_by_warroom_needs_two_distinct_approvers() -> None:
    incident = responding()
    incident.propose("disable_reviews", AUTOMATION, {}, "runbook", T0)
    assert send(incident, "approve_action", {"by": "erin", "action_id": "a1"})[0] == "applied"
    assert incident.state.containment.actions[0].state is ActionState.AWAITING_APPROVAL
    again = send(incident, "approve_action", {"by": "erin", "action_id": "a1"})
    assert again[0] == "rejected" and "erin already approved a1" in again[1]
    assert send(incident, "approve_action", {"by": "ivan", "action_id": "a1"})[0] == "applied"
    assert incident.state.containment.actions[0].state is ActionState.APPROVED


@pytest.mark.parametrize("first", ["approve_action", "reject_action"])
def test_a_decision_on_an_action_already_decided_is_refused_with_its_state(first: str) -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "olivia", "action": "drain"})
    send(incident, first, {"by": "tom", "action_id": "a1", "reason": "first"})
    outcome, reason = send(incident, "reject_action", {"by": "ivan", "action_id": "a1", "reason": "late"})
    assert outcome == "rejected"
    assert "a1 (drain) is already" in reason and "nothing to decide" in reason


def test_expiry_takes_the_safe_default_and_a_late_approval_is_refused() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "olivia", "action": "drain"})
    book = incident.actions
    action = book.containment.actions[0]
    assert book.ask(action, T0) == ["role:tech_lead"]
    assert book.ask(action, T0 + timedelta(minutes=10)) == ["role:incident_commander"]
    assert book.ask(action, T0 + timedelta(minutes=20)) is None
    assert "safe default: not done" in book.expire(action)
    assert action.state is ActionState.EXPIRED
    outcome, reason = send(incident, "approve_action", {"by": "tom", "action_id": "a1"})
    assert outcome == "rejected" and "already expired" in reason


def test_halt_withdraws_pending_actions_blocks_new_ones_until_resume() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "olivia", "action": "drain"})
    assert send(incident, "halt_automation", {"by": "sue", "reason": "wrong server"})[0] == "applied"
    assert incident.state.containment.actions[0].state is ActionState.HALTED
    assert incident.actions.next_to_run() is None
    late = send(incident, "approve_action", {"by": "tom", "action_id": "a1"})
    assert late[0] == "rejected" and "already halted" in late[1]
    blocked = send(incident, "propose_action", {"by": "olivia", "action": "snapshot"})
    assert blocked[0] == "rejected" and "halted by sue (wrong server)" in blocked[1]
    assert send(incident, "halt_automation", {"by": "sue", "reason": "again"})[0] == "rejected"
    assert send(incident, "resume_automation", {"by": "sue"})[0] == "applied"
    assert send(incident, "propose_action", {"by": "olivia", "action": "snapshot"})[0] == "applied"
    assert send(incident, "resume_automation", {"by": "sue"})[0] == "rejected"


def test_bad_payloads_and_unknown_actions_are_rejected_into_the_timeline() -> None:
    incident = responding()
    unknown = send(incident, "propose_action", {"by": "olivia", "action": "reboot-the-world"})
    assert unknown[0] == "rejected" and "runbook 'shop' offers: snapshot, drain" in unknown[1]
    assert send(incident, "approve_action", {"by": "tom"})[0] == "rejected"  # no action_id
    assert send(incident, "reject_action", {"by": "tom", "action_id": "a1"})[0] == "rejected"  # no reason
    assert send(incident, "approve_action", {"by": "tom", "action_id": "a9"})[1].startswith(
        "approve_action: unknown action id 'a9'"
    )
    assert [e.kind for e in incident.state.timeline.recent[-4:]] == [EventKind.REJECTED] * 4


def test_a_human_only_task_is_tracked_to_done_and_never_decided_by_approval() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "ivan", "action": "customer_statement"})
    task = incident.state.containment.actions[0]
    assert (task.state, task.owners) == (ActionState.RUNNING, ["communications"])
    assert "human-only task" in send(incident, "approve_action", {"by": "tom", "action_id": "a1"})[1]
    assert incident.actions.next_to_run() is None
    assert (
        send(incident, "complete_task", {"by": "cora", "action_id": "a1", "note": "posted"})[0] == "applied"
    )
    assert task.state is ActionState.SUCCEEDED and task.result == "done by cora: posted"


def test_a_cancelled_action_is_halted_whatever_the_adapter_undid() -> None:
    incident = responding()
    send(incident, "propose_action", {"by": "olivia", "action": "snapshot"})
    book = incident.actions
    action = book.containment.actions[0]
    book.started(action)
    book.finished(action, ContainmentResult(outcome=ContainmentOutcome.UNDONE, detail="put back"), True)
    assert (action.state, action.result) == (ActionState.HALTED, "put back")


def test_a_stalled_recovery_refuses_resolve_until_overridden() -> None:
    incident = responding()
    incident.state.containment.recovery.status = "stalled"
    incident.state.containment.recovery.detail = "gate failed at 25%"
    outcome, reason = send(incident, "resolve", {"by": "ivan"})
    assert outcome == "rejected" and "override_recovery" in reason
    assert send(incident, "override_recovery", {"by": "ivan", "reason": "verified by hand"})[0] == "applied"
    assert incident.state.containment.recovery.overridden_by == "ivan"
    assert send(incident, "resolve", {"by": "ivan"})[0] == "applied"


def test_risk_defaults_follow_the_guide_and_recovery_steps_must_reach_100() -> None:
    assert [default_risk(op) for op in ("snapshot", "rate_limit", "drain", "rollback", "frobnicate", None)] == [
        "automatic", "automatic", "approval", "approval", "approval", "human_only"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="needs an adapter"):
        ActionSpec(name="drain", operation="drain")
    with pytest.raises(ValueError, match="must end at 100"):
        RecoveryPolicy(steps=[10, 50])


def test_the_runbook_is_the_services_else_the_first_whose_labels_all_match() -> None:
    policy = POLICY.model_copy(deep=True)
    policy.containment.runbooks.append(
        policy.containment.runbooks[0].model_copy(
            update={"name": "by-label", "services": [], "labels": {"team": "web"}}
        )
    )
    containment = policy.containment
    assert containment.runbook_for("shop", {"team": "web"}).name == "shop"  # type: ignore[union-attr]
    assert containment.runbook_for("search", {"team": "web", "x": "y"}).name == "by-label"  # type: ignore[union-attr]
    assert containment.runbook_for("search", {"team": "db"}) is None
