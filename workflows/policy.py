"""The response policy an incident runs under: severity matrix, roster, escalation, communications, health.

It is plain data the workflow decides with. The worker loads it (an activity, so the snapshot is pinned in the
incident's history) and it never holds secrets: channels are names the worker resolves from its environment.
Every timing is a policy value; the defaults are the ones documented in docs/policy.md.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from workflows.analysis_policy import AnalysisPolicy
from workflows.containment.policy import ContainmentPolicy, RecoveryPolicy
from workflows.durations import NonNegativeDuration, PositiveDuration, format_duration
from workflows.messages.common import Contract, RoleName, Severity
from workflows.roster import WEEKDAYS, Roster, Weekday
from workflows.routing import Routing

NEXT_BUSINESS_DAY = "next_business_day"


def _one_ack_deadline_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One message for the two forms, instead of one per branch of the union."""
    try:
        return handler(value)
    except ValidationError:
        raise ValueError(
            f"expected a duration longer than 0s (15m, 2h) or {NEXT_BUSINESS_DAY}, got {value!r}"
        ) from None


AckDeadline = Annotated[
    PositiveDuration | Literal["next_business_day"], WrapValidator(_one_ack_deadline_error)
]
# Validation context of a policy read from a file a human edits (config/policy_file.py), as opposed to a
# snapshot pinned in an incident's history, which must stay readable in the shape it was written in.
FROM_FILE = {"from_file": True}


def _by_severity(sev1: float, sev2: float, sev3: float) -> dict[Severity, float]:
    return {Severity.SEV1: sev1, Severity.SEV2: sev2, Severity.SEV3: sev3}


class SeverityMatrix(Contract):
    """Thresholds of the SEV-1..SEV-4 matrix. A value at or above a threshold earns that severity."""

    revenue_per_hour: dict[Severity, float] = Field(
        default_factory=lambda: _by_severity(1_000_000, 100_000, 10_000)
    )
    users_affected: dict[Severity, float] = Field(
        default_factory=lambda: _by_severity(1_000_000, 10_000, 100),
        description="users affected when an alert gives a count but no user_scope",
    )
    regions_for_global: int = Field(default=3, ge=2, description="this many regions count as global")
    severity_hints: dict[str, Severity] = Field(
        default_factory=lambda: {
            "critical": Severity.SEV2,
            "page": Severity.SEV2,
            "high": Severity.SEV2,
            "error": Severity.SEV3,
            "warning": Severity.SEV3,
            "medium": Severity.SEV3,
            "low": Severity.SEV4,
            "info": Severity.SEV4,
        },
        description="what an alert's own severity word (lower-cased) suggests",
    )
    default_severity: Severity = Severity.SEV3


class BusinessHours(Contract):
    """When "next business day" starts (UTC)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time = time(9, 0)


class EscalationLevel(Contract):
    name: str = Field(min_length=1)
    targets: list[str] = Field(min_length=1, description="people or references (rotation:, team:, ...)")


class OpenEscalation(Contract):
    """Engage a level while the incident stays open, acknowledged or not, this long after the response started.

    Per severity, so a SEV-4 left open over a weekend never wakes the executives: `0s` engages the level at
    once, a severity left out is never escalated to this level by time alone (the ack chain and a human
    `escalate` still can)."""

    level: int = Field(ge=1)
    after: dict[Severity, NonNegativeDuration] = Field(
        default_factory=dict,
        description="severity -> how long open before this level is engaged; absent = never",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_the_single_duration_form(cls, data: Any, info: ValidationInfo) -> Any:
        """Before per-severity escalation a rule read `{level: 3, after: 4h, immediately_for: [SEV-1]}` for every
        severity. Snapshots pinned in running incidents keep that meaning (so their replay is unchanged); a
        policy file must say it per severity, because the old form is what paged executives for a SEV-4."""
        if not isinstance(data, dict):
            return data
        single = "immediately_for" in data or not isinstance(data.get("after", {}), dict)
        if not single:
            return data
        if info.context and info.context.get("from_file"):
            raise ValueError(
                "'after' takes one duration per severity now, e.g. after: {SEV-1: 0s, SEV-2: 4h, SEV-3: 4h} "
                "(a severity left out is never escalated by time; 'immediately_for' is gone: write 0s)"
            )
        rule = dict(data)
        at_once = [Severity(value) for value in rule.pop("immediately_for", None) or []]
        after = rule.get("after")
        rule["after"] = {severity: timedelta(0) if severity in at_once else after for severity in Severity}
        return rule

    def describe(self, severity: Severity) -> str:
        """Why the level is engaged, for the duty's description: "SEV-1 engages it at once", "still open after 4h"."""
        after = self.after[severity]
        return (
            f"{severity.value} engages it at once"
            if not after
            else f"still open after {format_duration(after)}"
        )


