"""Reference histories of the alert-driven paths, for replay tests: an incident opened, joined, acknowledged
and resolved by alerts alone (the intake's semantics); one whose alerts resolve before anyone acks, whose health
gate fails, and which a person then acks and force-resolves; and a correlation router answering routes.

`python -m tests.replay.reference_alert_incident` records them into tests/replay/histories/ (against a dev
server it starts itself). CI replays every stored history: a change to `add_alert` or to the router that is
not behind `workflow.patched` fails with a NondeterminismError.
"""

from __future__ import annotations

import asyncio
from io import StringIO
from pathlib import Path
from uuid import uuid4

import yaml
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHistory
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import TEST_POLICY, HealthEndpoint, signal_with_start, status_when, write_policy
from tests.replay.reference_incident import HISTORIES
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.worker import build_worker
from workflows.correlation import AlertCorrelationWorkflow
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.commands import Acknowledge, Resolve
from workflows.messages.common import Phase
from workflows.messages.correlation import (
    CorrelationInput,
    RouteDecision,
    RouteRequest,
    correlation_workflow_id,
)
from workflows.messages.status import EventKind
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES


def _alert(key: str, event_id: str, fingerprint: str, status: AlertStatus, **extra: object) -> Alert:
    return Alert.model_validate(
        {
            "source": "alertmanager",
            "dedup_key": key,
            "event_id": event_id,
            "fingerprint": fingerprint,
            "status": status,
            "service": "checkout",
            "summary": "checkout 5xx",
            "severity_hint": "critical",
            **extra,
        }
    )


async def run_alert_incident(client: Client, settings: Settings) -> WorkflowHistory:
    key = f"replay-alerts-{uuid4()}"
    handle = await signal_with_start(
        client, settings.task_queue, key, _alert(key, "e-1", "a", AlertStatus.FIRING)
    )
    await asyncio.sleep(0.5)
    joined = _alert("other", "e-2", "b", AlertStatus.FIRING, source="datadog", correlation="correlated: ...")
    for alert in (
        _alert(key, "e-1", "a", AlertStatus.FIRING),  # a repeat
        joined,
        _alert(key, "e-3", "a", AlertStatus.ACKNOWLEDGED),
        _alert(key, "e-4", "a", AlertStatus.RESOLVED),
        _alert("other", "e-5", "b", AlertStatus.RESOLVED, source="datadog"),
    ):
        await handle.signal(IncidentWorkflow.add_alert, alert)
    await handle.result()
    return await handle.fetch_history()


async def run_alerts_resolved_before_ack(
    client: Client, settings: Settings, health: HealthEndpoint
) -> WorkflowHistory:
    """Nobody acks before every alert resolves; the gate fails; bob acks, then resolves with force. (Runs
    recorded before all-patches-2026-12-c ignore both: there the gate's re-probe a minute later resolves it.)"""
    health.status_code = 503
    key = f"replay-unacked-{uuid4()}"
    handle = await signal_with_start(
        client, settings.task_queue, key, _alert(key, "e-1", "a", AlertStatus.FIRING)
    )
    await status_when(handle, lambda status: status.phase is Phase.RESPONSE and bool(status.paged))
    await handle.signal(IncidentWorkflow.add_alert, _alert(key, "e-2", "a", AlertStatus.RESOLVED))
    await status_when(handle, lambda status: status.event_counts.get(EventKind.HEALTH_CHECK.value, 0) > 0)
    await handle.signal(IncidentWorkflow.acknowledge, Acknowledge(by="bob"))
    await handle.signal(IncidentWorkflow.resolve, Resolve(by="bob", force=True, note="health URL retired"))
    health.status_code = 200
    await handle.result()
    return await handle.fetch_history()


async def run_router(client: Client, settings: Settings) -> WorkflowHistory:
    service = f"replay-{uuid4().hex[:8]}"
    for key, firing in (("a", True), ("b", True), ("a", False), ("z", False)):
        start = WithStartWorkflowOperation(
            AlertCorrelationWorkflow.run,
            CorrelationInput(service=service, window_seconds=300),
            id=correlation_workflow_id(service),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            AlertCorrelationWorkflow.route,
            RouteRequest(dedup_key=key, source="alertmanager", firing=firing),
            start_workflow_operation=start,
            result_type=RouteDecision,
        )
    handle = client.get_workflow_handle(correlation_workflow_id(service))
    await handle.terminate("recorded")
    return await handle.fetch_history()


async def _record() -> list[Path]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        ui=False,
    )
    data_dir = Path(".warroom") / "replay-capture"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(task_queue=f"replay-{uuid4()}", data_dir=data_dir, metrics_address="")
    try:
        async with build_worker(env.client, settings, {"console": ConsoleNotifier(StringIO())}):
            histories = {
                "incident_alert_lifecycle.json": await run_alert_incident(env.client, settings),
                "correlation_router.json": await run_router(env.client, settings),
            }
        health = HealthEndpoint()
        policy = yaml.safe_load(TEST_POLICY.read_text(encoding="utf-8"))
        policy["health_checks"] = {"checkout": health.url}
        failing_gate = settings.model_copy(
            update={
                "task_queue": f"replay-{uuid4()}",
                "policy_file": write_policy(data_dir / "policy.yaml", policy),
            }
        )
        async with build_worker(env.client, failing_gate, {"console": ConsoleNotifier(StringIO())}):
            unacked = await run_alerts_resolved_before_ack(env.client, failing_gate, health)
            histories["incident_alerts_resolved_before_ack.json"] = unacked
        health.close()
    finally:
        await env.shutdown()
    paths = []
    for name, history in histories.items():
        (HISTORIES / name).write_text(history.to_json(), encoding="utf-8")
        paths.append(HISTORIES / name)
    return paths


if __name__ == "__main__":
    print(f"recorded {asyncio.run(_record())}")
