"""What follows an incident once it is resolved: the post-mortem review and its action items (`Policy.analysis`).

Plain data the review and action-item workflows decide with; every timing is a policy value, and the defaults
are the incident guide's (a review within 48 h of resolution; action items due by priority). Recipients are
references resolved against the roster (docs/analysis.md), never addresses or secrets.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import Field, model_validator

from workflows.durations import NonNegativeDuration, PositiveDuration
from workflows.messages.common import Contract

Priority = Literal["high", "medium", "low"]
PRIORITIES: tuple[Priority, ...] = ("high", "medium", "low")


class ReviewPolicy(Contract):
    """The post-mortem review: who facilitates, when it is due, who is reminded and who hears it is late."""

    due_within: PositiveDuration = Field(
        default=timedelta(hours=48), description="the review is due this long after resolution"
    )
    reminders: list[PositiveDuration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=44)],
        description="after resolution: remind the incident commander and the facilitator",
    )
    remind: list[str] = Field(
        default_factory=lambda: ["role:incident_commander", "review:facilitator"],
        description="who the reminders go to (review:facilitator is the assigned facilitator)",
    )
    facilitator: list[str] = Field(
        default_factory=lambda: [
            "function:postmortem_facilitators",
            "team:engineering_manager",
            "team:tech_lead",
            "function:executives",
        ],
        description="candidates in order; the first one who was not paged in the incident facilitates",
    )
    facilitator_not_paged: bool = Field(
        default=True,
        description="skip candidates paged in the incident (the guide wants a fresh pair of eyes)",
    )
    escalate_to: list[str] = Field(
        default_factory=lambda: ["team:engineering_manager"],
        description="told when the review is overdue (with the commander and the facilitator)",
    )
    overdue_every: PositiveDuration = Field(
        default=timedelta(days=7), description="repeat the overdue escalation this often"
    )
    overdue_repeats: int = Field(default=3, ge=0, description="repeats after the first overdue escalation")

    @model_validator(mode="after")
    def _reminders_before_due(self) -> ReviewPolicy:
        late = [reminder for reminder in self.reminders if reminder >= self.due_within]
        if late:
            raise ValueError("review reminders must come before due_within (the overdue escalation follows)")
        return self


class ActionItemPolicy(Contract):
    """Action items: default due date per priority, reminders, the overdue escalation, extension bounds.

    Priorities mean what the incident guide says: high = security vulnerabilities, likely single points of
    failure, process gaps that contributed to the incident, monitoring blind spots; medium = improvements that
    reduce the impact or time to recover from a recurrence; low = nice-to-have hardening and clean-up."""

    due_in: dict[Priority, PositiveDuration] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "high": timedelta(days=14),
            "medium": timedelta(days=30),
            "low": timedelta(days=90),
        },
        description="default due date after the review completes, per priority",
    )
    remind_before: list[PositiveDuration] = Field(
        default_factory=lambda: [timedelta(days=2)], description="reminders this long before the due date"
    )
    morning_of: time | None = Field(
        default=time(9, 0), description="a reminder on the morning (UTC) of the due day; empty for none"
    )
    escalate_after: NonNegativeDuration = Field(
        default=timedelta(days=1), description="past due this long, the owner's manager is told"
    )
    overdue_every: PositiveDuration = Field(
        default=timedelta(days=7), description="while overdue, remind the owner (and manager) this often"
    )
    overdue_to_manager: bool = Field(default=True, description="weekly overdue reminders copy the manager")
    max_extension: dict[Priority, PositiveDuration] = Field(
        default_factory=lambda: {"high": timedelta(days=14)},  # type: ignore[arg-type]
        description="a due date may move at most this far past the first one; a priority left out is unbounded",
    )

    @model_validator(mode="after")
    def _complete(self) -> ActionItemPolicy:
        missing = [priority for priority in PRIORITIES if priority not in self.due_in]
        if missing:
            raise ValueError(f"action_items.due_in has no entry for {', '.join(missing)}")
        return self


class AnalysisPolicy(Contract):
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    action_items: ActionItemPolicy = Field(default_factory=ActionItemPolicy)
