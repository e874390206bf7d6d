"""AlertCorrelationWorkflow: one per service, deciding which incident an alert's dedup key belongs to.

Why a workflow: correlation must be race-free under concurrent posts. Visibility is eventually consistent, so
"is there an open incident for checkout?" asked of it can be answered "no" twice at once. Here every decision
for a service is made by one workflow, in history order, and the intake reaches it with update-with-start,
so the first alert of a service creates the router atomically.

Why batches: the server lets a workflow hold at most 10 updates in flight and 2,000 per run, and each update
costs a workflow task. An intake therefore sends one `route_many` update per service at a time, carrying every
key queued since its last answer; a storm of distinct keys costs a few dozen updates, not one per key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from workflows.messages.correlation import (
        CORRELATION_WORKFLOW,
        CorrelationInput,
        RouteBatch,
        RouteDecision,
        RouteDecisions,
        RouteRequest,
        RoutesTaken,
    )
    from workflows.messages.validation import describe_validation_error

# The routes travel whole through continue-as-new (one payload, 2 MB at most): bound them by count and size.
ROUTES_LIMIT = 10_000
ROUTES_CHARS_LIMIT = 1_000_000
# Continue-as-new well before the server's 2,000 updates per run refuses the next one.
UPDATES_PER_RUN = 1_000
# Remember a service's routes this long after its last alert, so a resolve hours later still finds the
# incident its alert was joined to. Longer than any correlation window.
MEMORY = timedelta(hours=24)


def decide(state: CorrelationInput, request: RouteRequest, now: datetime) -> RouteDecision:
    """Known key: same incident. New firing key: join the service's incident if it opened within the
    window, else open its own. A resolve for an unknown key goes to its own id (which may not exist)."""
    known = state.routes.pop(request.dedup_key, None)
    if known is not None:
        state.routes[request.dedup_key] = known  # most recently used last: the bound forgets idle keys first
        return RouteDecision(incident_key=known)
    if not request.firing:
        return RouteDecision(incident_key=request.dedup_key)
    window = timedelta(seconds=state.window_seconds)
    anchor, opened = state.anchor_key, state.anchor_opened_at
    if anchor is not None and opened is not None and now - opened <= window:
        state.routes[request.dedup_key] = anchor
        return RouteDecision(
            incident_key=anchor,
            correlation=(
                f"correlated: {request.source} alert {request.dedup_key} for service '{state.service}' "
                f"joined this incident ({(now - opened).total_seconds():.0f}s after it opened, "
                f"window {window})"
            ),
        )
    state.routes[request.dedup_key] = request.dedup_key
    state.anchor_key, state.anchor_opened_at = request.dedup_key, now
    return RouteDecision(incident_key=request.dedup_key)


def decide_all(state: CorrelationInput, batch: RouteBatch, now: datetime) -> RouteDecisions:
    """Each request in order, as if each were its own update; then the memory is bounded once."""
    decisions = [decide(state, request, now) for request in batch.requests]
    bound(state)
    return RouteDecisions(decisions=decisions)


def record(state: CorrelationInput, taken: RoutesTaken) -> None:
    """An intake's fact beats the router's memory: the alert already went there."""
    for key, incident_key in taken.routes.items():
        state.routes.pop(key, None)
        state.routes[key] = incident_key
    bound(state)


def bound(state: CorrelationInput) -> None:
    """Forget the least recently used routes beyond the count and size limits."""
    size = sum(len(key) + len(target) for key, target in state.routes.items())
    while state.routes and (len(state.routes) > ROUTES_LIMIT or size > ROUTES_CHARS_LIMIT):
        oldest = next(iter(state.routes))
        size -= len(oldest) + len(state.routes.pop(oldest))


@workflow.defn(name=CORRELATION_WORKFLOW)
class AlertCorrelationWorkflow:
    @workflow.init
    def __init__(self, inp: CorrelationInput) -> None:
        self.state = inp
        self._decisions = 0
        self._updates = 0

    @workflow.run
    async def run(self, inp: CorrelationInput) -> None:
        while True:
            try:
                await workflow.wait_condition(
                    self._new_decision_since(self._decisions), timeout=MEMORY, timeout_summary="forget routes"
                )
            except TimeoutError:
                break
            if workflow.info().is_continue_as_new_suggested() or self._too_many_updates():
                # Handlers are synchronous, so none is mid-way; updates that arrive from here on are retried
                # by the server against the next run.
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _new_decision_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._decisions != seen

    def _too_many_updates(self) -> bool:
        # Patched: a run recorded before this bound existed must replay without the continue-as-new.
        return self._updates >= UPDATES_PER_RUN and workflow.patched("router-updates-per-run")

    @workflow.update(description="Which incident do these dedup keys belong to? (sent by the intake)")
    def route_many(self, batch: RouteBatch) -> RouteDecisions:
        self._decisions += 1
        self._updates += 1
        return decide_all(self.state, batch, workflow.now())

    @workflow.update(description="Which incident does this dedup key belong to? (intakes before batching)")
    def route(self, request: RouteRequest) -> RouteDecision:
        self._decisions += 1
        self._updates += 1
        decision = decide(self.state, request, workflow.now())
        bound(self.state)
        return decision

    @workflow.signal(description="Routes an intake took without an answer in time (sent by the intake)")
    def routes_taken(self, payload: Any = None) -> None:
        try:
            taken = RoutesTaken.model_validate(payload)
        except ValidationError as error:  # never raise in a signal handler: say why, change nothing
            workflow.logger.warning("routes_taken ignored: %s", describe_validation_error(error))
            return
        self._decisions += 1
        record(self.state, taken)
