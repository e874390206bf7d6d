"""The public contract of post-mortem follow-up: the review's `postmortem_complete`, the action items it starts,
their commands (`complete`, `reassign`, `extend_due`, `cancel`) and what their `status` queries answer.

Field names are typed by people (CLI, Web UI, a YAML file of items), so unknown fields are refused.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from workflows.analysis_policy import Priority
from workflows.messages.commands import Command
from workflows.messages.common import Contract, Severity
from workflows.policy import Policy

ITEM_WORKFLOW_PREFIX = "action-item-"
REVIEW_WORKFLOW_PREFIX = "review-"


def review_workflow_id(occurrence: str) -> str:
    return f"{REVIEW_WORKFLOW_PREFIX}{occurrence}"


def item_workflow_id(occurrence: str, number: int) -> str:
    """One id per item of one incident occurrence: a repeated `postmortem_complete` cannot start it twice."""
    return f"{ITEM_WORKFLOW_PREFIX}{occurrence}-{number}"


def normalize_link(link: str) -> str:
    """The form tracking links are stored and matched in: no fragment or query, no trailing slash, host
    lower-cased (a webhook's `html_url` and the link a human typed must meet)."""
    text = link.strip().split("#", 1)[0].split("?", 1)[0].rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


class ActionItemSpec(Contract):
    """One item as the post-mortem lists it (one entry of the `action_items` list or the --items YAML file)."""

    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=200, description="a person of the roster")
    priority: Priority = Field(
        default="medium",
        description="high: security vulnerabilities, likely single points of failure, process gaps that "
        "contributed, monitoring blind spots; medium: shortens or softens a recurrence; low: hardening",
    )
    due: date | datetime | None = Field(
        default=None, description="a date (end of that day, UTC) or a moment; empty: the policy's default"
    )
    tracking_link: str | None = Field(
        default=None, max_length=1000, description="the issue that tracks it (GitHub issue, Jira browse URL)"
    )
    description: str | None = Field(default=None, max_length=5000)


class PostmortemComplete(Command):
    """Close the review: the document is written, these are the action items to follow up."""

    document_url: str | None = Field(default=None, max_length=1000)
    action_items: list[ActionItemSpec] = Field(default_factory=list, max_length=100)


class CompleteItem(Command):
    evidence: str = Field(min_length=1, max_length=2000, description="what shows it is done (a PR, a link)")


class ReassignItem(Command):
    owner: str = Field(min_length=1, max_length=200, description="a person of the roster")
    reason: str = Field(min_length=1, max_length=2000)


class ReadRoster(Command):
    """Read the roster and routing from the policy file now, not at the next message: before a reassignment
    to someone added since the item last read it."""


class ExtendDue(Command):
    until: date | datetime = Field(description="the new due date (end of that day, UTC) or moment")
    reason: str = Field(min_length=1, max_length=2000)


class CancelItem(Command):
    reason: str = Field(min_length=1, max_length=2000)


class ItemStatus(StrEnum):
    """Also the ActionItemStatus search attribute."""

    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


class ItemEvent(Contract):
    at: datetime
    kind: str = Field(description="created, reminded, escalated, completed, reassigned, extended, ...")
    actor: str
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


class ActionItemInput(Contract):
    """What the review starts an item with (the incident's facts it needs for its messages)."""

    item: ActionItemSpec
    incident_id: str
    occurrence: str
    severity: Severity | None = None
    service: str | None = None
    created_by: str
    created_at: datetime = Field(
        description="when the review completed (the default due date counts from it)"
    )
    policy: Policy = Field(description="the incident's pinned policy (roster, routing, action-item timings)")


class Extension(Contract):
    at: datetime
    by: str
    from_due: datetime
    to_due: datetime
    reason: str


class ActionItemView(Contract):
    """The `status` query of an action item."""

    item_id: str
    title: str
    owner: str
    manager: str | None
    priority: Priority
    status: ItemStatus
    due_at: datetime
    original_due_at: datetime
    incident_id: str
    tracking_link: str | None
    description: str | None = None
    completed_by: str | None = None
    evidence: str | None = None
    closed_at: datetime | None = None
    extensions: list[Extension] = Field(default_factory=list)
    extensions_total: int = 0
    next_reminder_at: datetime | None = None
    next_reminder: str | None = None
    history: list[ItemEvent] = Field(default_factory=list)
    history_total: int = 0
    runs: int = 1


class ReviewView(Contract):
    """The `review` query of a post-mortem review workflow."""

    review_id: str
    incident_id: str
    resolved_at: datetime
    due_at: datetime
    facilitator: str | None
    incident_commander: str | None
    state: str = Field(description="open, overdue or complete")
    completed_by: str | None = None
    completed_at: datetime | None = None
    document_url: str | None = None
    action_items: list[str] = Field(default_factory=list, description="workflow ids of the items started")
    next_reminder_at: datetime | None = None
    next_reminder: str | None = None
    runs: int = Field(default=1, description="runs of this review (continue-as-new adds one)")
