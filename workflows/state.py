"""All of an incident's state as one serializable model, so continue-as-new can carry it forward whole."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from workflows.alert_book import AlertBook
from workflows.messages.alerts import Impact
from workflows.messages.commands import Resolve
from workflows.messages.common import Contract, Phase, Severity
from workflows.messages.notifications import DeliveryResult
from workflows.messages.status import Classification, Deadline, EventKind, IncidentStatus, TimelineEvent
from workflows.policy import Policy

SEEN_IDS_LIMIT = 1000


class PostedUpdate(Contract):
    at: datetime
    by: str
    text: str
    audience: Literal["internal", "customer"]


class IncidentState(Contract):
    incident_id: str
    phase: Phase = Phase.DETECTION
    service: str | None = None
    summary: str | None = None
    declared_by: str | None = None
    declared_severity: Severity | None = None
    impact: Impact = Field(default_factory=Impact)
    severity_hints: list[str] = Field(default_factory=list)
    policy: Policy | None = None
    classification: Classification | None = None
    alert_count: int = 0
    repeated_alerts: int = 0
    seen_ids: list[str] = Field(default_factory=list)
    alerts: AlertBook = Field(default_factory=AlertBook)
    escalation_level: int = 0
    engaged_levels: list[int] = Field(default_factory=list)
    paged: list[str] = Field(default_factory=list)
    roles: dict[str, str] = Field(default_factory=dict)
    teams: list[str] = Field(default_factory=list, description="teams involved, owning team first")
    cross_team_since: datetime | None = None
    manual_requests: dict[int, datetime] = Field(default_factory=dict)
    snoozed_until: datetime | None = None
    last_update_at: datetime | None = None
    posted_updates: list[PostedUpdate] = Field(default_factory=list)
    regulatory_since: datetime | None = None
    regulatory_notified_by: str | None = None
    duties_done: list[str] = Field(default_factory=list)
    upcoming: list[Deadline] = Field(default_factory=list)
    response_started_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolve_request: Resolve | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    opened_at: datetime | None = None
    postmortem_path: str | None = None
    next_deadline: Deadline | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)
    deliveries: list[DeliveryResult] = Field(default_factory=list)

    @property
    def severity(self) -> Severity | None:
        return self.classification.severity if self.classification else None

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def is_finished(self) -> bool:
        return self.resolved_at is not None

    def record(
        self,
        at: datetime,
        kind: EventKind,
        actor: str,
        summary: str,
        command_id: str | None = None,
        **details: Any,
    ) -> TimelineEvent:
        event = TimelineEvent(
            at=at, kind=kind, actor=actor, summary=summary, command_id=command_id, details=details
        )
        self.timeline.append(event)
        return event

    def remember(self, seen_id: str) -> bool:
        """True the first time an id is seen; the window is bounded so long incidents stay small."""
        if seen_id in self.seen_ids:
            return False
        self.seen_ids.append(seen_id)
        del self.seen_ids[:-SEEN_IDS_LIMIT]
        return True

    def _regulatory_deadline(self) -> datetime | None:
        if self.regulatory_since is None or self.policy is None:
            return None
        return self.regulatory_since + self.policy.regulatory.deadline

    def to_status(self) -> IncidentStatus:
        return IncidentStatus(
            incident_id=self.incident_id,
            phase=self.phase,
            service=self.service,
            summary=self.summary,
            severity=self.severity,
            classification=self.classification,
            escalation_level=self.escalation_level,
            roles=self.roles,
            paged=self.paged,
            acknowledged_by=self.acknowledged_by,
            acknowledged_at=self.acknowledged_at,
            mitigated_at=self.mitigated_at,
            resolved_by=self.resolved_by,
            next_deadline=self.next_deadline,
            upcoming=self.upcoming,
            snoozed_until=self.snoozed_until,
            regulatory_deadline=self._regulatory_deadline(),
            regulatory_notified_by=self.regulatory_notified_by,
            alert_count=self.alert_count,
            timeline=self.timeline,
            deliveries=self.deliveries,
        )
