"""Steering commands: each sends one human command to an incident and reports what the incident did with it.

`send_command` is the one place a command leaves the CLI: the Temporal update of the command's name, which
answers with the `CommandVerdict` (`applied`, `ignored`, or `rejected` with the reason). A validator's refusal
never enters the incident's history; it arrives as a `WorkflowUpdateFailedError` whose cause carries the
reason. `resolve` answers once the health gate has decided. The Web UI sends the signals of the same names,
which run the same command code (workflows/incident/handlers.py).

A closed incident hands what outlives it to its post-mortem review (`review-<occurrence>`, named by the incident's
result as `aftercare_workflow_id`), which also runs the regulatory clock: the commands it accepts are sent
there once the incident has closed.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, NoReturn
from uuid import uuid4

import typer
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from workers.cli.errors import CliError
from workers.cli.incident_client import aftercare_of, connect_to_temporal, missing_or_closed
from workers.cli.options import By, IncidentId, Note, Reason, default_actor, settings_of, validated
from workers.cli.temporal_errors import INCIDENT, Subject, is_missing_workflow, run_against_temporal
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

# A resolve waits for the health gate (up to 3 probes of 30 s): give it room before calling the worker silent.
UPDATE_WAIT_SECONDS = 100.0
AFTERCARE_COMMANDS = {"record_regulatory_notification"}
PANEL = "Steer an incident"

steering_commands = typer.Typer()


async def send_command(
    handle: WorkflowHandle[Any, Any], name: str, command: Command, subject: Subject = INCIDENT
) -> CommandVerdict:
    """Send `command` as the update `name` and return the workflow's verdict."""
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
        raise await missing_or_closed(handle, subject) from None
    except TimeoutError:
        raise CliError(
            f"no worker answered '{name}' on {handle.id} within {UPDATE_WAIT_SECONDS:.0f} s; it may still be "
            f"applied: check `warroom status {handle.id}` before sending it again"
        ) from None
    return verdict


async def target_of(client: Client, workflow_id: str, name: str) -> WorkflowHandle[Any, Any]:
    """The incident, or its post-mortem review when the incident has closed and the review takes `name`."""
    handle = client.get_workflow_handle(workflow_id)
    if name not in AFTERCARE_COMMANDS:
        return handle
    aftercare = await aftercare_of(client, workflow_id)
    return client.get_workflow_handle(aftercare) if aftercare else handle


def report_verdict(verdict: CommandVerdict) -> int:
    """Print the verdict; the exit code is 1 if the command was rejected."""
    typer.echo(f"{verdict.outcome}: {verdict.reason}")
    return 1 if verdict.outcome == "rejected" else 0


def steer(
    ctx: typer.Context,
    incident_id: str,
    name: str,
    model: type[Command],
    fields: dict[str, Any],
) -> NoReturn:
    """Validate here (a usage error beats a rejection in the timeline), send, report, exit with the verdict."""
    command = validated(model, {**fields, "by": fields["by"] or default_actor(), "command_id": str(uuid4())})
    settings = settings_of(ctx)
    workflow_id = incident_workflow_id(incident_id)

    async def deliver() -> CommandVerdict:
        client = await connect_to_temporal(settings)
        return await send_command(await target_of(client, workflow_id, name), name, command)

    raise typer.Exit(report_verdict(run_against_temporal(settings, deliver)))


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
    false_positive: Annotated[
        bool,
        typer.Option(
            "--false-positive", help="Nothing was wrong: the alert was noise (counted by `warroom report`)."
        ),
    ] = False,
) -> None:
    """Resolve: runs the service's health gate, then closes the incident and drafts the post-mortem."""
    steer(
        ctx, incident_id, "resolve", Resolve,
        {"by": by, "note": note, "force": force, "false_positive": false_positive},
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
