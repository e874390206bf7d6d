"""The containment activities' contract: what the workflow asks an adapter to do to the system, and what the
adapter reports back. Shared by the workflow side (approvals, recovery) and the adapters (`adapters/contain/`),
so either can change behind it without touching the other.

Idempotency: `idempotency_key` is `<occurrence>/<action_id>[/<step>]`, stable across activity retries and worker
crashes; an adapter that sees a key it already completed answers with the first result instead of acting again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from workflows.messages.common import Contract


class ContainmentRequest(Contract):
    """One operation of one adapter, e.g. `haproxy` / `drain` with `{"backend": "shop", "server": "eu"}`."""

    incident_id: str
    action_id: str = Field(description="the incident's id for this action (a1, a2, ...)")
    adapter: str = Field(description="a name the worker resolves: haproxy, http_runbook, shop, snapshot, ...")
    operation: str = Field(description="what the adapter does: drain, disable, enable, set_weight, ...")
    params: dict[str, Any] = Field(default_factory=dict, description="no secrets: the worker adds those")
    idempotency_key: str


class ContainmentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNDONE = "undone"  # cancelled (halt) and the adapter put things back as they were
    PARTIAL = "partial"  # cancelled or failed part-way; `detail` says what was left done


class ContainmentResult(Contract):
    outcome: ContainmentOutcome
    detail: str = Field(description="what was done, read back from the system where the adapter can")
    observed: dict[str, Any] = Field(default_factory=dict, description="state read back after acting")


class HealthObservationRequest(Contract):
    """Watch a service's health for a soak time: the recovery phase's gate after each traffic step."""

    incident_id: str
    url: str = Field(description="a health endpoint answering JSON with error_rate and latency_ms")
    soak_seconds: float = Field(gt=0)
    max_error_rate: float = Field(ge=0, le=1)
    max_latency_ms: float = Field(gt=0)


class HealthObservationResult(Contract):
    healthy: bool
    samples: int
    worst_error_rate: float
    worst_latency_ms: float
    detail: str
