"""The policy is pinned per incident, and recovery resolves only through the health gate."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import (
    HealthEndpoint,
    declared_incident,
    events,
    running_worker,
    start_incident,
    write_policy,
)
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Phase, Severity
from workflows.messages.status import EventKind


def policy_with(ack_minutes: int, health_url: str | None = None) -> dict[str, object]:
    deadlines = {severity.value: f"{ack_minutes}m" for severity in Severity}
    policy: dict[str, object] = {"name": f"ack-in-{ack_minutes}m", "escalation": {"ack_deadline": deadlines}}
    if health_url:
        policy["health_checks"] = {"checkout": health_url}
    return policy


async def test_a_policy_edit_after_start_does_not_change_a_running_incident(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    policy_file = write_policy(tmp_path / "policy.yaml", policy_with(ack_minutes=5))
    settings = settings.model_copy(update={"policy_file": policy_file})
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        pinned = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=1))
        write_policy(policy_file, policy_with(ack_minutes=60))
        later = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=10))

        pinned_status = await pinned.query(IncidentWorkflow.status)
        later_status = await later.query(IncidentWorkflow.status)
        assert events(pinned_status, EventKind.POLICY)[0].summary == "policy 'ack-in-5m' pinned"
        assert pinned_status.escalation_level == 3  # paged at 0, 5 and 10 minutes: the old policy holds
        assert events(later_status, EventKind.POLICY)[0].summary == "policy 'ack-in-60m' pinned"
        assert later_status.escalation_level == 1
        for handle in (pinned, later):
            await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
            await handle.result()


async def test_resolve_waits_for_a_healthy_service_unless_forced(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    tmp_path: Path,
    health_endpoint: HealthEndpoint,
) -> None:
    policy_file = write_policy(tmp_path / "policy.yaml", policy_with(30, health_endpoint.url))
    settings = settings.model_copy(update={"policy_file": policy_file})
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await handle.signal(IncidentWorkflow.mitigate, {"by": "bob"})

        health_endpoint.status_code = 503
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob"})
        await time_skipping_env.sleep(timedelta(seconds=30))
        status = await handle.query(IncidentWorkflow.status)
        assert status.phase is Phase.RECOVERY and status.resolved_by is None
        refusal = events(status, EventKind.REJECTED)[-1].summary
        assert "health gate failed" in refusal and "503" in refusal

        health_endpoint.status_code = 200
        await handle.signal(IncidentWorkflow.resolve, {"by": "carol"})
        result = await handle.result()
        assert result.resolved_by == "carol"
        assert health_endpoint.requests >= 2


async def test_force_resolves_through_a_failing_health_gate(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    tmp_path: Path,
    health_endpoint: HealthEndpoint,
) -> None:
    health_endpoint.status_code = 500
    policy_file = write_policy(tmp_path / "policy.yaml", policy_with(30, health_endpoint.url))
    settings = settings.model_copy(update={"policy_file": policy_file})
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident())
        await handle.signal(IncidentWorkflow.resolve, {"by": "bob", "force": True, "note": "service retired"})
        result = await handle.result()
        status = await handle.query(IncidentWorkflow.status)
    assert result.resolved_by == "bob"
    assert events(status, EventKind.HEALTH_CHECK)[0].details["healthy"] is False
