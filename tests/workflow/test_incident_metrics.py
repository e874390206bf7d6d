"""warroom's worker-side metrics, recorded by a real SDK runtime into a MetricBuffer (what the Prometheus
exporter would serve): an incident counted once however often it is replayed, time-to-ack and time-to-resolve
in skipped time, escalations by level; and the notify activity's sent/failed counters per channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from pathlib import Path
from uuid import uuid4

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import build_activities
from activities.notify import NotifyActivities
from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.analysis.helpers import RecordingNotifier, item_input, start_item
from tests.conftest import (
    HealthEndpoint,
    declared_incident,
    events,
    policy_file_with,
    running_worker,
    signal_with_start,
    start_incident,
    status_when,
)
from tests.workflow.containment_system import StandInSystem, worker_with
from workers.data_converter import data_converter
from workers.worker import WORKFLOWS
from workflows import metrics
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.action_items import ItemStatus
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.common import Severity
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
from workflows.messages.status import ActionState, EventKind, IncidentStatus


@dataclass
class Recorded:
    buffer: MetricBuffer
    updates: list[tuple[str, float, dict[str, object]]]

    def collect(self) -> None:
        self.updates += [
            (update.metric.name, float(update.value), dict(update.attributes))
            for update in self.buffer.retrieve_updates()
        ]

    def total(self, name: str, **labels: str) -> float:
        self.collect()
        return sum(
            value for metric, value, attributes in self.updates if metric == name and _has(attributes, labels)
        )

    def values(self, name: str, **labels: str) -> list[float]:
        self.collect()
        return [
            value for metric, value, attributes in self.updates if metric == name and _has(attributes, labels)
        ]


def _has(attributes: dict[str, object], labels: dict[str, str]) -> bool:
    return all(attributes.get(key) == value for key, value in labels.items())


@pytest.fixture
def recorded() -> Recorded:
    return Recorded(MetricBuffer(100_000), [])


async def metered_client(env: WorkflowEnvironment, recorded: Recorded) -> Client:
    """A client on a runtime of its own whose metrics land in the buffer (its worker records through it)."""
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=data_converter,
        runtime=Runtime(telemetry=TelemetryConfig(metrics=recorded.buffer)),
    )


async def test_an_incident_records_time_to_ack_and_resolve_and_escalations_by_level(
    time_skipping_env: WorkflowEnvironment, settings: Settings, recorded: Recorded
) -> None:
    client = time_skipping_env.client
    worker_client = await metered_client(time_skipping_env, recorded)
    async with running_worker(worker_client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await time_skipping_env.sleep(timedelta(minutes=40))  # unacknowledged: the chain escalates
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await time_skipping_env.sleep(timedelta(minutes=20))
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()
        status: IncidentStatus = await handle.query(IncidentWorkflow.status)

    assert recorded.total(metrics.INCIDENTS_OPENED, severity="SEV-2", source="declared") == 1
    assert recorded.total(metrics.INCIDENTS_RESOLVED, severity="SEV-2") == 1
    opened = next(event.at for event in status.timeline if event.kind is EventKind.DECLARED)  # = opened_at
    acked = next(event.at for event in status.timeline if event.kind is EventKind.ACKNOWLEDGED)
    resolved = next(event.at for event in status.timeline if event.kind is EventKind.RESOLVED)
    (time_to_ack,) = recorded.values(metrics.TIME_TO_ACK, severity="SEV-2")
    assert time_to_ack == pytest.approx((acked - opened).total_seconds())
    # About the 40 skipped minutes: the incident may open a few real milliseconds after the client's sleep began.
    assert time_to_ack == pytest.approx(40 * 60, abs=30)
    (time_to_resolve,) = recorded.values(metrics.TIME_TO_RESOLVE, severity="SEV-2")
    assert time_to_resolve == pytest.approx((resolved - opened).total_seconds())

    escalated = [event for event in status.timeline if event.kind is EventKind.ESCALATED]
    assert escalated, "the test policy escalates an unacknowledged SEV-2 within 40 minutes"
    assert recorded.total(metrics.ESCALATIONS) == len(escalated)
    for event in escalated:
        assert recorded.total(metrics.ESCALATIONS, level=str(event.details["level"]), by="policy") >= 1
    assert recorded.total(metrics.PAGES_SENT, channel="console", kind="page") >= 1
    assert recorded.total(metrics.PAGES_FAILED) == 0


async def test_an_incident_is_counted_once_however_often_its_history_is_replayed(
    dev_env: WorkflowEnvironment, settings: Settings, recorded: Recorded
) -> None:
    """No workflow cache: every activation replays the history from the start, so a metric recorded outside
    the SDK's replay guard would be counted again at each one. (The dev server: the time-skipping server
    stalls now and then under so many full replays.)"""
    worker = Worker(
        await metered_client(dev_env, recorded),
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(settings, {"console": ConsoleNotifier(StringIO())}),
        max_cached_workflows=0,
    )
    async with worker:
        handle = await start_incident(dev_env.client, settings, declared_incident(severity=Severity.SEV2))
        await status_when(handle, lambda status: bool(status.paged))
        await handle.signal(
            IncidentWorkflow.escalate, {"by": "erin", "level": 2, "reason": "need the DB team"}
        )
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await handle.signal(IncidentWorkflow.add_note, {"by": "olivia", "text": "rolling back"})
        await handle.signal(IncidentWorkflow.resolve, {"by": "olivia"})
        await handle.result()
        history = await handle.fetch_history()

    tasks = sum(1 for event in history.events if event.HasField("workflow_task_completed_event_attributes"))
    assert tasks > 5, "enough workflow tasks that each replay would have counted again"
    assert recorded.total(metrics.INCIDENTS_OPENED) == 1
    assert recorded.total(metrics.INCIDENTS_RESOLVED) == 1
    assert recorded.total(metrics.ESCALATIONS, level="2", by="human") == 1
    assert len(recorded.values(metrics.TIME_TO_ACK)) == 1
    assert len(recorded.values(metrics.TIME_TO_RESOLVE)) == 1


class ScriptedNotifier:
    """Answers the way a channel can: accepted, refused (4xx), broken (an unexpected exception)."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def send(self, notification: Notification) -> DeliveryResult:
        if self.answer == "refused":
            raise ApplicationError("401 from the provider", type="ChannelRefused", non_retryable=True)
        if self.answer == "broken":
            raise ConnectionResetError("peer reset")
        return DeliveryResult(channel=notification.channel, recipients=notification.recipients, delivered=True,
                              detail="ok")  # fmt: skip


