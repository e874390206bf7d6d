"""The rules of an action item's commands and of its people, without Temporal: refuse, ignore or apply, and say
why.

`refusal` is what an update's validator asks (a refused update never enters history); `execute` applies an
accepted command; `handle_signal` does both for a payload typed into the Web UI, recording a rejection in the
item's own history instead of raising, so a bad payload never wedges or fails the workflow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from pydantic import ValidationError

from workflows.action_item.schedule import restart_schedule
from workflows.action_item.state import EXTENSIONS_KEPT, SEEN_IDS_KEPT, ActionItemState
from workflows.durations import format_duration
from workflows.messages.action_items import (
    CancelItem,
    CompleteItem,
    ExtendDue,
    Extension,
    ItemStatus,
    ReassignItem,
)
from workflows.messages.activities import People
from workflows.messages.commands import Command, CommandOutcome, CommandVerdict

C = TypeVar("C", bound=Command)
# Who the item's own entries (reminders, warnings) are by.
SYSTEM = "warroom"
# A due date given as a day means the end of that business day, UTC.
END_OF_DAY = time(17, 0)

COMMANDS: dict[str, type[Command]] = {
    "complete": CompleteItem,
    "reassign": ReassignItem,
    "extend_due": ExtendDue,
    "cancel": CancelItem,
}


def due_moment(value: date | datetime) -> datetime:
    """A typed due date as a moment: a day is its END_OF_DAY, a naive time is UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, END_OF_DAY, tzinfo=UTC)


