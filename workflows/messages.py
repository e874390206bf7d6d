"""The public contract of warroom's workflows: every input, signal, query and activity model.

Field names here are a public API: humans type them into the Temporal Web UI and the CLI sends them, so
renaming one is a breaking change. Models that humans type forbid unknown fields, so a typo ("ackd_by")
is rejected with a reason instead of silently ignored.

Nothing here may default to the clock or to random values: workflow code passes `workflow.now()` and
`workflow.uuid4()` explicitly (a `default_factory=datetime.now` wedges or breaks determinism).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.durations import Duration

TASK_QUEUE = "warroom"
WORKFLOW_ID_PREFIX = "incident-"


def incident_workflow_id(key: str) -> str:
    """The workflow id of the incident for a dedup key (or an id that already carries the prefix)."""
    return key if key.startswith(WORKFLOW_ID_PREFIX) else f"{WORKFLOW_ID_PREFIX}{key}"


class Severity(StrEnum):
    """SEV-1 is the worst. Values are what humans type ("SEV-2")."""

    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"
    SEV4 = "SEV-4"

    @property
    def rank(self) -> int:
        """1 for SEV-1 ... 4 for SEV-4: lower is more severe."""
        return int(self.value[-1])

    @classmethod
    def most_severe(cls, severities: list[Severity]) -> Severity:
        return min(severities, key=lambda severity: severity.rank)


class Phase(StrEnum):
    """Where an incident is in its life; also the IncidentPhase search attribute."""

    DETECTION = "detection"
    CLASSIFICATION = "classification"
    RESPONSE = "response"
    RECOVERY = "recovery"
    ANALYSIS = "analysis"
    CLOSED = "closed"


RoleName = Literal["incident_commander", "tech_lead", "communications", "business_liaison"]
ROLES: tuple[RoleName, ...] = ("incident_commander", "tech_lead", "communications", "business_liaison")


class Contract(BaseModel):
    """Base for models humans type: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- impact and alerts


class Impact(Contract):
    """What the classifier reads. Every field is optional: alerts rarely carry all of it."""

    users_affected: int | None = Field(default=None, ge=0)
    user_scope: Literal["all", "major_segment", "minor_segment", "individual"] | None = None
    revenue_per_hour: float | None = Field(default=None, ge=0, description="US dollars at risk per hour")
    regions: list[str] = Field(default_factory=list)
    function: Literal["core", "secondary"] | None = None
    security_breach: bool = False
    data_corruption: bool = False
    regulatory: bool = False
    error_rate: float | None = Field(default=None, ge=0, le=1, description="failing share of requests, 0..1")
    availability: float | None = Field(default=None, ge=0, le=1, description="serving share, 0..1")

    def widened_by(self, other: Impact) -> Impact:
        """The union of two impacts: more users, more revenue, more regions, any flag set."""

        def larger(a: float | None, b: float | None) -> Any:
            return b if a is None else a if b is None else max(a, b)

        def smaller(a: float | None, b: float | None) -> Any:
            return b if a is None else a if b is None else min(a, b)

        scope_order = ["individual", "minor_segment", "major_segment", "all"]
        scopes = [s for s in (self.user_scope, other.user_scope) if s is not None]
        function = "core" if "core" in (self.function, other.function) else self.function or other.function
        return Impact(
            users_affected=larger(self.users_affected, other.users_affected),
            user_scope=max(scopes, key=scope_order.index) if scopes else None,
            revenue_per_hour=larger(self.revenue_per_hour, other.revenue_per_hour),
            regions=sorted(set(self.regions) | set(other.regions)),
            function=function,
            security_breach=self.security_breach or other.security_breach,
            data_corruption=self.data_corruption or other.data_corruption,
            regulatory=self.regulatory or other.regulatory,
            error_rate=larger(self.error_rate, other.error_rate),
            availability=smaller(self.availability, other.availability),
        )


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"