def notification(channel: str) -> Notification:
    return Notification(
        idempotency_key=f"incident-x@1/page/{channel}", incident_id="incident-x", kind=NotificationKind.PAGE,
        channel=channel, recipients=["olivia"], severity=Severity.SEV1, service="checkout", subject="s", body="b",
    )  # fmt: skip


async def test_the_notify_activity_counts_pages_sent_and_failed_per_channel(recorded: Recorded) -> None:
    runtime = Runtime(telemetry=TelemetryConfig(metrics=recorded.buffer))
    env = ActivityEnvironment()
    env.metric_meter = runtime.metric_meter
    notify = NotifyActivities(
        {
            "slack": ScriptedNotifier("ok"),
            "teams": ScriptedNotifier("refused"),
            "hook": ScriptedNotifier("broken"),
        }
    ).notify
    await env.run(notify, notification("slack"))
    for channel in ("teams", "hook"):
        with pytest.raises(ApplicationError):
            await env.run(notify, notification(channel))

    assert recorded.total(metrics.PAGES_SENT, channel="slack", kind="page") == 1
    assert recorded.total(metrics.PAGES_FAILED, channel="teams", kind="page", error="ChannelRefused") == 1
    assert recorded.total(metrics.PAGES_FAILED, channel="hook", kind="page", error="ChannelError") == 1
    assert recorded.total(metrics.PAGES_SENT) == 1


async def test_an_action_item_is_counted_opened_overdue_and_closed_with_its_team(
    time_skipping_env: WorkflowEnvironment, settings: Settings, recorded: Recorded
) -> None:
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    due = now + timedelta(days=3)
    async with running_worker(
        await metered_client(time_skipping_env, recorded), settings, {"console": RecordingNotifier()}
    ):
        handle = await start_item(client, settings.task_queue, item_input(now, due=due), f"item-{uuid4()}")
        await time_skipping_env.sleep(timedelta(days=4))
        assert (await handle.query(ActionItemWorkflow.status)).status is ItemStatus.OVERDUE
        await handle.signal("complete", {"by": "tom", "evidence": "https://github.com/acme/shop/pull/9"})
        await handle.result()
    assert recorded.total(metrics.ACTION_ITEMS_OPENED, team="payments") == 1  # checkout belongs to payments
    assert recorded.total(metrics.ACTION_ITEMS_OVERDUE, team="payments") == 1
    assert recorded.total(metrics.ACTION_ITEMS_CLOSED, team="payments") == 1


