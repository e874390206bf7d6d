"""Which incident each alert goes to when correlation is on: its service's router decides, in batches.

The router (`workflows/correlation.py`) is one workflow per service, so under a storm of distinct keys for one
service it is the serial point. The server also caps a workflow at 10 updates in flight and 2,000 per run, so
one update per key (what this replaced) refused alerts with 503s and stalled. Here:
- **a route cache**: a router never changes a route it gave while it remembers it (24 h), so an answer is
  reused for 10 minutes and only a key's first alert waits for the router;
- **one update per service in flight**: keys that arrive while it is out queue up and go together, as one
  `route_many` update (one workflow task), as soon as it returns. The batch grows with the load;
- **a router that does not answer in time** (no worker, or a saturated one): a *firing* alert must not wait,
  so it goes to its own incident and the router is told (`routes_taken`), so that the key's later resolve
  finds the incident the alert really went to. A *resolve or acknowledge* is answered 503: sent to its own
  key it would find no incident and be lost, while the sender's retry reaches the router (issue 8, defect 8).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from intake.errors import RetryLater
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.correlation import (
    CORRELATION_WORKFLOW,
    MAX_ROUTE_BATCH,
    CorrelationInput,
    RouteBatch,
    RouteDecision,
    RouteDecisions,
    RouteRequest,
    RoutesTaken,
    correlation_workflow_id,
)

ROUTE_CACHE_SECONDS = 600.0
ROUTE_CACHE_SIZE = 10_000

log = logging.getLogger("warroom.intake")


class RouterTooSlow(Exception):
    """The router did not answer within the intake's wait."""


class RouteUnknown(RetryLater):
    """A resolve/ack whose route only the router knows, and the router did not answer in time."""


@dataclass
class _Waiting:
    """One dedup key queued for the next batch, and every request waiting for its answer."""

    request: RouteRequest
    answers: list[asyncio.Future[RouteDecision]] = field(default_factory=list)


@dataclass
class _ServiceQueue:
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    flushing: bool = False


