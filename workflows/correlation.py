"""AlertCorrelationWorkflow: one per service, deciding which incident an alert's dedup key belongs to.

Why a workflow: correlation must be race-free under concurrent posts. Visibility is eventually consistent, so
"is there an open incident for checkout?" asked of it can be answered "no" twice at once. Here every decision
for a service is an update on one workflow, applied one at a time in history order, and the intake reaches
it with update-with-start, so the first alert of a service creates the router atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.messages.correlation import (
        CORRELATION_WORKFLOW,
        CorrelationInput,
        RouteDecision,
        RouteRequest,
    )

ROUTES_LIMIT = 1000
# Remember a service's routes this long after its last alert, so a resolve hours later still finds the
# incident its alert was joined to. Longer than any correlation window.
MEMORY = timedelta(hours=24)


def decide(state: CorrelationInput, request: RouteRequest, now: datetime) -> RouteDecision:
    """Known key: same incident. New firing key: join the service's incident if it opened within the
    window, else open its own. A resolve for an unknown key goes to its own id (which may not exist)."""
    known = state.routes.get(request.dedup_key)
    if known is not None:
        return RouteDecision(incident_key=known)
    if not request.firing:
        return RouteDecision(incident_key=request.dedup_key)
    window = timedelta(seconds=state.window_seconds)
    anchor, opened = state.anchor_key, state.anchor_opened_at
    if anchor is not None and opened is not None and now - opened <= window:
        state.routes[request.dedup_key] = anchor
        _bound(state)
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
    _bound(state)
    return RouteDecision(incident_key=request.dedup_key)


def _bound(state: CorrelationInput) -> None:
    for stale in list(state.routes)[:-ROUTES_LIMIT]:
        del state.routes[stale]


@workflow.defn(name=CORRELATION_WORKFLOW)
class AlertCorrelationWorkflow:
    @workflow.init
    def __init__(self, inp: CorrelationInput) -> None:
        self.state = inp
        self._decisions = 0

    @workflow.run
    async def run(self, inp: CorrelationInput) -> None:
        while True:
            try:
                await workflow.wait_condition(
                    self._new_decision_since(self._decisions), timeout=MEMORY, timeout_summary="forget routes"
                )
            except TimeoutError:
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _new_decision_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._decisions != seen

    @workflow.update(description="Which incident does this dedup key belong to? (sent by the intake)")
    def route(self, request: RouteRequest) -> RouteDecision:
        self._decisions += 1
        return decide(self.state, request, workflow.now())