class PageRetry(Contract):
    """A page that failed on every channel is tried again, so an outage of one provider is not a silent miss.

    The ack chain goes on escalating on its own schedule meanwhile; a retried page that gets through counts as
    that level engaged."""

    every: PositiveDuration = Field(default=timedelta(minutes=5), description="wait after a failed page")
    attempts: int = Field(default=6, ge=1, description="tries in all, the first included (1: never retried)")


def _default_levels() -> list[EscalationLevel]:
    return [
        EscalationLevel(name="on-call", targets=["team:oncall", "team:tech_lead", "team:service_owner"]),
        EscalationLevel(
            name="management",
            targets=["team:engineering_manager", "team:director", "cross_team:tech_lead"],
        ),
        EscalationLevel(name="executive", targets=["function:executives", "function:business_stakeholders"]),
    ]


def _default_open_escalations() -> list[OpenEscalation]:
    """The incident guide's matrix: management after an hour open; executives at once for SEV-1, after 4h for
    SEV-2 and SEV-3, and never by time alone for SEV-4 (nor management: a SEV-4 waits for business hours)."""
    hour = timedelta(hours=1)
    return [
        OpenEscalation(level=2, after={Severity.SEV1: hour, Severity.SEV2: hour, Severity.SEV3: hour}),
        OpenEscalation(
            level=3, after={Severity.SEV1: timedelta(0), Severity.SEV2: 4 * hour, Severity.SEV3: 4 * hour}
        ),
    ]


class EscalationPolicy(Contract):
    ack_deadline: dict[Severity, AckDeadline] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            Severity.SEV1: timedelta(minutes=15),
            Severity.SEV2: timedelta(minutes=30),
            Severity.SEV3: timedelta(hours=2),
            Severity.SEV4: NEXT_BUSINESS_DAY,
        },
        description="time to acknowledge before the next level is paged",
    )
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    levels: list[EscalationLevel] = Field(default_factory=_default_levels, min_length=1)
    final_level_repeats: int = Field(default=2, ge=0, description="re-pages of the last level, then silence")
    open_escalations: list[OpenEscalation] = Field(default_factory=_default_open_escalations)
    cross_team_level: int | None = Field(default=2, description="engage this level when >1 team is involved")
    fallback_targets: list[str] = Field(
        default_factory=lambda: ["on-call"],
        description="paged when a level resolves to nobody, so a page is never silently dropped",
    )
    page_retry: PageRetry = Field(default_factory=PageRetry)
    max_snooze: PositiveDuration = timedelta(hours=4)

    @model_validator(mode="after")
    def _complete(self) -> EscalationPolicy:
        missing = [severity.value for severity in Severity if severity not in self.ack_deadline]
        if missing:
            raise ValueError(f"ack_deadline has no entry for {', '.join(missing)}")
        for rule in self.open_escalations:
            if rule.level > len(self.levels):
                raise ValueError(f"open_escalations names level {rule.level}; only {len(self.levels)} exist")
        if self.cross_team_level is not None and not 1 <= self.cross_team_level <= len(self.levels):
            raise ValueError(
                f"cross_team_level {self.cross_team_level} is not a level (1..{len(self.levels)})"
            )
        return self


class Notice(Contract):
    """Tell an audience within a window; skipped if a page already reached `satisfied_by_level`."""

    within: NonNegativeDuration
    notify: list[str] = Field(min_length=1)
    satisfied_by_level: int | None = None


def _default_management() -> dict[Severity, Notice]:
    return {
        Severity.SEV1: Notice(
            within=timedelta(minutes=30), notify=["function:executives"], satisfied_by_level=3
        ),
        Severity.SEV2: Notice(within=timedelta(hours=1), notify=["team:director"], satisfied_by_level=2),
        Severity.SEV3: Notice(within=timedelta(hours=2), notify=["team:tech_lead"], satisfied_by_level=1),
    }