class Routing:
    def __init__(self, client: Client, task_queue: str, window: timedelta, router_timeout: timedelta) -> None:
        self.client = client
        self.task_queue = task_queue
        self.window = window
        self.router_timeout = router_timeout
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}  # (service, key) -> (incident, expiry)
        self._queues: dict[str, _ServiceQueue] = {}
        self._flushes: set[asyncio.Task[None]] = set()  # strong references: the loop only keeps weak ones

    async def targets(self, alerts: list[Alert]) -> list[str]:
        """The incident key of each alert: its dedup key, or the one its service's router chose."""
        if self.window <= timedelta(0):
            return [alert.dedup_key for alert in alerts]
        requests: dict[tuple[str, str], RouteRequest] = {}
        for alert in alerts:
            request = requests.setdefault(
                (alert.service, alert.dedup_key),
                RouteRequest(dedup_key=alert.dedup_key, source=alert.source, firing=False),
            )
            request.firing |= alert.status is AlertStatus.FIRING
        answers = await asyncio.gather(*(self.decide(service, r) for (service, _), r in requests.items()))
        decisions = dict(zip(requests, answers, strict=True))
        targets = []
        for alert in alerts:
            decision = decisions[(alert.service, alert.dedup_key)]
            if decision.correlation:  # recorded once, on the first alert of the key that joined
                alert.correlation, decision.correlation = decision.correlation, None
            targets.append(decision.incident_key)
        return targets

    async def decide(self, service: str, request: RouteRequest) -> RouteDecision:
        cached = self._cache.get((service, request.dedup_key))
        if cached is not None and cached[1] > time.monotonic():
            return RouteDecision(incident_key=cached[0])
        queue = self._queues.setdefault(service, _ServiceQueue())
        waiting = queue.waiting.get(request.dedup_key)
        if waiting is None:
            waiting = queue.waiting[request.dedup_key] = _Waiting(request.model_copy())
        waiting.request.firing |= request.firing
        answer: asyncio.Future[RouteDecision] = asyncio.get_running_loop().create_future()
        waiting.answers.append(answer)
        if not queue.flushing:
            queue.flushing = True
            task = asyncio.create_task(self._flush(service, queue), name=f"route {service}")
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        return await answer

    async def _flush(self, service: str, queue: _ServiceQueue) -> None:
        """Send what is queued for the service, one batch at a time, until nothing is left."""
        try:
            while queue.waiting:
                keys = list(queue.waiting)[:MAX_ROUTE_BATCH]
                await self._answer(service, [queue.waiting.pop(key) for key in keys])
        finally:
            queue.flushing = False
            if not queue.waiting:
                self._queues.pop(service, None)

    async def _answer(self, service: str, batch: list[_Waiting]) -> None:
        requests = [waiting.request for waiting in batch]
        outcomes: list[RouteDecision | BaseException]
        try:
            try:
                outcomes = list((await self._ask(service, requests)).decisions)
            except RouterTooSlow:
                outcomes = await self._without_router(service, requests)
        except Exception as error:  # Temporal unreachable or refusing: every waiting request gets it
            outcomes = [error] * len(batch)
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, RouteDecision):
                self._remember(service, waiting.request, outcome)
            for index, answer in enumerate(waiting.answers):
                if answer.done():  # its request was cancelled (the sender hung up)
                    continue
                if isinstance(outcome, BaseException):
                    answer.set_exception(outcome)
                else:  # the note that the key joined another incident is recorded once
                    answer.set_result(
                        outcome if index == 0 else outcome.model_copy(update={"correlation": None})
                    )

    def _remember(self, service: str, request: RouteRequest, decision: RouteDecision) -> None:
        if request.firing or decision.incident_key != request.dedup_key:  # a route the router now holds
            expiry = time.monotonic() + ROUTE_CACHE_SECONDS
            self._cache[(service, request.dedup_key)] = (decision.incident_key, expiry)
            if len(self._cache) > ROUTE_CACHE_SIZE:
                del self._cache[next(iter(self._cache))]

    async def _ask(self, service: str, requests: list[RouteRequest]) -> RouteDecisions:
        batch = RouteBatch(requests=requests)
        try:
            if any(request.firing for request in requests):
                answer = await self._ask_or_start_router(service, batch)
            else:  # resolves/acks never start anything, not even a router
                answer = await self._ask_existing_router(service, batch)
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise RouterTooSlow from None
        except RPCError as error:
            if error.status is RPCStatusCode.DEADLINE_EXCEEDED:
                raise RouterTooSlow from None
            raise
        if len(answer.decisions) != len(requests):
            raise RuntimeError(
                f"the router of '{service}' answered {len(answer.decisions)} of {len(requests)}"
            )
        return answer

    async def _ask_or_start_router(self, service: str, batch: RouteBatch) -> RouteDecisions:
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            CORRELATION_WORKFLOW,
            self._router_input(service),
            id=correlation_workflow_id(service),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            return await self.client.execute_update_with_start_workflow(
                "route_many",
                batch,
                start_workflow_operation=start,
                result_type=RouteDecisions,
                rpc_timeout=self.router_timeout,
            )
        except Exception:
            # The start half failed with it: retrieve that too, or asyncio logs it as never retrieved.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(start.workflow_handle(), timeout=1)
            raise

    async def _ask_existing_router(self, service: str, batch: RouteBatch) -> RouteDecisions:
        handle = self.client.get_workflow_handle(correlation_workflow_id(service))
        try:
            return await handle.execute_update(
                "route_many", batch, result_type=RouteDecisions, rpc_timeout=self.router_timeout
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:  # no router: none of these keys was joined anywhere
                return RouteDecisions(
                    decisions=[RouteDecision(incident_key=r.dedup_key) for r in batch.requests]
                )
            raise

    async def _without_router(
        self, service: str, requests: list[RouteRequest]
    ) -> list[RouteDecision | BaseException]:
        """The router did not answer in time: firing keys go to their own incidents (and the router is told,
        so a late answer to the update it may still apply cannot send their resolves elsewhere); resolves
        and acks are refused for now, because only the router knows where their firing alert went."""
        waited = f"{self.router_timeout.total_seconds():g}s"
        taken = {request.dedup_key: request.dedup_key for request in requests if request.firing}
        if taken:
            await self.client.start_workflow(  # signal-with-start: the router may not exist yet
                CORRELATION_WORKFLOW,
                self._router_input(service),
                id=correlation_workflow_id(service),
                task_queue=self.task_queue,
                start_signal="routes_taken",
                start_signal_args=[RoutesTaken(routes=taken)],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                rpc_timeout=self.router_timeout,
            )
        stranded_on = await self._router_queue_if_stranded(service)
        if stranded_on is None:
            why = "(no worker, or a saturated one)"
        else:
            why = (
                f"(it runs on task queue '{stranded_on}', this intake on '{self.task_queue}': "
                "end it as docs/versioning.md's drain says)"
            )
            log.warning("correlation router %s is stranded on task queue %r; this intake uses %r",
                        correlation_workflow_id(service), stranded_on, self.task_queue)  # fmt: skip
        skipped = f"correlation skipped: the router of '{service}' did not answer within {waited} {why}"
        return [
            RouteDecision(incident_key=request.dedup_key, correlation=skipped)
            if request.firing
            else RouteUnknown(
                f"the correlation router of '{service}' did not answer within {waited}, and only it knows "
                f"which incident '{request.dedup_key}' joined"
            )
            for request in requests
        ]

    async def _router_queue_if_stranded(self, service: str) -> str | None:
        """The task queue of the service's router when it is not this intake's: a router left behind by a
        drain to a new task queue, which no worker may poll any more. None when it is ours or unknown."""
        with contextlib.suppress(Exception):  # only an explanation: never fail the hand-over for it
            described = await self.client.get_workflow_handle(correlation_workflow_id(service)).describe(
                rpc_timeout=self.router_timeout
            )
            if described.task_queue != self.task_queue:
                return described.task_queue
        return None

    def _router_input(self, service: str) -> CorrelationInput:
        return CorrelationInput(service=service, window_seconds=self.window.total_seconds())
