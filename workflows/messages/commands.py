"""The commands humans send (CLI, Web UI, API): field names are typed by people, so they are public."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workflows.durations import Duration
from workflows.messages.common import Contract, RoleName, Severity


class Command(Contract):
    """Every human command names its actor and may carry an id so a repeat is a no-op."""

    by: str = Field(min_length=1, max_length=200, description="who is doing this (name or handle)")
    command_id: str | None = Field(default=None, max_length=200, description="repeat-safe id, optional")


class Acknowledge(Command):
    note: str | None = Field(default=None, max_length=2000)


class AddNote(Command):
    text: str = Field(min_length=1, max_length=10000)


class Reclassify(Command):
    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


class Mitigate(Command):
    note: str | None = Field(default=None, max_length=2000)


class Resolve(Command):
    note: str | None = Field(default=None, max_length=2000)
    force: bool = Field(default=False, description="resolve even if the health gate fails")
    false_positive: bool = Field(
        default=False, description="nothing was wrong: the alert was noise (counted by `warroom report`)"
    )


class AssignRole(Command):
    role: RoleName
    person: str = Field(min_length=1, max_length=200)


class Escalate(Command):
    level: int = Field(ge=1, le=10, description="engage this escalation level now")
    reason: str = Field(min_length=1, max_length=2000)


class Snooze(Command):
    duration: Duration = Field(description='how long to hold pages and nudges, e.g. "30m"; bounded by policy')
    reason: str = Field(min_length=1, max_length=2000)


class PostUpdate(Command):
    text: str = Field(min_length=1, max_length=10000)
    audience: Literal["internal", "customer"] = "internal"


class RecordRegulatoryNotification(Command):
    reference: str | None = Field(
        default=None, max_length=500, description="e.g. the regulator's case number"
    )
    note: str | None = Field(default=None, max_length=2000)


CommandOutcome = Literal["applied", "ignored", "rejected"]


class CommandVerdict(Contract):
    """What an incident did with one human command: the answer of the command's update, and the same
    words the timeline records. `ignored` is a no-op that is not an error (a repeat, already acknowledged)."""

    command: str = Field(description="acknowledge, resolve, ...")
    outcome: CommandOutcome
    reason: str = Field(description="what happened, in words a person reads")
    command_id: str | None = None
