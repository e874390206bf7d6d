"""When an action item reminds whom: a pure function of its state and the policy.

The workflow sleeps until the earliest pending reminder, sends it, records its id, and asks again, so any
command (extend, reassign, complete) changes the schedule at once. Ids are relative to the current due date:
an extension clears them and the schedule starts over from the new date, skipping reminders that would already
lie in the past when it was set (a two-days-before reminder for an item due tomorrow is never sent late).
The weekly overdue reminders are counted, not listed, so an item a year overdue keeps a small state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from workflows.action_item.state import ActionItemState
from workflows.analysis_policy import ActionItemPolicy
from workflows.durations import format_duration

ReminderKind = Literal["before", "morning", "due", "escalate", "overdue"]


class Reminder(BaseModel):
    id: str
    kind: ReminderKind
    at: datetime
    description: str
    to_manager: bool = False


def _planned(state: ActionItemState, policy: ActionItemPolicy) -> list[Reminder]:
    due = state.due_at
    planned = [
        Reminder(id=f"before/{int(before.total_seconds())}", kind="before", at=due - before,
                 description=f"due in {format_duration(before)}")
        for before in policy.remind_before
    ]  # fmt: skip
    if policy.morning_of is not None:
        morning = due.replace(
            hour=policy.morning_of.hour, minute=policy.morning_of.minute, second=0, microsecond=0
        )
        if morning < due:
            planned.append(Reminder(id="morning", kind="morning", at=morning, description="due today"))
    planned.append(Reminder(id="due", kind="due", at=due, description="due now"))
    planned.append(
        Reminder(
            id="escalate", kind="escalate", at=due + policy.escalate_after, to_manager=True,
            description=f"overdue by {format_duration(policy.escalate_after) if policy.escalate_after else '0s'}: "
            "the owner's manager is told",
        )
    )  # fmt: skip
    week = state.overdue_sent + 1
    planned.append(
        Reminder(
            id=f"overdue/{week}", kind="overdue", at=due + week * policy.overdue_every,
            to_manager=policy.overdue_to_manager,
            description=f"overdue by {format_duration(week * policy.overdue_every)}",
        )
    )  # fmt: skip
    return planned


def pending_reminders(state: ActionItemState, policy: ActionItemPolicy) -> list[Reminder]:
    """Reminders not yet sent for the current due date, soonest first; none once the item is closed.

    Before-due reminders that were already in the past when the schedule was set are skipped; the due,
    escalation and overdue reminders are not (an item created past its due date is overdue at once)."""
    if state.is_closed:
        return []
    pending = [
        reminder for reminder in _planned(state, policy)
        if reminder.id not in state.sent
        and (reminder.kind not in ("before", "morning") or reminder.at >= state.schedule_from)
    ]  # fmt: skip
    return sorted(pending, key=lambda reminder: reminder.at)


def mark_sent(state: ActionItemState, reminder: Reminder, policy: ActionItemPolicy, now: datetime) -> None:
    """Record a reminder as sent. Weekly ones advance a counter; a worker down for weeks resumes at the
    current week instead of sending every missed week at once."""
    if reminder.kind == "overdue":
        weeks_late = int((now - state.due_at) / policy.overdue_every)
        state.overdue_sent = max(state.overdue_sent + 1, weeks_late)
    else:
        state.sent.append(reminder.id)


def restart_schedule(state: ActionItemState, now: datetime) -> None:
    """A new due date: every reminder of it is still to come (those already in the past are skipped)."""
    state.sent = []
    state.overdue_sent = 0
    state.schedule_from = now


def overdue_by(state: ActionItemState, now: datetime) -> timedelta | None:
    return now - state.due_at if not state.is_closed and now >= state.due_at else None