class Alert(Contract):
    """One alert from any source, normalized. The `add_alert` signal payload."""

    source: str = Field(min_length=1, max_length=64, description="alertmanager, grafana, cli, ...")
    dedup_key: str = Field(min_length=1, max_length=512, description="which incident this alert belongs to")
    event_id: str | None = Field(
        default=None, max_length=512, description="identifies this exact delivery; a repeat is ignored"
    )
    status: AlertStatus = AlertStatus.FIRING
    service: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=2000)
    severity_hint: str | None = Field(default=None, max_length=64)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    impact: Impact = Field(default_factory=Impact)
    fingerprint: str | None = Field(
        default=None,
        max_length=512,
        description="which alert of the incident this is (Alertmanager fingerprint...); default dedup_key",
    )
    truncated_alerts: int = Field(default=0, ge=0, description="alerts the sender left out of its group")
    correlation: str | None = Field(
        default=None, max_length=2000, description="why the intake joined this alert to another incident"
    )

    @property
    def identity(self) -> str:
        """The alert within its incident: a resolve with the same identity clears the firing one."""
        return f"{self.source}:{self.fingerprint or self.dedup_key}"


# --------------------------------------------------------------------------- workflow input / result


class IncidentInput(Contract):
    """How an incident starts: declared by a human, or opened empty by signal-with-start of an alert."""

    incident_key: str = Field(min_length=1, max_length=512)
    service: str | None = Field(default=None, max_length=200)
    summary: str | None = Field(default=None, max_length=2000)
    declared_by: str | None = Field(default=None, max_length=200)
    severity: Severity | None = Field(default=None, description="a human's choice; overrides the matrix")
    impact: Impact = Field(default_factory=Impact)


class IncidentResult(Contract):
    incident_id: str
    severity: Severity | None
    acknowledged_by: str | None
    resolved_by: str | None
    postmortem_path: str | None
    time_to_acknowledge_seconds: float | None
    time_to_resolve_seconds: float | None


# --------------------------------------------------------------------------- human commands (signals)


class Command(Contract):
    """Every human command names its actor and may carry an id so a repeat is a no-op."""

    by: str = Field(min_length=1, max_length=200, description="who is doing this (name or handle)")
    command_id: str | None = Field(default=None, max_length=200, description="repeat-safe id, optional")


class Acknowledge(Command):
    note: str | None = Field(default=None, max_length=2000)


class AddNote(Command):
    text: str = Field(min_length=1, max_length=10000)


class Reclassify(Command):
    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


class Mitigate(Command):
    note: str | None = Field(default=None, max_length=2000)


class Resolve(Command):
    note: str | None = Field(default=None, max_length=2000)
    force: bool = Field(default=False, description="resolve even if the health gate fails")


class AssignRole(Command):
    role: RoleName
    person: str = Field(min_length=1, max_length=200)


class Escalate(Command):
    level: int = Field(ge=1, le=10, description="engage this escalation level now")
    reason: str = Field(min_length=1, max_length=2000)


class Snooze(Command):
    duration: Duration = Field(description='how long to hold pages and nudges, e.g. "30m"; bounded by policy')
    reason: str = Field(min_length=1, max_length=2000)


class PostUpdate(Command):
    text: str = Field(min_length=1, max_length=10000)
    audience: Literal["internal", "customer"] = "internal"


class RecordRegulatoryNotification(Command):
    reference: str | None = Field(
        default=None, max_length=500, description="e.g. the regulator's case number"
    )
    note: str | None = Field(default=None, max_length=2000)


# --------------------------------------------------------------------------- classification


class ClassificationReason(Contract):
    dimension: str
    severity: Severity
    explanation: str


class Classification(Contract):
    severity: Severity
    reasons: list[ClassificationReason]
    decided_by: str = Field(description="'matrix' or the human who reclassified")


# --------------------------------------------------------------------------- timeline and status


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


