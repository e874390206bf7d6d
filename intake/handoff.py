"""Handing alerts to Temporal: the only place the intake talks to the server.

Firing alerts use signal-with-start on `incident-<key>` with USE_EXISTING, so "open or join" is one atomic
server call and concurrent deliveries of one group can never open two incidents. Resolves and acks use a
plain signal: one for an incident that does not exist opens nothing. With correlation on, the service's
AlertCorrelation router first says which incident key a dedup key belongs to (`intake/routing.py`).

Any failure to reach Temporal raises `TemporalUnavailable`, which the app answers with 503 + Retry-After:
the intake never says 2xx for an alert it did not hand over. A partial hand-off is safe to retry whole,
because every alert carries an event id the incident remembers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from intake.errors import RetryLater
from intake.repeats import RecentDeliveries
from intake.routing import Routing
from workflows.messages.alerts import Alert, AlertStatus, IncidentInput
from workflows.messages.common import incident_workflow_id
from workflows.messages.heartbeat import Heartbeat, SwitchInput, switch_workflow_id

INCIDENT_WORKFLOW = "IncidentWorkflow"
SWITCH_WORKFLOW = "DeadMansSwitchWorkflow"
RPC_TIMEOUT = timedelta(seconds=5)
# The Temporal server caps a workflow's summary (400 bytes by default); stay well under it.
STATIC_SUMMARY_BYTES = 200
# Longer than Alertmanager's and Grafana's default repeat_interval (4h), so their repeats are recognised.
DEFAULT_REPEAT_WINDOW = timedelta(hours=6)


class TemporalUnavailable(RetryLater):
    """Temporal did not take the alert; the sender must retry."""


@dataclass
class HandoffReport:
    signalled: dict[str, int] = field(default_factory=dict)  # incident id -> alerts handed over
    not_open: list[str] = field(default_factory=list)  # resolves/acks for incidents that do not exist
    repeats: dict[str, int] = field(default_factory=dict)  # incident id -> deliveries it already holds

    def add(self, incident_id: str) -> None:
        self.signalled[incident_id] = self.signalled.get(incident_id, 0) + 1

    def repeated(self, incident_id: str) -> None:
        self.repeats[incident_id] = self.repeats.get(incident_id, 0) + 1

    def missing(self, incident_id: str) -> None:
        if incident_id not in self.not_open:
            self.not_open.append(incident_id)


@dataclass
class _Routed:
    """One alert and the incident key correlation chose for it."""

    alert: Alert
    key: str

    @property
    def incident_id(self) -> str:
        return incident_workflow_id(self.key)


class Handoff:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        correlation_window: timedelta,
        router_timeout: timedelta = RPC_TIMEOUT,
        repeat_window: timedelta = DEFAULT_REPEAT_WINDOW,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.routing = Routing(client, task_queue, correlation_window, router_timeout)
        self.recent = RecentDeliveries(repeat_window)

    async def deliver(self, alerts: list[Alert]) -> HandoffReport:
        try:
            keys = await self.routing.targets(alerts)
            report = HandoffReport()
            routed = [_Routed(alert, key) for alert, key in zip(alerts, keys, strict=True)]
            held = {id(item) for item in await self._already_held(routed)}
            for item in routed:
                if id(item) in held:
                    report.repeated(item.incident_id)
            fresh = [item for item in routed if id(item) not in held]
            firing = [item for item in fresh if _opens(item.alert)]
            others = [item for item in fresh if not _opens(item.alert)]
            # Firing first: in a mixed group, a resolve must not race ahead of the start it resolves.
            runs = await asyncio.gather(*map(self._open_or_join, firing))
            for item, run_id in zip(firing, runs, strict=True):
                report.add(item.incident_id)
                self.recent.delivered(item.incident_id, item.alert, run_id)
            found = await asyncio.gather(*map(self._signal_existing, others))
            for item, exists in zip(others, found, strict=True):
                if exists:
                    report.add(item.incident_id)
                    self.recent.delivered(item.incident_id, item.alert, None)
                else:
                    report.missing(item.incident_id)
            return report
        except RPCError as error:
            raise TemporalUnavailable(f"Temporal refused the hand-off ({error.status.name})") from None
        except (TemporalError, RuntimeError, TimeoutError) as error:
            # RuntimeError is the SDK's "Failed client connect"; TemporalError covers update RPC timeouts.
            reason = "connection failed" if isinstance(error, RuntimeError) else type(error).__name__
            raise TemporalUnavailable(f"Temporal is unreachable ({reason})") from None

    async def beat(self, heartbeat: Heartbeat) -> str:
        """Hand a pipeline's heartbeat to its dead-man's switch (armed by the first one); returns its id."""
        workflow_id = switch_workflow_id(heartbeat.source)
        try:
            await self.client.start_workflow(
                SWITCH_WORKFLOW,
                SwitchInput(source=heartbeat.source),
                id=workflow_id,
                task_queue=self.task_queue,
                start_signal="heartbeat",
                start_signal_args=[heartbeat],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"dead-man's switch of the alerting pipeline {heartbeat.source}",
                rpc_timeout=RPC_TIMEOUT,
            )
        except RPCError as error:
            raise TemporalUnavailable(f"Temporal refused the heartbeat ({error.status.name})") from None
        except (TemporalError, RuntimeError, TimeoutError) as error:
            reason = "connection failed" if isinstance(error, RuntimeError) else type(error).__name__
            raise TemporalUnavailable(f"Temporal is unreachable ({reason})") from None
        return workflow_id

    async def _already_held(self, routed: list[_Routed]) -> list[_Routed]:
        """The deliveries that were the last of their alert to an incident run that is still open."""
        candidates = [
            (item, record)
            for item in routed
            if (record := self.recent.held_by(item.incident_id, item.alert)) is not None
        ]
        incidents = sorted({item.incident_id for item, _ in candidates})
        open_runs = dict(zip(incidents, await asyncio.gather(*map(self._open_run, incidents)), strict=True))
        held = []
        for item, record in candidates:
            run_id = open_runs[item.incident_id]
            if run_id is not None and record.run_id in (None, run_id):
                self.recent.still_held(item.incident_id, item.alert)
                held.append(item)
        return held

    async def _open_run(self, incident_id: str) -> str | None:
        """The run id of the incident if it is open now (a read: no history event), else None."""
        try:
            description = await self.client.get_workflow_handle(incident_id).describe(rpc_timeout=RPC_TIMEOUT)
        except RPCError:  # gone, or Temporal is failing: deliver as usual (which then answers 503 if need be)
            return None
        return description.run_id if description.status is WorkflowExecutionStatus.RUNNING else None

    async def _open_or_join(self, item: _Routed) -> str | None:
        """Signal-with-start; returns the run that took the alert."""
        handle = await self.client.start_workflow(
            INCIDENT_WORKFLOW,
            IncidentInput(incident_key=item.key),
            id=item.incident_id,
            task_queue=self.task_queue,
            start_signal="add_alert",
            start_signal_args=[item.alert],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=static_summary(item.alert),
            rpc_timeout=RPC_TIMEOUT,
        )
        return handle.result_run_id

    async def _signal_existing(self, item: _Routed) -> bool:
        handle = self.client.get_workflow_handle(item.incident_id)
        try:
            await handle.signal("add_alert", item.alert, rpc_timeout=RPC_TIMEOUT)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:  # no running incident: a resolve opens nothing
                return False
            raise
        return True


def static_summary(alert: Alert) -> str:
    """What the workflow list shows for an incident an alert opens: only what is known at start. No severity:
    the workflow classifies later and may change it (its current details say it)."""
    text = f"{alert.service}: {alert.summary}".replace("\n", " ")
    clipped = text.encode()[:STATIC_SUMMARY_BYTES].decode(errors="ignore")
    return clipped if clipped == text else clipped[:-1] + "…"


def _opens(alert: Alert) -> bool:
    return alert.status is AlertStatus.FIRING
