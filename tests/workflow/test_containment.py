"""Containment on the time-skipping server: automatic actions run, risky ones wait for an allowed approver
(re-asked at the next round, then the safe default), the emergency stop cancels a running action, phased
recovery rolls back on a failed gate. Runs the shop runbook of tests/policy.yaml (tech lead tom, incident
commander ivan) against the stand-in system of tests/workflow/containment_system.py (the real adapters land
from another branch)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import declared_incident, events, start_incident, status_when
from tests.workflow.containment_system import RecordingNotifier, StandInSystem, worker_with
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.commands import CommandVerdict
from workflows.messages.common import Phase, Severity
from workflows.messages.status import ActionState, ActionView, EventKind, IncidentStatus


def action(status: IncidentStatus, action_id: str) -> ActionView | None:
    return next((a for a in status.actions if a.id == action_id), None)


def state_is(action_id: str, *states: ActionState) -> Any:
    return lambda status: (found := action(status, action_id)) is not None and found.state in states


async def shop_incident(client: Any, settings: Settings) -> WorkflowHandle[Any, Any]:
    handle = await start_incident(client, settings, declared_incident(service="shop", severity=Severity.SEV2))
    await status_when(handle, state_is("a2", ActionState.AWAITING_APPROVAL))
    return handle


async def update(handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> CommandVerdict:
    return await handle.execute_update(name, payload, result_type=CommandVerdict)


async def test_an_automatic_action_runs_without_asking_and_a_risky_one_asks_the_tech_lead(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system, notifier = time_skipping_env.client, StandInSystem(), RecordingNotifier()
    async with worker_with(client, settings, system, notifier):
        handle = await shop_incident(client, settings)
        status = await status_when(handle, state_is("a1", ActionState.SUCCEEDED))
        snapshot, drain, task = status.actions
        assert (snapshot.name, snapshot.risk, snapshot.state) == (
            "snapshot",
            "automatic",
            ActionState.SUCCEEDED,
        )
        assert snapshot.approvals == [] and snapshot.result == "snapshot done"
        assert [(call.operation, call.idempotency_key) for call in system.calls] == [
            ("snapshot", f"{status.occurrence}/a1")
        ]
        assert (drain.name, drain.state, drain.requested_by) == (
            "drain",
            ActionState.AWAITING_APPROVAL,
            "warroom",
        )
        assert (task.name, task.risk, task.state) == ("customer_statement", "human_only", ActionState.RUNNING)
        asks = notifier.of("approval_request")
        assert [ask.recipients for ask in asks] == [["tom"]]
        facts = asks[0].facts
        assert (facts["action_id"], facts["incident_id"]) == ("a2", status.incident_id)
        assert facts["approve_signal"] == '{"by": "your-name", "action_id": "a2", "reason": "why"}'
        assert f"warroom approve {status.incident_id} a2" in facts["approve_command"]

        verdict = await update(
            handle, "approve_action", {"by": "tom", "action_id": "a2", "reason": "eu is sick"}
        )
        assert verdict.outcome == "applied"
        status = await status_when(handle, state_is("a2", ActionState.SUCCEEDED))
        assert [call.operation for call in system.calls] == ["snapshot", "drain"]
        assert action(status, "a2").approvals[0].by == "tom"  # type: ignore[union-attr]
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
        await handle.signal(IncidentWorkflow.override_recovery, {"by": "tom", "reason": "test ends here"})
        await handle.result()


async def test_nobody_answers_the_next_round_is_asked_then_the_safe_default_is_taken(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system, notifier = time_skipping_env.client, StandInSystem(), RecordingNotifier()
    async with worker_with(client, settings, system, notifier):
        handle = await shop_incident(client, settings)
        await time_skipping_env.sleep(timedelta(minutes=10, seconds=1))
        status = await status_when(handle, lambda s: len(notifier.of("approval_request")) == 2)
        assert [ask.recipients for ask in notifier.of("approval_request")] == [["tom"], ["ivan"]]
        assert action(status, "a2").state is ActionState.AWAITING_APPROVAL  # type: ignore[union-attr]
        await time_skipping_env.sleep(timedelta(minutes=10, seconds=1))
        status = await status_when(handle, state_is("a2", ActionState.EXPIRED))
        assert "safe default: not done" in (action(status, "a2").result or "")  # type: ignore[union-attr]
        assert any(
            "a2 drain: no decision in time; safe default: not done" in e.summary for e in status.timeline
        )
        assert "drain" not in [call.operation for call in system.calls]
        with pytest.raises(WorkflowUpdateFailedError) as late:
            await update(handle, "approve_action", {"by": "tom", "action_id": "a2"})
        assert "a2 (drain) is already expired" in str(late.value.cause)
        await handle.signal(IncidentWorkflow.approve_action, {"by": "tom", "action_id": "a2"})
        status = await status_when(handle, lambda s: "already expired" in s.timeline[-1].summary)
        assert status.timeline[-1].kind is EventKind.REJECTED
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
        await handle.result()


async def test_an_unauthorized_approver_and_a_requester_approving_their_own_two_person_action_are_refused(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system = time_skipping_env.client, StandInSystem()
    async with worker_with(client, settings, system):
        handle = await shop_incident(client, settings)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await update(handle, "approve_action", {"by": "mallory", "action_id": "a2"})
        assert "mallory may not decide a2 (drain)" in str(refused.value.cause)
        await handle.signal(IncidentWorkflow.approve_action, {"by": "mallory", "action_id": "a2"})
        status = await status_when(handle, lambda s: bool(events(s, EventKind.REJECTED)))
        assert "mallory may not decide a2" in events(status, EventKind.REJECTED)[-1].summary

        proposed = await update(
            handle, "propose_action", {"by": "erin", "action": "disable_reviews", "reason": "x"}
        )
        assert proposed.outcome == "applied" and proposed.reason.startswith("a4 disable_reviews")
        with pytest.raises(WorkflowUpdateFailedError) as own:
            await update(handle, "approve_action", {"by": "erin", "action_id": "a4"})
        assert "needs two people: erin requested it" in str(own.value.cause)
        assert (
            await update(handle, "approve_action", {"by": "ivan", "action_id": "a4"})
        ).outcome == "applied"
        status = await status_when(handle, state_is("a4", ActionState.SUCCEEDED))
        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await update(handle, "reject_action", {"by": "tom", "action_id": "a4", "reason": "too late"})
        assert "a4 (disable_reviews) is already succeeded" in str(stale.value.cause)
        assert [call.operation for call in system.calls] == ["snapshot", "disable_feature"]
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
        await handle.signal(IncidentWorkflow.override_recovery, {"by": "tom", "reason": "test ends here"})
        await handle.result()


async def test_halt_cancels_the_running_action_and_blocks_new_ones_until_resume(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system = time_skipping_env.client, StandInSystem()
    system.hang.add("drain")  # the stand-in heartbeats until it is cancelled, then undoes its work
    async with worker_with(client, settings, system):
        handle = await shop_incident(client, settings)
        await update(handle, "approve_action", {"by": "tom", "action_id": "a2"})
        await status_when(handle, state_is("a2", ActionState.RUNNING))
        halt = await update(handle, "halt_automation", {"by": "sue", "reason": "draining the wrong region"})
        assert halt.outcome == "applied" and "cancelling a2" in halt.reason
        status = await status_when(handle, state_is("a2", ActionState.HALTED))
        assert system.cancelled == ["a2"]
        assert status.automation_halted == "by sue: draining the wrong region"
        assert action(status, "a2").result == "drain undone"  # type: ignore[union-attr]
        assert any("a2 drain stopped by the halt: undone, drain undone" in e.summary for e in status.timeline)
        with pytest.raises(WorkflowUpdateFailedError) as blocked:
            await update(handle, "propose_action", {"by": "tom", "action": "snapshot"})
        assert "automation is halted by sue" in str(blocked.value.cause)
        await update(handle, "resume_automation", {"by": "sue", "reason": "right region found"})
        assert (
            await update(handle, "propose_action", {"by": "tom", "action": "snapshot"})
        ).outcome == "applied"
        await status_when(handle, state_is("a4", ActionState.SUCCEEDED))
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
        await handle.result()


async def test_phased_recovery_rolls_back_on_a_failed_gate_pages_the_tech_lead_and_waits_for_override(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system, notifier = time_skipping_env.client, StandInSystem(), RecordingNotifier()
    system.unhealthy_at = 50
    async with worker_with(client, settings, system, notifier):
        handle = await shop_incident(client, settings)
        await update(handle, "approve_action", {"by": "tom", "action_id": "a2"})
        await status_when(handle, state_is("a2", ActionState.SUCCEEDED))
        await update(handle, "mitigate", {"by": "tom", "note": "eu drained"})
        status = await status_when(handle, lambda s: any("stalled" in e.summary for e in s.timeline))
        weights = [call.params["percent"] for call in system.calls if call.operation == "set_weight"]
        assert weights == [10, 25, 50, 25]  # the gate failed at 50 %: back to the previous step
        assert system.observed_at == [10, 25, 50]
        assert [call.idempotency_key.rsplit("/", 1)[1] for call in system.calls[-4:]] == [
            "10", "25", "50", "rollback-1-25"
        ]  # fmt: skip
        paged = [n for n in notifier.of("escalation") if "rolled back" in n.subject]
        assert [n.recipients for n in paged] == [["tom"]]
        assert any(
            e.kind is EventKind.RECOVERY and "rolled back to 25%" in e.summary for e in status.timeline
        )
        assert status.phase is Phase.RECOVERY
        assert status.recovery is not None and status.recovery.startswith("stalled (gate failed at 50%")
        assert status.recovery.endswith("traffic at 25%")

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await update(handle, "resolve", {"by": "tom"})
        assert "phased recovery stalled" in str(refused.value.cause)
        await update(handle, "override_recovery", {"by": "ivan", "reason": "eu verified by hand"})
        resolved = await update(handle, "resolve", {"by": "ivan"})
        assert resolved.reason == "resolved"
        status = await handle.query(IncidentWorkflow.status)
        assert any(e.kind is EventKind.RECOVERY and e.actor == "ivan" for e in status.timeline)
        await handle.result()


async def test_phased_recovery_restores_traffic_in_steps_then_the_feature_before_resolve(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, system = time_skipping_env.client, StandInSystem()
    async with worker_with(client, settings, system):
        handle = await shop_incident(client, settings)
        await update(handle, "approve_action", {"by": "tom", "action_id": "a2"})
        await update(handle, "propose_action", {"by": "tom", "action": "disable_reviews"})
        await update(handle, "approve_action", {"by": "erin", "action_id": "a4"})
        await status_when(handle, state_is("a4", ActionState.SUCCEEDED))
        await update(handle, "mitigate", {"by": "tom"})
        resolved = await update(handle, "resolve", {"by": "tom"})  # waits for restoration, then the gate
        assert resolved.reason == "resolved"
        status = await handle.query(IncidentWorkflow.status)
        operations = [(call.operation, call.params.get("percent")) for call in system.calls]
        assert operations[-5:] == [
            ("set_weight", 10), ("set_weight", 25), ("set_weight", 50), ("set_weight", 100), ("enable_feature", None)
        ]  # fmt: skip
        assert [action(status, a).state for a in ("a2", "a4")] == [ActionState.ROLLED_BACK] * 2  # type: ignore[union-attr]
        restored = next(e for e in status.timeline if "phased recovery done" in e.summary)
        resolved_at = next(e for e in status.timeline if e.kind is EventKind.RESOLVED)
        assert restored.seq is not None and resolved_at.seq is not None and restored.seq < resolved_at.seq
        await handle.result()


async def test_approvals_and_actions_survive_continue_as_new(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    """On the dev server, which suggests continue-as-new at 40 events: a pending approval asked before the new
    run is neither asked again nor lost, and approving it in the new run runs it."""
    client, system, notifier = dev_env.client, StandInSystem(), RecordingNotifier()
    async with worker_with(client, settings, system, notifier):
        handle = await shop_incident(client, settings)
        for index in range(30):
            await handle.signal(IncidentWorkflow.add_note, {"by": "tom", "text": f"looking {index}"})
        status = await status_when(handle, lambda s: s.runs >= 2, seconds=30)
        assert status.runs >= 2
        assert [a.state for a in status.actions] == [
            ActionState.SUCCEEDED, ActionState.AWAITING_APPROVAL, ActionState.RUNNING
        ]  # fmt: skip
        verdict = await update(handle, "approve_action", {"by": "tom", "action_id": "a2"})
        assert verdict.outcome == "applied"
        status = await status_when(handle, state_is("a2", ActionState.SUCCEEDED))
        assert action(status, "a2").approvals[0].by == "tom"  # type: ignore[union-attr]
        assert len(notifier.of("approval_request")) == 1  # asked once, in the first run
        assert [call.operation for call in system.calls] == ["snapshot", "drain"]
        await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
        await handle.signal(IncidentWorkflow.override_recovery, {"by": "tom", "reason": "test ends here"})
        await handle.result()