class TimelineEvent(Contract):
    at: datetime
    kind: EventKind
    actor: str
    summary: str
    command_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Deadline(Contract):
    """What happens next if nobody acts, and when."""

    kind: str = Field(description="page, notice, business, regulatory, status_update, detection, ...")
    due_at: datetime
    description: str
    targets: list[str] = Field(default_factory=list)


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
    mitigated_at: datetime | None
    resolved_by: str | None
    next_deadline: Deadline | None
    upcoming: list[Deadline] = Field(default_factory=list, description="what happens next, soonest first")
    snoozed_until: datetime | None = None
    regulatory_deadline: datetime | None = None
    regulatory_notified_by: str | None = None
    alert_count: int
    timeline: list[TimelineEvent]
    deliveries: list[DeliveryResult] = Field(
        default_factory=list, description="every notification: sent, failed with reason, fell back"
    )


# --------------------------------------------------------------------------- activities


class LoadPolicyRequest(Contract):
    incident_id: str


class NotificationKind(StrEnum):
    """What a message is about; each kind has its own template (adapters/notify/templates/<kind>.txt.j2)."""

    PAGE = "page"
    ESCALATION = "escalation"
    ACKNOWLEDGEMENT = "acknowledgement"
    STATUS_UPDATE = "status_update"
    CUSTOMER_COMMUNICATION = "customer_communication"
    RESOLUTION = "resolution"
    POSTMORTEM_READY = "postmortem_ready"


class Recipient(Contract):
    """A person or role to reach, with the contacts the roster knows (addresses, not secrets)."""

    name: str
    email: str | None = None
    slack_user_id: str | None = None
    phone: str | None = None


class Notification(Contract):
    """One message to people over one channel.

    `idempotency_key` is `<workflow id>/<step>[/<recipients>]/<channel>`: stable across activity retries and
    worker crashes, different per channel so a fallback is a new message, not a duplicate of the failed one.
    `facts` feed the templates (impact, incident_commander, bridge, next_update_at, ack_hint, ...).
    """

    idempotency_key: str
    incident_id: str
    kind: NotificationKind
    channel: str
    recipients: list[str]
    severity: Severity | None
    service: str | None
    subject: str
    body: str
    contacts: list[Recipient] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)


DeliveryOutcome = Literal["sent", "failed", "unknown"]


class ChannelAttempt(Contract):
    """What happened on one channel: sent, failed (with the channel's reason) or unknown (no answer)."""

    channel: str
    recipients: list[str] = Field(default_factory=list)
    outcome: DeliveryOutcome
    detail: str
    attempts: int = Field(default=1, description="activity attempts on this channel (retries + 1)")


class DeliveryResult(Contract):
    """The outcome of one notification, over every channel tried in fallback order."""

    channel: str
    recipients: list[str]
    delivered: bool
    detail: str
    outcome: DeliveryOutcome = "sent"
    step: str | None = None
    kind: NotificationKind | None = None
    tried: list[ChannelAttempt] = Field(default_factory=list, description="channels tried, in order")

    @property
    def fell_back(self) -> bool:
        return len(self.tried) > 1


class HealthCheckRequest(Contract):
    incident_id: str
    service: str | None
    url: str | None = Field(default=None, description="from the incident's pinned policy; none: unchecked")


class HealthCheckResult(Contract):
    healthy: bool
    checked: bool = Field(description="False when no health check is configured for the service")
    detail: str


class PostmortemRequest(Contract):
    incident_id: str
    status: IncidentStatus


class PostmortemResult(Contract):
    path: str


class ActivityName(StrEnum):
    """Activities are called by name so workflow code never imports the side-effecting layer."""

    LOAD_POLICY = "load_policy"
    NOTIFY = "notify"
    CHECK_HEALTH = "check_health"
    RENDER_POSTMORTEM = "render_postmortem"


IncidentStatus.model_rebuild()  # `deliveries` refers to DeliveryResult, defined further down


# --------------------------------------------------------------------------- alert correlation (the intake)

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
