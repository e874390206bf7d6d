"""What the intake hands to an incident: the normalized alert, its impact, and the workflow input."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from workflows.messages.common import Contract, Severity


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


class IncidentInput(Contract):
    """How an incident starts: declared by a human, or opened empty by signal-with-start of an alert."""

    incident_key: str = Field(min_length=1, max_length=512)
    service: str | None = Field(default=None, max_length=200)
    summary: str | None = Field(default=None, max_length=2000)
    declared_by: str | None = Field(default=None, max_length=200)
    severity: Severity | None = Field(default=None, description="a human's choice; overrides the matrix")
    impact: Impact = Field(default_factory=Impact)
    alerts: list[Alert] = Field(
        default_factory=list,
        max_length=20,
        description="alerts that fired again while the previous occurrence closed; this occurrence pages for them",
    )