class BusinessEscalation(Contract):
    """Business audiences: sent by their deadline, and at once when the incident resolves first."""

    name: str = Field(min_length=1)
    when: Literal["customer_facing", "sev1", "data_or_compliance"]
    within: NonNegativeDuration
    notify: list[str] = Field(min_length=1)


def _default_business() -> list[BusinessEscalation]:
    return [
        BusinessEscalation(
            name="customer support",
            when="customer_facing",
            within=timedelta(minutes=30),
            notify=["function:customer_support"],
        ),
        BusinessEscalation(
            name="executive briefing", when="sev1", within=timedelta(hours=1), notify=["function:executives"]
        ),
        BusinessEscalation(
            name="compliance, legal and DPO",
            when="data_or_compliance",
            within=timedelta(hours=2),
            notify=["function:compliance"],
        ),
    ]


class RegulatoryPolicy(Contract):
    """Data breach or compliance impact: a notification deadline, reminders until a human records it done."""

    deadline: PositiveDuration = timedelta(hours=72)
    reminders: list[PositiveDuration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=48)]
    )
    notify: list[str] = Field(default_factory=lambda: ["function:compliance", "role:incident_commander"])


class StatusCadence(Contract):
    """Status updates are due every interval until resolved; a miss nudges comms, then escalates to the IC."""

    every: dict[Severity, PositiveDuration] = Field(
        default_factory=lambda: {
            Severity.SEV1: timedelta(minutes=30),
            Severity.SEV2: timedelta(hours=1),
            Severity.SEV3: timedelta(days=1),
        }
    )
    escalate_after: PositiveDuration = Field(
        default=timedelta(minutes=15), description="after the nudge, page the IC"
    )


class RolePolicy(Contract):
    """Who takes each incident role by default (references), and which roles a severity requires."""

    defaults: dict[RoleName, list[str]] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "incident_commander": ["rotation:incident-commander", "team:engineering_manager"],
            "tech_lead": ["team:tech_lead"],
            "communications": ["rotation:communications"],
            "business_liaison": ["function:business_liaison"],
        }
    )
    required: dict[Severity, list[RoleName]] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            Severity.SEV1: ["incident_commander"],
            Severity.SEV2: ["incident_commander"],
        }
    )


class HeartbeatPolicy(Contract):
    """The dead-man's switch on the alerting pipeline (Alertmanager's Watchdog, or POST /heartbeat/<source>)."""

    silence_after: PositiveDuration = Field(
        default=timedelta(minutes=10),
        description="page the fallback targets when a heartbeat source stays silent this long",
    )


class Policy(Contract):
    name: str = "default"

    severity: SeverityMatrix = Field(default_factory=SeverityMatrix)
    roster: Roster = Field(default_factory=Roster)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    management: dict[Severity, Notice] = Field(default_factory=_default_management)
    business: list[BusinessEscalation] = Field(default_factory=_default_business)
    regulatory: RegulatoryPolicy = Field(default_factory=RegulatoryPolicy)
    status_updates: StatusCadence = Field(default_factory=StatusCadence)
    roles: RolePolicy = Field(default_factory=RolePolicy)
    page_channel: str = Field(default="console", description="channel name the worker resolves")
    routing: Routing = Field(default_factory=Routing, description="channels per role, team, severity, kind")
    health_checks: dict[str, str] = Field(
        default_factory=dict, description="service -> URL whose 2xx answer means healthy"
    )
    heartbeat: HeartbeatPolicy = Field(default_factory=HeartbeatPolicy)
    detection_timeout: PositiveDuration = Field(
        default=timedelta(hours=1),
        description="an incident that receives no valid alert or declaration within this closes itself",
    )
    analysis: AnalysisPolicy = Field(
        default_factory=AnalysisPolicy, description="the post-mortem review and its action items"
    )
    containment: ContainmentPolicy = Field(
        default_factory=ContainmentPolicy, description="runbooks: actions, risk classes, approvers"
    )
    recovery: RecoveryPolicy = Field(default_factory=RecoveryPolicy, description="phased restoration")