def actor_of(payload: Any) -> str:
    """Who sent a payload that did not parse, as far as it says."""
    by = payload.get("by") if isinstance(payload, dict) else None
    return by[:200] if isinstance(by, str) and by else "?"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class ActionItem:
    def __init__(self, state: ActionItemState) -> None:
        self.state = state

    # ------------------------------------------------------------------ the three entry points

    def refusal(self, name: str, command: Command, now: datetime) -> str | None:
        """Why the command cannot be applied now, or None. A repeat (same command_id) is not refused."""
        if command.command_id and command.command_id in self.state.seen_command_ids:
            return None
        closed = self.closed_refusal()
        if closed is not None:
            return closed
        if isinstance(command, ReassignItem):
            return self._reassign_refusal(command)
        if isinstance(command, ExtendDue):
            return self._extend_refusal(command, now)
        return None

    def execute(self, name: str, command: Command, now: datetime) -> CommandVerdict:
        """Apply an accepted command (refused ones are recorded, never half-applied) and return the verdict."""
        state = self.state
        if command.command_id and command.command_id in state.seen_command_ids:
            return self._verdict(name, command, "ignored", "a repeat of a command already handled")
        reason = self.refusal(name, command, now)
        if reason is not None:
            state.record(now, "rejected", command.by, f"{name} rejected: {reason}")
            return self._verdict(name, command, "rejected", reason)
        if command.command_id:
            state.seen_command_ids.append(command.command_id)
            del state.seen_command_ids[:-SEEN_IDS_KEPT]
        return self._verdict(name, command, "applied", self._apply(command, now))

    def handle_signal(self, name: str, payload: Any, now: datetime) -> CommandVerdict:
        """A signal's payload: parse it, then execute; a payload that does not parse is rejected, recorded."""
        command = self.parse_signal(name, COMMANDS[name], payload, now)
        if isinstance(command, CommandVerdict):
            return command
        return self.execute(name, command, now)

    def parse_signal(self, name: str, model: type[C], payload: Any, now: datetime) -> C | CommandVerdict:
        """The command a signal's payload holds, or the rejection (recorded) of a payload that does not parse."""
        try:
            return model.model_validate(payload if payload is not None else {})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc']) or 'payload'}: {issue['msg']}"
                for issue in error.errors()
            )
            reason = f"invalid {name} payload: {problems}"
            self.state.record(now, "rejected", actor_of(payload), f"{name} rejected: {reason}")
            return CommandVerdict(command=name, outcome="rejected", reason=reason)

    def closed_refusal(self) -> str | None:
        """Why nothing more can be done to a closed item, or None while it is open."""
        state = self.state
        if not state.is_closed:
            return None
        who = f" by {state.completed_by}" if state.completed_by else ""
        when = f" at {_when(state.closed_at)}" if state.closed_at else ""
        return f"the item is already {state.status.value}{who}{when}"

    def take_people(self, people: People, now: datetime) -> None:
        """The roster and routing as the policy file has them now. An owner it no longer names is still reached
        as the last roster that named them said, with a warning to reassign; a new manager is recorded."""
        state = self.state
        roster = people.roster
        if state.owner not in roster.people:
            known = state.policy.roster.people.get(state.owner)
            if known is not None:
                roster = roster.model_copy(update={"people": {**roster.people, state.owner: known}})
            state.record(now, "warning", SYSTEM, f"{state.owner} is no longer in the roster: reached as before; "
                         "reassign the item to someone who is")  # fmt: skip
        manager = state.manager
        state.policy = state.policy.model_copy(
            update={"roster": roster, "routing": people.routing, "page_channel": people.page_channel}
        )
        if state.manager != manager:
            state.record(now, "roster", SYSTEM, f"{state.owner}'s manager is now {state.manager or 'nobody'} "
                         f"(was {manager or 'nobody'}): the roster changed")  # fmt: skip

    def _apply(self, command: Command, now: datetime) -> str:
        if isinstance(command, CompleteItem):
            return self._complete(command, now)
        if isinstance(command, ReassignItem):
            return self._reassign(command, now)
        if isinstance(command, ExtendDue):
            return self._extend(command, now)
        assert isinstance(command, CancelItem)
        return self._cancel(command, now)

    # ------------------------------------------------------------------ refusals

    def _reassign_refusal(self, command: ReassignItem) -> str | None:
        people = self.state.policy.roster.people
        if command.owner not in people:
            known = ", ".join(sorted(people)[:20]) or "nobody"
            return (
                f"owner '{command.owner}' is not a person in the roster as this item last read it (people: "
                f"{known}); someone added since: send read_roster first (the CLI's reassign does)"
            )
        if command.owner == self.state.owner:
            return f"the item is already owned by {command.owner}"
        return None

    def _extend_refusal(self, command: ExtendDue, now: datetime) -> str | None:
        state = self.state
        until = due_moment(command.until)
        if until <= now:
            return f"until {_when(until)} is not in the future"
        if until <= state.due_at:
            return f"until {_when(until)} is not later than the current due date {_when(state.due_at)}"
        bound = state.policy.analysis.action_items.max_extension.get(state.priority)
        if bound is not None and until > state.original_due_at + bound:
            latest = state.original_due_at + bound
            return (
                f"a {state.priority}-priority item may move at most {format_duration(bound)} past its first due "
                f"date {_when(state.original_due_at)}: the latest is {_when(latest)}"
            )
        return None

    # ------------------------------------------------------------------ applying

    def _complete(self, command: CompleteItem, now: datetime) -> str:
        state = self.state
        state.status, state.completed_by, state.evidence, state.closed_at = (
            ItemStatus.DONE, command.by, command.evidence, now,
        )  # fmt: skip
        state.record(now, "completed", command.by, f"done: {command.evidence}")
        return f"done by {command.by}"

    def _reassign(self, command: ReassignItem, now: datetime) -> str:
        state = self.state
        previous, state.owner = state.owner, command.owner
        state.record(now, "reassigned", command.by, f"owner {previous} -> {command.owner}: {command.reason}",
                     previous=previous, owner=command.owner)  # fmt: skip
        return f"now owned by {command.owner}"

    def _extend(self, command: ExtendDue, now: datetime) -> str:
        state = self.state
        until = due_moment(command.until)
        state.extensions.append(
            Extension(at=now, by=command.by, from_due=state.due_at, to_due=until, reason=command.reason)
        )
        del state.extensions[:-EXTENSIONS_KEPT]
        state.extensions_total += 1
        state.record(now, "extended", command.by,
                     f"due {_when(state.due_at)} -> {_when(until)}: {command.reason}")  # fmt: skip
        state.due_at = until
        if state.status is ItemStatus.OVERDUE:
            state.status = ItemStatus.OPEN
        restart_schedule(state, now)
        return f"due {_when(until)}"

    def _cancel(self, command: CancelItem, now: datetime) -> str:
        state = self.state
        state.status, state.completed_by, state.closed_at = ItemStatus.CANCELLED, command.by, now
        state.record(now, "cancelled", command.by, f"cancelled: {command.reason}")
        return f"cancelled by {command.by}"

    def _verdict(self, name: str, command: Command, outcome: CommandOutcome, reason: str) -> CommandVerdict:
        return CommandVerdict(command=name, outcome=outcome, reason=reason, command_id=command.command_id)
