"""The other activities' inputs and results, and the names workflows call activities by."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from workflows.messages.alerts import Impact
from workflows.messages.common import Contract
from workflows.messages.status import IncidentStatus, TimelineEvent
from workflows.policy import Policy
from workflows.roster import Roster
from workflows.routing import Routing


class LoadPolicyRequest(Contract):
    incident_id: str


class People(Contract):
    """Who is who and how to reach them: the part of a policy a months-long action item reads again."""

    roster: Roster
    routing: Routing
    page_channel: str


class LoadPeopleRequest(Contract):
    item_id: str
    known: str | None = Field(default=None, description="the digest of the people the item already holds")


class LoadedPeople(Contract):
    """The people in the policy file now, or None when the item should keep the ones it holds: the digest
    matches (most reminders change nothing, and the answer is recorded in the item's history), or the file is
    unusable (then the digest is the item's own)."""

    digest: str | None
    people: People | None = None


class LoadedPolicy(Contract):
    """The policy an incident pins, and a warning when it is not the file as it is now.

    A policy file broken after the worker started must not stop paging: the worker then answers with the
    policy it validated at start, and the incident records the warning in its timeline."""

    policy: Policy
    warning: str | None = Field(
        default=None,
        description="the file is missing or broken (names the file and the error): the policy is the one "
        "the worker validated at start; None when the file was read as it is",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_a_bare_policy(cls, data: Any) -> Any:
        """Histories recorded before this type hold a bare Policy as the activity's result: read it as one
        that came from the file, so those incidents replay unchanged."""
        if isinstance(data, dict) and not ("policy" in data and set(data) <= {"policy", "warning"}):
            return {"policy": data}
        return data


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
    opened_at: datetime | None = Field(default=None, description="when this occurrence opened")
    impact: Impact | None = Field(default=None, description="the widest impact the incident's alerts carried")
    policy: Policy | None = Field(
        default=None, description="the pinned policy: its name, version and targets"
    )
    false_positive: bool = Field(default=False, description="resolved as noise")


class ArchiveTimelineRequest(Contract):
    """Older timeline events leave workflow state for the archive; `seq` makes a retried batch harmless."""

    incident_id: str
    occurrence: str
    events: list[TimelineEvent]


class ArchiveTimelineResult(Contract):
    stored_through: int = Field(description="highest seq the archive now holds for this occurrence")


class PostmortemResult(Contract):
    path: str
    published: list[str] = Field(default_factory=list, description="publishers that received it")
    warning: str | None = Field(default=None, description="a publisher that kept failing (the file is kept)")


class ActivityName(StrEnum):
    """Activities are called by name so workflow code never imports the side-effecting layer."""

    LOAD_POLICY = "load_policy"
    LOAD_PEOPLE = "load_people"
    NOTIFY = "notify"
    CHECK_HEALTH = "check_health"
    RENDER_POSTMORTEM = "render_postmortem"
    ARCHIVE_TIMELINE = "archive_timeline"
    CONTAIN = "run_containment_action"
    OBSERVE_HEALTH = "observe_health"
