"""The response policy an incident runs under: severity matrix, escalation chain, channels, health checks.

It is plain data the workflow decides with. The worker loads it (an activity, so the snapshot is pinned in the
incident's history) and it never holds secrets: channels are names the worker resolves from its environment.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from workflows.messages import Contract, Severity
from workflows.roster import Roster
from workflows.routing import Routing

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> object:
    """Accept "90s", "15m", "2h", "1d" besides what pydantic already takes (seconds, ISO 8601)."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


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


class EscalationLevel(Contract):
    name: str = Field(min_length=1)
    targets: list[str] = Field(min_length=1, description="people or rotations paged at this level")


class EscalationPolicy(Contract):
    ack_deadline: dict[Severity, Duration] = Field(
        default_factory=lambda: {
            Severity.SEV1: timedelta(minutes=15),
            Severity.SEV2: timedelta(minutes=30),
            Severity.SEV3: timedelta(hours=2),
            Severity.SEV4: timedelta(hours=24),
        },
        description="time to acknowledge before the next level is paged",
    )
    levels: list[EscalationLevel] = Field(
        default_factory=lambda: [
            EscalationLevel(name="on-call", targets=["oncall-primary"]),
            EscalationLevel(name="management", targets=["engineering-manager"]),
            EscalationLevel(name="executive", targets=["vp-engineering"]),
        ],
        min_length=1,
    )
    final_level_repeats: int = Field(default=2, ge=0, description="re-pages of the last level, then silence")

    @model_validator(mode="after")
    def _every_severity_has_a_deadline(self) -> EscalationPolicy:
        missing = [severity.value for severity in Severity if severity not in self.ack_deadline]
        if missing:
            raise ValueError(f"ack_deadline has no entry for {', '.join(missing)}")
        return self


class Policy(Contract):
    name: str = "default"
    severity: SeverityMatrix = Field(default_factory=SeverityMatrix)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    roster: Roster = Field(default_factory=Roster)
    page_channel: str = Field(default="console", description="channel name the worker resolves")
    routing: Routing = Field(default_factory=Routing, description="channels per role, team, severity, kind")
    health_checks: dict[str, str] = Field(
        default_factory=dict, description="service -> URL whose 2xx answer means healthy"
    )
    detection_timeout: Duration = Field(
        default=timedelta(hours=1),
        description="an incident that receives no valid alert or declaration within this closes itself",
    )
