"""The other activities' inputs and results, and the names workflows call activities by."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from workflows.messages.common import Contract
from workflows.messages.status import IncidentStatus, TimelineEvent


class LoadPolicyRequest(Contract):
    incident_id: str


class HealthCheckRequest(Contract):
    incident_id: str
    service: str | None
    url: str | None = Field(default=None, description="from the incident's pinned policy; none: unchecked")


class HealthCheckResult(Contract):
    healthy: bool
    checked: bool = Field(description="False when no health check is configured for the service")
    detail: str


class PostmortemRequest(Contract):
    """The incident's facts; the timeline is read by the activity from the archive, never passed whole
    (an incident open for weeks would exceed a payload's 2 MB)."""

    incident_id: str
    occurrence: str
    status: IncidentStatus


class ArchiveTimelineRequest(Contract):
    """Older timeline events leave workflow state for the archive; `seq` makes a retried batch harmless."""

    incident_id: str
    occurrence: str
    events: list[TimelineEvent]


class ArchiveTimelineResult(Contract):
    stored_through: int = Field(description="highest seq the archive now holds for this occurrence")


class PostmortemResult(Contract):
    path: str


class ActivityName(StrEnum):
    """Activities are called by name so workflow code never imports the side-effecting layer."""

    LOAD_POLICY = "load_policy"
    NOTIFY = "notify"
    CHECK_HEALTH = "check_health"
    RENDER_POSTMORTEM = "render_postmortem"
    ARCHIVE_TIMELINE = "archive_timeline"
