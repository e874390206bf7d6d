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

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from intake.errors import RetryLater
from intake.routing import Routing
from workflows.messages.alerts import Alert, AlertStatus, IncidentInput
from workflows.messages.common import incident_workflow_id

INCIDENT_WORKFLOW = "IncidentWorkflow"
RPC_TIMEOUT = timedelta(seconds=5)
# The Temporal server caps a workflow's summary (400 bytes by default); stay well under it.
STATIC_SUMMARY_BYTES = 200


class TemporalUnavailable(RetryLater):
    """Temporal did not take the alert; the sender must retry."""


@dataclass
class HandoffReport:
    signalled: dict[str, int] = field(default_factory=dict)  # incident id -> alerts handed over
    not_open: list[str] = field(default_factory=list)  # resolves/acks for incidents that do not exist

    def add(self, incident_id: str) -> None:
        self.signalled[incident_id] = self.signalled.get(incident_id, 0) + 1

    def missing(self, incident_id: str) -> None:
        if incident_id not in self.not_open:
            self.not_open.append(incident_id)


class Handoff:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        correlation_window: timedelta,
        router_timeout: timedelta = RPC_TIMEOUT,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.routing = Routing(client, task_queue, correlation_window, router_timeout)

    async def deliver(self, alerts: list[Alert]) -> HandoffReport:
        try:
            targets = await self.routing.targets(alerts)
            report = HandoffReport()
            firing = [(alert, key) for alert, key in zip(alerts, targets, strict=True) if _opens(alert)]
            others = [(alert, key) for alert, key in zip(alerts, targets, strict=True) if not _opens(alert)]
            # Firing first: in a mixed group, a resolve must not race ahead of the start it resolves.
            await asyncio.gather(*(self._open_or_join(alert, key) for alert, key in firing))
            for _, key in firing:
                report.add(incident_workflow_id(key))
            found = await asyncio.gather(*(self._signal_existing(alert, key) for alert, key in others))
            for (_, key), exists in zip(others, found, strict=True):
                (report.add if exists else report.missing)(incident_workflow_id(key))
            return report
        except RPCError as error:
            raise TemporalUnavailable(f"Temporal refused the hand-off ({error.status.name})") from None
        except (TemporalError, RuntimeError, TimeoutError) as error:
            # RuntimeError is the SDK's "Failed client connect"; TemporalError covers update RPC timeouts.
            reason = "connection failed" if isinstance(error, RuntimeError) else type(error).__name__
            raise TemporalUnavailable(f"Temporal is unreachable ({reason})") from None

    async def _open_or_join(self, alert: Alert, key: str) -> None:
        await self.client.start_workflow(
            INCIDENT_WORKFLOW,
            IncidentInput(incident_key=key),
            id=incident_workflow_id(key),
            task_queue=self.task_queue,
            start_signal="add_alert",
            start_signal_args=[alert],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=static_summary(alert),
            rpc_timeout=RPC_TIMEOUT,
        )

    async def _signal_existing(self, alert: Alert, key: str) -> bool:
        handle = self.client.get_workflow_handle(incident_workflow_id(key))
        try:
            await handle.signal("add_alert", alert, rpc_timeout=RPC_TIMEOUT)
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
