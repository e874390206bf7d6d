"""All of an incident's state as one serializable model of nested parts, carried whole across continue-as-new.

Each part has one concern; views (status query, duty facts, template facts, Web UI details) are computed from
them in `views.py`, never copied into them. Every list here is bounded: an incident open for weeks carries the
same size of state as one open for minutes (the timeline's older entries live in the archive).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from workflows.alert_book import AlertBook
from workflows.containment.records import Containment
from workflows.messages.alerts import Alert, Impact
from workflows.messages.commands import Resolve
from workflows.messages.common import Contract, Phase, Severity
from workflows.messages.notifications import DeliveryResult
from workflows.messages.status import Classification, EventKind, TimelineEvent
from workflows.policy import Policy

SEEN_IDS_LIMIT = 1000
DELIVERIES_KEPT = 20
RECURRENCES_KEPT = 20


class Cause(Contract):
    """What the incident is about: who declared it or which alerts opened it, and the impact they carry."""

    service: str | None = None
    summary: str | None = None
    declared_by: str | None = None
    declared_severity: Severity | None = None
    impact: Impact = Field(default_factory=Impact)
    severity_hints: list[str] = Field(default_factory=list)
    alert_count: int = 0
    repeated_alerts: int = 0
    alerts: AlertBook = Field(default_factory=AlertBook)
    teams: list[str] = Field(default_factory=list, description="teams involved, owning team first")
    cross_team_since: datetime | None = None


class Lifecycle(Contract):
    """Where the incident is in its life and the moments that mark it."""

    phase: Phase = Phase.DETECTION
    opened_at: datetime
    classification: Classification | None = None
    response_started_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolve_request: Resolve | None = None
    resolve_by_alerts: bool = Field(default=False, description="the pending resolve came from the alerts")
    resolve_refusals: int = Field(default=0, description="failed health gates of the pending alert resolve")
    next_probe_at: datetime | None = Field(
        default=None, description="when the pending alert resolve is re-probed"
    )
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    postmortem_path: str | None = None
    aftercare_workflow_id: str | None = Field(
        default=None, description="the post-mortem review (review-<occurrence>) that carries what outlives it"
    )


class Response(Contract):
    """Who is engaged and what the duty engine has done: pages, levels, roles, acknowledgement, snooze."""

    roles: dict[str, str] = Field(default_factory=dict)
    paged: list[str] = Field(default_factory=list)
    engaged_levels: list[int] = Field(default_factory=list)
    manual_requests: dict[int, datetime] = Field(default_factory=dict)
    snoozed_until: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by_alerts: bool = Field(
        default=False,
        description="nobody acked: every alert resolved, which stops the pages but measures no MTTA",
    )
    duties_done: list[str] = Field(default_factory=list, description="ids the duty engine may still offer")
    status_cadence: tuple[str, int] = Field(
        default=("", 0), description="(anchor, slots whose nudge and escalation are done): ids not kept"
    )
    duties_failed: dict[str, list[datetime]] = Field(
        default_factory=dict, description="duty id -> when its delivery failed on every channel"
    )
    page_reached: dict[str, list[str]] = Field(
        default_factory=dict,
        description="page duty id -> people its failed attempts did reach: a retry pages only the others",
    )


class PostedUpdate(Contract):
    index: int = Field(description="stable number of this update within the incident (the duty id uses it)")
    at: datetime
    by: str
    text: str
    audience: Literal["internal", "customer"]


class Communications(Contract):
    """Status updates: the cadence anchor and the updates not yet sent (sent ones live in the timeline)."""

    last_update_at: datetime | None = None
    updates_posted: int = 0
    unsent: list[PostedUpdate] = Field(default_factory=list)


class Regulatory(Contract):
    since: datetime | None = None
    notified_by: str | None = None
    reference: str | None = None


class Timeline(Contract):
    """The recent timeline; older entries are in the archive. `next_seq` numbers every event ever recorded,
    so the archive can store a batch twice (an activity retry) and keep one copy."""

    recent: list[TimelineEvent] = Field(default_factory=list)
    next_seq: int = 0
    archived_through: int = Field(default=-1, description="highest seq stored in the archive")
    counts: dict[EventKind, int] = Field(default_factory=dict)


class IncidentState(Contract):
    incident_id: str
    occurrence: str = Field(description="this occurrence of the incident id: idempotency keys start with it")
    policy: Policy | None = None
    policy_warning: str | None = None
    cause: Cause = Field(default_factory=Cause)
    lifecycle: Lifecycle
    response: Response = Field(default_factory=Response)
    communications: Communications = Field(default_factory=Communications)
    regulatory: Regulatory = Field(default_factory=Regulatory)
    timeline: Timeline = Field(default_factory=Timeline)
    containment: Containment = Field(
        default_factory=Containment, description="actions, approvals, the emergency stop, recovery"
    )
    seen_ids: list[str] = Field(default_factory=list, description="recent alert event ids and command ids")
    deliveries: list[DeliveryResult] = Field(default_factory=list, description="the latest notifications")
    recurrences: list[Alert] = Field(
        default_factory=list, description="firing alerts that arrived after resolution: the next occurrence"
    )
    runs: int = Field(default=1, description="runs of this occurrence so far (continue-as-new adds one)")

    @property
    def severity(self) -> Severity | None:
        classification = self.lifecycle.classification
        return classification.severity if classification else None

    @property
    def is_acknowledged(self) -> bool:
        return self.response.acknowledged_at is not None

    @property
    def acknowledged_by_person_at(self) -> datetime | None:
        """The ack that MTTA measures: None while only the alerts' resolution acknowledged."""
        return None if self.response.acknowledged_by_alerts else self.response.acknowledged_at

    @property
    def is_resolved(self) -> bool:
        return self.lifecycle.resolved_at is not None

    @property
    def phase(self) -> Phase:
        return self.lifecycle.phase


class ContinuedIncident(Contract):
    """The input of a run after continue-as-new: the whole state. Never start an incident with it by hand."""

    state: IncidentState
