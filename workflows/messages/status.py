"""What readers see: classification, the timeline, deadlines, the status query and the run's result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from workflows.messages.common import Contract, Phase, Severity
from workflows.messages.notifications import DeliveryResult


class ClassificationReason(Contract):
    dimension: str
    severity: Severity
    explanation: str


class Classification(Contract):
    severity: Severity
    reasons: list[ClassificationReason]
    decided_by: str = Field(description="'matrix' or the human who reclassified")


class EventKind(StrEnum):
    DECLARED = "declared"
    ALERT = "alert"
    ALERT_REPEAT = "alert_repeat"
    CORRELATED = "correlated"
    PHASE = "phase"
    DELIVERY = "delivery"
    POLICY = "policy"
    CLASSIFIED = "classified"
    PAGED = "paged"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    NOTE = "note"
    RECLASSIFIED = "reclassified"
    MITIGATED = "mitigated"
    RESOLVE_REQUESTED = "resolve_requested"
    HEALTH_CHECK = "health_check"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    ROLE_ASSIGNED = "role_assigned"
    NOTIFIED = "notified"
    STATUS_UPDATE = "status_update"
    NUDGED = "nudged"
    SNOOZED = "snoozed"
    REGULATORY = "regulatory"
    WARNING = "warning"
    REJECTED = "rejected"
    IGNORED = "ignored"
    ACTION = "action"  # a containment or recovery action changed state (proposed, approved, ran, ...)
    APPROVAL = "approval"  # a human approved or rejected an action
    AUTOMATION = "automation"  # automation halted or resumed
    RECOVERY = "recovery"  # a phased-restoration step, its health gate, a rollback


class TimelineEvent(Contract):
    at: datetime
    kind: EventKind
    actor: str
    summary: str
    command_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = Field(default=None, description="number of this event within the incident's occurrence")


class Deadline(Contract):
    """What happens next if nobody acts, and when."""

    kind: str = Field(description="page, notice, business, regulatory, status_update, detection, ...")
    due_at: datetime
    description: str
    targets: list[str] = Field(default_factory=list)


class ActionState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    HALTED = "halted"
    ROLLED_BACK = "rolled_back"


class ApprovalView(Contract):
    by: str
    at: datetime
    decision: Literal["approved", "rejected"]
    reason: str | None = None


class ActionView(Contract):
    """One containment or recovery action as `warroom status --json` shows it (a public shape, issue 9)."""

    id: str
    name: str
    adapter: str
    risk: str
    state: ActionState
    requested_by: str
    requested_at: datetime
    approvals: list[ApprovalView] = Field(default_factory=list)
    result: str | None = None


class IncidentStatus(Contract):
    """The `status` query: everything a human needs to know at a glance."""

    incident_id: str
    phase: Phase
    service: str | None
    summary: str | None
    severity: Severity | None
    classification: Classification | None
    escalation_level: int
    roles: dict[str, str] = Field(default_factory=dict)
    paged: list[str]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by_alerts: bool = Field(
        default=False, description="nobody acked: every alert resolved, which stopped the pages; no MTTA"
    )
    mitigated_at: datetime | None
    resolved_by: str | None
    next_deadline: Deadline | None
    upcoming: list[Deadline] = Field(default_factory=list, description="what happens next, soonest first")
    snoozed_until: datetime | None = None
    regulatory_deadline: datetime | None = None
    regulatory_notified_by: str | None = None
    alert_count: int
    repeated_alerts: int = 0
    occurrence: str | None = Field(default=None, description="this occurrence of the incident id")
    runs: int = Field(default=1, description="workflow runs of this occurrence (continue-as-new adds one)")
    timeline: list[TimelineEvent] = Field(description="the most recent events; the archive holds the rest")
    timeline_total: int = Field(
        default=0, description="events recorded in this occurrence, archived included"
    )
    event_counts: dict[str, int] = Field(default_factory=dict, description="events recorded, by kind")
    policy_warning: str | None = None
    aftercare_workflow_id: str | None = Field(
        default=None,
        description="the workflow that carries what outlives resolution: the post-mortem review "
        "(review-<occurrence>; older incidents: aftercare-<occurrence>), which also runs the regulatory clock",
    )
    deliveries: list[DeliveryResult] = Field(
        default_factory=list, description="every notification: sent, failed with reason, fell back"
    )
    actions: list[ActionView] = Field(
        default_factory=list, description="containment and recovery actions, pending approvals included"
    )
    automation_halted: str | None = Field(
        default=None, description="who halted automation and why, while the emergency stop holds"
    )
    recovery: str | None = Field(default=None, description="phased recovery: status and traffic restored")


class IncidentResult(Contract):
    incident_id: str
    severity: Severity | None
    acknowledged_by: str | None
    resolved_by: str | None
    postmortem_path: str | None
    time_to_acknowledge_seconds: float | None
    time_to_resolve_seconds: float | None
    occurrence: str | None = None
    aftercare_workflow_id: str | None = None
    next_occurrence: bool = Field(default=False, description="alerts fired again; a new occurrence continues")
