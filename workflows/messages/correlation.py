"""The intake's correlation router: which incident a dedup key belongs to."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from workflows.messages.common import Contract

CORRELATION_WORKFLOW = "AlertCorrelation"

CORRELATION_ID_PREFIX = "correlate-"


def correlation_workflow_id(service: str) -> str:
    return f"{CORRELATION_ID_PREFIX}{service}"


class CorrelationInput(Contract):
    """One router per service; `routes` carries its memory across continue-as-new."""

    service: str = Field(min_length=1, max_length=200)
    window_seconds: float = Field(gt=0, description="alerts this soon after an incident opened join it")
    routes: dict[str, str] = Field(default_factory=dict, description="dedup key -> incident key")
    anchor_key: str | None = None
    anchor_opened_at: datetime | None = None


class RouteRequest(Contract):
    dedup_key: str = Field(min_length=1, max_length=512)
    source: str = Field(min_length=1, max_length=64)
    firing: bool = True


class RouteDecision(Contract):
    incident_key: str
    correlation: str | None = Field(default=None, description="set the first time a key joins another")


MAX_ROUTE_BATCH = 200


class RouteBatch(Contract):
    """Every key an intake has queued for one service since its last answer: one update, one workflow task,
    however many senders are waiting (a router takes at most 10 updates in flight, 2,000 per run)."""

    requests: list[RouteRequest] = Field(min_length=1, max_length=MAX_ROUTE_BATCH)


class RouteDecisions(Contract):
    decisions: list[RouteDecision] = Field(description="one per request, in the same order")


class RoutesTaken(Contract):
    """Routes an intake took without the router's answer (it did not answer in time): the router records
    them as fact, so a later resolve of the key finds the incident its firing alert really went to."""

    routes: dict[str, str] = Field(min_length=1, description="dedup key -> incident key it was sent to")
