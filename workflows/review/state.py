"""The review's state as one model, carried whole across continue-as-new: the incident's state (for the duties
that outlive resolution and the words of every message) and the review's own facts."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from workflows.incident.state import IncidentState
from workflows.messages.action_items import ActionItemSpec
from workflows.messages.common import Contract

ITEMS_LISTED = 100


class ReviewFacts(Contract):
    resolved_at: datetime
    due_at: datetime
    facilitator: str | None = None
    sent: list[str] = Field(default_factory=list, description="ids of the review reminders sent (a handful)")
    completed_by: str | None = None
    completed_at: datetime | None = None
    document_url: str | None = None
    completed_command_id: str | None = None
    items_to_start: list[ActionItemSpec] = Field(
        default_factory=list, description="accepted by postmortem_complete, not yet started"
    )
    items_started: int = 0
    item_ids: list[str] = Field(default_factory=list, description="workflow ids of the items started")

    @property
    def complete(self) -> bool:
        return self.completed_at is not None


class ReviewState(Contract):
    incident: IncidentState
    review: ReviewFacts
    runs: int = 1


class ReviewInput(Contract):
    """What the incident hands over at resolution: its state (the timeline already in the archive)."""

    incident: IncidentState


class ContinuedReview(Contract):
    """The input of a run after continue-as-new. Never start a review with it by hand."""

    state: ReviewState
