"""Steering commands: each sends one human command to an incident and reports what the incident did with it.

`send_command` is the one place a command leaves the CLI, by whichever of two paths the incident's workflow
code offers (it asks the SDK's built-in `__temporal_workflow_metadata` query which updates it declares):

- an update of the command's name (issue 8): `execute_update(name, command, result_type=CommandVerdict)`
  answers at once with the verdict; a validator's rejection never enters history and arrives as a
  `WorkflowUpdateFailedError` whose `.cause` is an ApplicationError carrying the reason;
- otherwise the signal of that name. A signal only proves that the server stored the command: signal
  handlers never raise, they record "accepted", "ignored" or "rejected" in the timeline. So every command
  carries a fresh `command_id`, and the CLI reads the `status` query until the timeline shows its events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from uuid import uuid4

import typer
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from workers.cli.errors import CliError
from workers.cli.incident_client import connect_to_temporal, missing_or_closed, query_status, update_names
from workers.cli.options import By, IncidentId, Note, Reason, default_actor, settings_of, validated
from workers.cli.temporal_errors import is_missing_workflow, run_against_temporal
from workflows.messages.commands import (
    Acknowledge,
    AddNote,
    AssignRole,
    Command,
    CommandVerdict,
    Escalate,
    Mitigate,
    PostUpdate,
    Reclassify,
    RecordRegulatoryNotification,
    Resolve,
    Snooze,
)
from workflows.messages.common import ROLES, incident_workflow_id
from workflows.messages.status import EventKind, TimelineEvent

OUTCOME_WAIT_SECONDS = 5.0
UPDATE_WAIT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.1
PANEL = "Steer an incident"

steering_commands = typer.Typer()


@dataclass(frozen=True)
class Observed:
    """What the incident recorded for one signalled command: its timeline events, and whether they settle it."""

    events: list[TimelineEvent]
    settled: bool


Answer = CommandVerdict | Observed


async def send_command(
    handle: WorkflowHandle[Any, Any],
    name: str,
    command: Command,
    settled_by: Collection[EventKind] | None = None,
) -> Answer:
    """Send `command` to the incident's handler `name` and return what the incident did with it.

    `settled_by` (signal path): event kinds that finish the command; by default its first event does.
    Resolve keeps waiting past "resolve requested" for the health gate's verdict."""
    if name in await update_names(handle):
        return await _send_as_update(handle, name, command)
    return await _send_as_signal(handle, name, command, settled_by)


async def _send_as_update(handle: WorkflowHandle[Any, Any], name: str, command: Command) -> CommandVerdict:
    try:
        async with asyncio.timeout(UPDATE_WAIT_SECONDS):
            verdict: CommandVerdict = await handle.execute_update(name, command, result_type=CommandVerdict)
    except WorkflowUpdateFailedError as error:  # the validator (or the handler) refused: nothing was applied
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        return CommandVerdict(command=name, outcome="rejected", reason=reason, command_id=command.command_id)
    except RPCError as error:
        if not is_missing_workflow(error):
            raise
        raise await missing_or_closed(handle) from None
    except TimeoutError:
        raise CliError(
            f"no worker answered '{name}' on {handle.id} within {UPDATE_WAIT_SECONDS:.0f} s; it may still be "
            f"applied: check `warroom status {handle.id}` before sending it again"
        ) from None
    return verdict


async def _send_as_signal(
    handle: WorkflowHandle[Any, Any], name: str, command: Command, settled_by: Collection[EventKind] | None
) -> Observed:
    try:
        await handle.signal(name, command.model_dump(mode="json"))
    except RPCError as error:
        if not is_missing_workflow(error):
            raise
        raise await missing_or_closed(handle) from None
    return await _observe(handle, command.command_id, settled_by)


async def _observe(
    handle: WorkflowHandle[Any, Any], command_id: str | None, settled_by: Collection[EventKind] | None
) -> Observed:
    """Poll the status query for the timeline events carrying this command's id, until they settle it or
    OUTCOME_WAIT_SECONDS pass (the worker may be busy; the caller then says how to follow up)."""

    def settled(events: list[TimelineEvent]) -> bool:
        return any(settled_by is None or event.kind in settled_by for event in events)

    deadline = time.monotonic() + OUTCOME_WAIT_SECONDS
    while True:
        status = await query_status(handle)
        events = [event for event in status.timeline if event.command_id == command_id]
        if settled(events) or time.monotonic() >= deadline:
            return Observed(events, settled(events))
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


def report(workflow_id: str, name: str, answer: Answer) -> int:
    """Print the answer; the exit code is 1 if the command was rejected."""
    if isinstance(answer, CommandVerdict):
        return report_verdict(answer)
    return report_outcome(workflow_id, name, answer.events, answer.settled)


def report_verdict(verdict: CommandVerdict) -> int:
    typer.echo(f"{verdict.outcome}: {verdict.reason}")
    return 1 if verdict.outcome == "rejected" else 0


def report_outcome(workflow_id: str, name: str, events: list[TimelineEvent], settled: bool) -> int:
    """Print what the incident did with the command; the exit code is 1 if it was rejected."""
    if not events:
        raise CliError(
            f"'{name}' was delivered to {workflow_id} but no outcome was recorded within "
            f"{OUTCOME_WAIT_SECONDS:.0f} s; check `warroom status {workflow_id}`"
        )
    for event in events:
        if event.kind in (EventKind.REJECTED, EventKind.IGNORED):
            typer.echo(f"{event.kind.value}: {event.summary}")
        else:
            typer.echo(f"accepted ({event.kind.value}): {event.summary}")
    if not settled:
        typer.echo(f"pending: no verdict yet; follow it with `warroom status {workflow_id}`")
    return 1 if any(event.kind is EventKind.REJECTED for event in events) else 0


