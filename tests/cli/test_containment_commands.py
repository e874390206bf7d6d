"""`warroom approve / reject / propose / halt / resume / task-done / override-recovery` through the real entry
point, against the session dev server and a worker whose containment activities are the stand-ins of
tests/workflow/containment_system.py (the real adapters land from another branch). Shop runbook: tests/policy.yaml.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.cli.conftest import Result, Warroom, eventually, run_warroom
from tests.workflow.containment_system import StandInSystem, worker_with
from workflows.messages.status import ActionState, IncidentStatus


@pytest.fixture
def system() -> StandInSystem:
    return StandInSystem()


@pytest.fixture
async def warroom_contain(
    dev_env: WorkflowEnvironment, settings: Settings, system: StandInSystem
) -> AsyncIterator[Warroom]:
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": settings.task_queue,
        "USER": "tester",
    }

    async def call(*args: str) -> Result:
        return await run_warroom(*args, env=env)

    async with worker_with(dev_env.client, settings, system):
        yield call


async def status_of(warroom: Warroom, incident_id: str) -> IncidentStatus:
    shown = await warroom("status", incident_id, "--json")
    assert shown.code == 0, shown.output
    return IncidentStatus.model_validate_json(shown.stdout)


async def shop_incident(warroom: Warroom) -> str:
    key = f"shop-{uuid4().hex[:8]}"
    declared = await warroom(
        "declare",
        "--service",
        "shop",
        "--summary",
        "5xx in eu",
        "--severity",
        "SEV-2",
        "--by",
        "olivia",
        "--key",
        key,
    )
    assert declared.code == 0, declared.output
    incident_id = declared.stdout.strip()

    async def drain_pending() -> bool:
        return any(a.id == "a2" for a in (await status_of(warroom, incident_id)).actions)

    await eventually(drain_pending)
    return incident_id


async def test_status_shows_the_pending_approval_with_the_command_and_approve_checks_who(
    warroom_contain: Warroom, system: StandInSystem
) -> None:
    warroom = warroom_contain
    incident_id = await shop_incident(warroom)
    human = await warroom("status", incident_id)
    assert "APPROVE?   a2 drain (haproxy, approval) requested by warroom" in human.stdout
    assert f"warroom approve {incident_id} a2 --by YOU" in human.stdout
    status = await status_of(warroom, incident_id)
    assert [(a.id, a.name, a.state) for a in status.actions][:2] == [
        ("a1", "snapshot", ActionState.SUCCEEDED), ("a2", "drain", ActionState.AWAITING_APPROVAL)
    ]  # fmt: skip

    refused = await warroom("approve", incident_id, "a2", "--by", "mallory")
    assert (
        refused.code == 1 and "rejected: approve_action: mallory may not decide a2 (drain)" in refused.stdout
    )
    approved = await warroom("approve", incident_id, "a2", "--by", "tom", "--reason", "eu is sick")
    assert approved.code == 0 and "applied: a2 drain approved (eu is sick)" in approved.stdout
    stale = await warroom("reject", incident_id, "a2", "--by", "ivan", "--reason", "too late")
    assert stale.code == 1 and "is already" in stale.stdout
    unknown = await warroom("reject", incident_id, "a9", "--by", "tom", "--reason", "x")
    assert unknown.code == 1 and "unknown action id 'a9'" in unknown.stdout

    async def drained() -> bool:
        return "drain" in [call.operation for call in system.calls]

    await eventually(drained)


async def test_propose_passes_params_and_halt_blocks_until_resume(
    warroom_contain: Warroom, system: StandInSystem
) -> None:
    warroom = warroom_contain
    incident_id = await shop_incident(warroom)
    proposed = await warroom(
        "propose", incident_id, "disable_reviews", "--by", "tom", "--param", "feature=search", "--param", "ttl=5",
        "--reason", "search is melting",
    )  # fmt: skip
    assert proposed.code == 0 and "applied: a4 disable_reviews: awaiting_approval" in proposed.stdout
    own = await warroom("approve", incident_id, "a4", "--by", "tom")
    assert own.code == 1 and "needs two people" in own.stdout
    assert (await warroom("approve", incident_id, "a4", "--by", "erin")).code == 0

    async def disabled() -> bool:
        return any(call.operation == "disable_feature" for call in system.calls)

    await eventually(disabled)
    [call] = [call for call in system.calls if call.operation == "disable_feature"]
    assert call.params == {"feature": "search", "ttl": 5}

    halted = await warroom("halt", incident_id, "--by", "sue", "--reason", "too much at once")
    assert halted.code == 0 and "automation HALTED: too much at once" in halted.stdout
    shown = await warroom("status", incident_id)
    assert (
        f"HALTED:    automation by sue: too much at once (warroom resume {incident_id} --by YOU)"
        in shown.stdout
    )
    blocked = await warroom("propose", incident_id, "snapshot", "--by", "tom")
    assert blocked.code == 1 and "automation is halted by sue" in blocked.stdout
    status = await status_of(warroom, incident_id)
    assert next(a for a in status.actions if a.id == "a2").state is ActionState.HALTED  # withdrawn
    resumed = await warroom("resume", incident_id, "--by", "sue")
    assert resumed.code == 0 and "automation resumed" in resumed.stdout
    assert (await warroom("propose", incident_id, "snapshot", "--by", "tom")).code == 0
    done = await warroom("task-done", incident_id, "a3", "--by", "cora", "--note", "statement posted")
    assert done.code == 0 and "done by cora: statement posted" in done.stdout


async def test_a_malformed_param_is_a_usage_error(warroom_contain: Warroom) -> None:
    result = await warroom_contain("propose", "incident-nope", "drain", "--by", "tom", "--param", "no-equals")
    assert result.code == 2 and "expected KEY=VALUE" in result.stderr
