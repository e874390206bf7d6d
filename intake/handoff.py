"""Handing alerts to Temporal: the only place the intake talks to the server.

Firing alerts use signal-with-start on `incident-<key>` with USE_EXISTING, so "open or join" is one atomic
server call and concurrent deliveries of one group can never open two incidents. Resolves and acks use a
plain signal: one for an incident that does not exist opens nothing. With correlation on, the service's
AlertCorrelation router (update-with-start) first says which incident key a dedup key belongs to.

Any failure to reach Temporal raises `TemporalUnavailable`, which the app answers with 503 + Retry-After:
the intake never says 2xx for an alert it did not hand over. A partial hand-off is safe to retry whole,
because every alert carries an event id the incident remembers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from intake.errors import RetryLater
from workflows.messages.alerts import Alert, AlertStatus, IncidentInput
from workflows.messages.common import incident_workflow_id
from workflows.messages.correlation import (
    CORRELATION_WORKFLOW,
    CorrelationInput,
    RouteDecision,
    RouteRequest,
    correlation_workflow_id,
)

INCIDENT_WORKFLOW = "IncidentWorkflow"
RPC_TIMEOUT = timedelta(seconds=5)
# A router never changes a route it gave while it remembers it (24 h), so its answers can be reused for a
# while: only a key's first alert waits for the router's workflow task, not every repeat of a storm.
ROUTE_CACHE_SECONDS = 600.0
ROUTE_CACHE_SIZE = 10_000
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
        self.correlation_window = correlation_window
        self.router_timeout = router_timeout
        self._routes: dict[tuple[str, str], tuple[str, float]] = {}  # (service, key) -> (incident, expiry)

    async def deliver(self, alerts: list[Alert]) -> HandoffReport:
        try:
            targets = await self._route(alerts)
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

    async def _route(self, alerts: list[Alert]) -> list[str]:
        """The incident key of each alert: its dedup key, or the one its service's router chose."""
        if self.correlation_window <= timedelta(0):
            return [alert.dedup_key for alert in alerts]
        groups: dict[tuple[str, str], RouteRequest] = {}
        for alert in alerts:
            request = groups.setdefault(
                (alert.service, alert.dedup_key),
                RouteRequest(dedup_key=alert.dedup_key, source=alert.source, firing=False),
            )
            request.firing |= _opens(alert)
        decisions = dict(
            zip(
                groups,
                await asyncio.gather(*(self._ask_router(svc, req) for (svc, _), req in groups.items())),
                strict=True,
            )
        )
        targets = []
        for alert in alerts:
            decision = decisions[(alert.service, alert.dedup_key)]
            if decision.correlation:  # recorded once, on the first alert of the key that joined
                alert.correlation, decision.correlation = decision.correlation, None
            targets.append(decision.incident_key)
        return targets

    async def _ask_router(self, service: str, request: RouteRequest) -> RouteDecision:
        now = time.monotonic()
        cached = self._routes.get((service, request.dedup_key))
        if cached is not None and cached[1] > now:
            return RouteDecision(incident_key=cached[0])
        try:
            decision = await self._ask_router_workflow(service, request)
        except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
            if isinstance(error, RPCError) and error.status is not RPCStatusCode.DEADLINE_EXCEEDED:
                raise
            # The router answers from a workflow task, so it needs a live, unsaturated worker; the alert must
            # not wait for that. It goes to its own incident now (a possible duplicate for the service, said
            # so in its timeline). If Temporal itself is down, the hand-off that follows fails: still a 503.
            return RouteDecision(
                incident_key=request.dedup_key,
                correlation=f"correlation skipped: the router of '{service}' did not answer within "
                f"{self.router_timeout.total_seconds():g}s (no worker, or a saturated one)",
            )
        if request.firing or decision.incident_key != request.dedup_key:  # a route the router now holds
            self._routes[(service, request.dedup_key)] = (decision.incident_key, now + ROUTE_CACHE_SECONDS)
            if len(self._routes) > ROUTE_CACHE_SIZE:
                del self._routes[next(iter(self._routes))]
        return decision

    async def _ask_router_workflow(self, service: str, request: RouteRequest) -> RouteDecision:
        if not request.firing:  # a resolve/ack never starts anything, not even a router
            return await self._ask_existing_router(service, request)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            CORRELATION_WORKFLOW,
            CorrelationInput(service=service, window_seconds=self.correlation_window.total_seconds()),
            id=correlation_workflow_id(service),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            return await self.client.execute_update_with_start_workflow(
                "route",
                request,
                start_workflow_operation=start,
                result_type=RouteDecision,
                rpc_timeout=self.router_timeout,
            )
        except Exception:
            # The start half failed with it: retrieve that too, or asyncio logs it as never retrieved.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(start.workflow_handle(), timeout=1)
            raise

    async def _ask_existing_router(self, service: str, request: RouteRequest) -> RouteDecision:
        handle = self.client.get_workflow_handle(correlation_workflow_id(service))
        try:
            return await handle.execute_update(
                "route", request, result_type=RouteDecision, rpc_timeout=self.router_timeout
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:  # no router: the key was never joined anywhere
                return RouteDecision(incident_key=request.dedup_key)
            raise

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