def steer(
    ctx: typer.Context,
    incident_id: str,
    name: str,
    model: type[Command],
    fields: dict[str, Any],
    settled_by: Collection[EventKind] | None = None,
) -> NoReturn:
    """Validate here (a usage error beats a rejection in the timeline), send, report, exit with the verdict."""
    command = validated(model, {**fields, "by": fields["by"] or default_actor(), "command_id": str(uuid4())})
    settings = settings_of(ctx)
    workflow_id = incident_workflow_id(incident_id)

    async def deliver() -> Answer:
        client = await connect_to_temporal(settings)
        return await send_command(client.get_workflow_handle(workflow_id), name, command, settled_by)

    raise typer.Exit(report(workflow_id, name, run_against_temporal(settings, deliver)))


# --------------------------------------------------------------------------- the commands


@steering_commands.command(rich_help_panel=PANEL)
def ack(ctx: typer.Context, incident_id: IncidentId, by: By = None, note: Note = None) -> None:
    """Acknowledge: stops paging and escalation."""
    steer(ctx, incident_id, "acknowledge", Acknowledge, {"by": by, "note": note})


@steering_commands.command(rich_help_panel=PANEL)
def note(
    ctx: typer.Context,
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What you found or did.", show_default=False)],
    by: By = None,
) -> None:
    """Add a note to the incident's timeline (also allowed after resolution, until it closes)."""
    steer(ctx, incident_id, "add_note", AddNote, {"by": by, "text": text})


@steering_commands.command(rich_help_panel=PANEL)
def mitigate(ctx: typer.Context, incident_id: IncidentId, by: By = None, note: Note = None) -> None:
    """Mark the impact as stopped (acknowledges too if nobody has yet)."""
    steer(ctx, incident_id, "mitigate", Mitigate, {"by": by, "note": note})


@steering_commands.command(rich_help_panel=PANEL)
def resolve(
    ctx: typer.Context,
    incident_id: IncidentId,
    by: By = None,
    note: Note = None,
    force: Annotated[bool, typer.Option("--force", help="Resolve even if the health gate fails.")] = False,
) -> None:
    """Resolve: runs the service's health gate, then closes the incident and drafts the post-mortem."""
    steer(
        ctx, incident_id, "resolve", Resolve, {"by": by, "note": note, "force": force},
        settled_by={EventKind.RESOLVED, EventKind.REJECTED, EventKind.IGNORED},
    )  # fmt: skip


@steering_commands.command(rich_help_panel=PANEL)
def reclassify(
    ctx: typer.Context,
    incident_id: IncidentId,
    severity: Annotated[str, typer.Option(help="New severity: SEV-1 (worst) .. SEV-4.", show_default=False)],
    reason: Annotated[
        str, typer.Option(help="Why; recorded as the classification reason.", show_default=False)
    ],
    by: By = None,
) -> None:
    """Change the severity; the escalation plan follows the new severity."""
    steer(
        ctx, incident_id, "reclassify", Reclassify, {"by": by, "severity": severity.upper(), "reason": reason}
    )


@steering_commands.command(rich_help_panel=PANEL)
def assign(
    ctx: typer.Context,
    incident_id: IncidentId,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.", show_default=False)],
    person: Annotated[str, typer.Option(help="Who takes the role (a roster name).", show_default=False)],
    by: By = None,
) -> None:
    """Give an incident role (incident commander, tech lead, communications, business liaison)."""
    steer(ctx, incident_id, "assign_role", AssignRole, {"by": by, "role": role, "person": person})


@steering_commands.command(rich_help_panel=PANEL)
def escalate(
    ctx: typer.Context,
    incident_id: IncidentId,
    level: Annotated[
        int, typer.Option(help="Escalation level to engage now (1 = on-call).", show_default=False)
    ],
    reason: Reason,
    by: By = None,
) -> None:
    """Engage an escalation level now, without waiting for its timer."""
    steer(ctx, incident_id, "escalate", Escalate, {"by": by, "level": level, "reason": reason})


@steering_commands.command(rich_help_panel=PANEL)
def snooze(
    ctx: typer.Context,
    incident_id: IncidentId,
    duration: Annotated[
        str, typer.Option(help='How long to hold pages and nudges, e.g. "30m".', show_default=False)
    ],
    reason: Reason,
    by: By = None,
) -> None:
    """Hold pages and status nudges of a non-SEV-1 incident for a bounded time."""
    steer(ctx, incident_id, "snooze", Snooze, {"by": by, "duration": duration, "reason": reason})


@steering_commands.command(rich_help_panel=PANEL)
def update(
    ctx: typer.Context,
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The status update.", show_default=False)],
    customer: Annotated[bool, typer.Option("--customer", help="Customer-facing, not internal.")] = False,
    by: By = None,
) -> None:
    """Post a status update: sends it to its audience and resets the status-update clock."""
    audience = "customer" if customer else "internal"
    steer(ctx, incident_id, "post_update", PostUpdate, {"by": by, "text": text, "audience": audience})


@steering_commands.command("regulator-notified", rich_help_panel=PANEL)
def regulator_notified(
    ctx: typer.Context,
    incident_id: IncidentId,
    reference: Annotated[str | None, typer.Option(help="The regulator's case number.")] = None,
    by: By = None,
) -> None:
    """Record that the regulator was notified: stops the regulatory reminders."""
    steer(
        ctx, incident_id, "record_regulatory_notification", RecordRegulatoryNotification,
        {"by": by, "reference": reference},
    )  # fmt: skip