async def test_approvals_are_counted_requested_granted_refused_and_timed_out_per_action(
    time_skipping_env: WorkflowEnvironment, settings: Settings, recorded: Recorded
) -> None:
    """The shop runbook of tests/policy.yaml on the containment stand-ins (tests/workflow/containment_system):
    its `drain` needs the tech lead's approval."""
    client = time_skipping_env.client
    worker_client = await metered_client(time_skipping_env, recorded)
    async with worker_with(worker_client, settings, StandInSystem()):
        granted, refused, silent = [
            await start_incident(client, settings, declared_incident(service="shop", severity=Severity.SEV2))
            for _ in range(3)
        ]
        for handle in (granted, refused, silent):
            await status_when(handle, lambda s: any(a.id == "a2" and a.state is ActionState.AWAITING_APPROVAL
                                                    for a in s.actions))  # fmt: skip
        await granted.signal(IncidentWorkflow.approve_action, {"by": "tom", "action_id": "a2"})
        await refused.signal(IncidentWorkflow.reject_action, {"by": "tom", "action_id": "a2", "reason": "no"})
        await time_skipping_env.sleep(timedelta(minutes=21))  # two rounds of 10 minutes: the safe default
        for handle, final in ((granted, ActionState.SUCCEEDED), (refused, ActionState.REJECTED),
                              (silent, ActionState.EXPIRED)):  # fmt: skip
            await status_when(handle, lambda s, final=final: any(a.id == "a2" and a.state is final
                                                                 for a in s.actions))  # fmt: skip
    assert recorded.total(metrics.APPROVALS_REQUESTED, action="drain") == 3
    assert recorded.total(metrics.APPROVALS_DECIDED, action="drain", outcome="granted") == 1
    assert recorded.total(metrics.APPROVALS_DECIDED, action="drain", outcome="refused") == 1
    assert recorded.total(metrics.APPROVALS_DECIDED, action="drain", outcome="timed_out") == 1


async def test_alerts_resolving_before_anyone_acks_stop_the_pages_but_measure_no_time_to_ack(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    recorded: Recorded,
    tmp_path: Path,
    health_endpoint: HealthEndpoint,
) -> None:
    """Before (all-patches-2026-12-c), the alerts' resolution counted as the ack: MTTA, the time-to-ack
    histogram, the report and the post-mortem all said 'acknowledged' when nobody had answered a page. And
    while that resolve waited on a failing health gate, a person's `resolve --force` was ignored."""
    health_endpoint.status_code = 503
    policy_file = policy_file_with(tmp_path, health_checks={"checkout": health_endpoint.url})
    settings = settings.model_copy(update={"policy_file": policy_file})
    key = f"unacked-{uuid4()}"

    def alert(status: AlertStatus, event_id: str) -> Alert:
        return Alert(source="alertmanager", dedup_key=key, event_id=event_id, status=status, service="checkout",
                     summary="5xx above 5%")  # fmt: skip

    client = time_skipping_env.client
    worker_client = await metered_client(time_skipping_env, recorded)
    async with running_worker(worker_client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await signal_with_start(client, settings.task_queue, key, alert(AlertStatus.FIRING, "e1"))
        await status_when(handle, lambda status: bool(status.paged))
        await time_skipping_env.sleep(timedelta(minutes=5))
        await handle.signal(IncidentWorkflow.add_alert, alert(AlertStatus.RESOLVED, "e2"))
        await time_skipping_env.sleep(timedelta(hours=2))  # the gate keeps failing; nobody is paged again
        status: IncidentStatus = await handle.query(IncidentWorkflow.status)
        assert status.resolved_by is None and status.acknowledged_by_alerts
        assert status.acknowledged_by == "alertmanager (all alerts resolved)"
        resolve_requested = next(e.at for e in events(status, EventKind.RESOLVE_REQUESTED))
        ack_chain = [
            e for e in events(status, EventKind.ESCALATED) if str(e.details.get("duty")).startswith("ack/")
        ]
        assert not [e for e in ack_chain if e.at > resolve_requested]  # (the 1-hour open/2 still engages)
        assert recorded.values(metrics.TIME_TO_ACK) == []

        # bob steps in: his ack is the incident's first by a person, and his forced resolve takes over.
        await handle.signal(IncidentWorkflow.acknowledge, {"by": "bob"})
        verdict = await handle.execute_update(
            IncidentWorkflow.resolve_update, {"by": "bob", "force": True, "note": "health URL retired"}
        )
        assert verdict.outcome == "applied" and verdict.reason == "resolved"
        result = await handle.result()
    assert result.resolved_by == "bob" and result.acknowledged_by == "bob"
    opened = next(e.at for e in status.timeline if e.kind is EventKind.ALERT)
    acked = opened + timedelta(seconds=result.time_to_acknowledge_seconds or 0)
    assert acked - opened > timedelta(hours=2)  # bob's ack, not the alerts' at +5 minutes
    (time_to_ack,) = recorded.values(metrics.TIME_TO_ACK)
    assert time_to_ack == pytest.approx(result.time_to_acknowledge_seconds)
