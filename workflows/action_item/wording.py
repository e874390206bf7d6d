"""Every subject and body a person reads about an action item: neutral, with the command that closes it."""

from __future__ import annotations

from workflows.action_item.schedule import Reminder
from workflows.action_item.state import ActionItemState


def reminder_subject(state: ActionItemState, reminder: Reminder) -> str:
    prefix = "OVERDUE action item" if reminder.kind in ("escalate", "overdue") else "Action item"
    return f"{prefix} ({state.priority}) from {state.incident_id}: {state.title} - {reminder.description}"


def reminder_body(state: ActionItemState, reminder: Reminder) -> str:
    lines = [
        f"Owner: {state.owner}",
        f"Due: {state.due_at:%Y-%m-%d %H:%M} UTC",
        f"Priority: {state.priority}",
    ]
    if state.tracking_link:
        lines.append(f"Tracked in: {state.tracking_link}")
    if reminder.to_manager:
        lines.append("You receive this as the owner's manager: the item is past its due date.")
    lines.append(
        f"Done? warroom action-items complete {state.item_id} --by NAME --evidence LINK "
        f"(or extend / reassign / cancel)"
    )
    return "\n".join(lines)


def assigned_subject(state: ActionItemState) -> str:
    return f"Action item assigned to {state.owner} ({state.priority}) from {state.incident_id}: {state.title}"
