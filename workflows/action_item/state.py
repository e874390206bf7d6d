"""All of an action item's state as one model, carried whole across continue-as-new.

Every list is bounded: an item open for a year carries the same size of state as one open for a day (its
history keeps the latest events and counts the rest; reminders sent are a handful of ids and a counter).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from workflows.analysis_policy import Priority
from workflows.messages.action_items import Extension, ItemEvent, ItemStatus
from workflows.messages.common import Contract, Severity
from workflows.policy import Policy

HISTORY_KEPT = 40
EXTENSIONS_KEPT = 10
SEEN_IDS_KEPT = 100


class ActionItemState(Contract):
    item_id: str
    title: str
    description: str | None = None
    priority: Priority
    owner: str
    tracking_link: str | None = None
    incident_id: str
    occurrence: str
    severity: Severity | None = None
    service: str | None = None
    policy: Policy = Field(description="the incident's pinned policy: roster, routing, action-item timings")
    status: ItemStatus = ItemStatus.OPEN
    created_at: datetime
    due_at: datetime
    original_due_at: datetime
    schedule_from: datetime = Field(description="reminders before this moment are not sent (reset by extend)")
    sent: list[str] = Field(default_factory=list, description="reminder ids of the current due date sent")
    overdue_sent: int = Field(default=0, description="weekly overdue reminders sent for the current due date")
    extensions: list[Extension] = Field(default_factory=list)
    extensions_total: int = 0
    completed_by: str | None = None
    evidence: str | None = None
    closed_at: datetime | None = None
    history: list[ItemEvent] = Field(default_factory=list)
    history_total: int = 0
    seen_command_ids: list[str] = Field(default_factory=list)
    announced: bool = Field(default=False, description="the owner was told the item is theirs")
    people_digest: str | None = Field(
        default=None, description="which roster and routing `policy` holds: the policy file's as last read"
    )
    runs: int = 1

    @property
    def is_closed(self) -> bool:
        return self.status in (ItemStatus.DONE, ItemStatus.CANCELLED)

    @property
    def manager(self) -> str | None:
        return self.policy.roster.manager_of(self.owner, self.service)

    def record(self, at: datetime, kind: str, actor: str, summary: str, **details: object) -> None:
        self.history.append(ItemEvent(at=at, kind=kind, actor=actor, summary=summary, details=dict(details)))
        self.history_total += 1
        del self.history[:-HISTORY_KEPT]


class ContinuedActionItem(Contract):
    """The input of a run after continue-as-new: the whole state. Never start an item with it by hand."""

    state: ActionItemState
