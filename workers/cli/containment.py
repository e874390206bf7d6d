"""Containment commands: approve or reject an action, propose one from the incident's runbook, the emergency
stop and its release, a human-only task done, and the override of phased recovery.

Each is the Temporal update of the same name (see steering.py): the incident checks that `--by` may decide
this action, and a refusal comes back with the reason and exit code 1. `--by` is required here: who approved
is the record, and the CLI trusts whoever can reach Temporal (docs/containment.md, "What each path trusts").
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from workers.cli.options import IncidentId
from workers.cli.steering import steer
from workflows.messages.approvals import (
    ApproveAction,
    CompleteTask,
    HaltAutomation,
    OverrideRecovery,
    ProposeAction,
    RejectAction,
    ResumeAutomation,
)

PANEL = "Contain and recover"

containment_commands = typer.Typer()

RequiredBy = Annotated[
    str, typer.Option("--by", help="Who decides (a roster name): recorded and checked.", show_default=False)
]
ActionId = Annotated[
    str, typer.Argument(metavar="ACTION_ID", help="The action's id (a1, a2, ...; see `warroom status`).")
]
OptionalReason = Annotated[str | None, typer.Option(help="Why; recorded in the timeline.")]
RequiredReason = Annotated[str, typer.Option(help="Why; recorded in the timeline.", show_default=False)]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value that reads as JSON (50, true, "x") is taken as such, anything else as text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="'--param'")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@containment_commands.command(rich_help_panel=PANEL)
def approve(
    ctx: typer.Context,
    incident_id: IncidentId,
    action_id: ActionId,
    by: RequiredBy,
    reason: OptionalReason = None,
) -> None:
    """Approve a pending action (the incident checks you may; a two-person action needs someone else too)."""
    steer(
        ctx,
        incident_id,
        "approve_action",
        ApproveAction,
        {"by": by, "action_id": action_id, "reason": reason},
    )


@containment_commands.command(rich_help_panel=PANEL)
def reject(
    ctx: typer.Context, incident_id: IncidentId, action_id: ActionId, by: RequiredBy, reason: RequiredReason
) -> None:
    """Reject a pending action: it will not run."""
    steer(
        ctx, incident_id, "reject_action", RejectAction, {"by": by, "action_id": action_id, "reason": reason}
    )


@containment_commands.command(rich_help_panel=PANEL)
def propose(
    ctx: typer.Context,
    incident_id: IncidentId,
    action: Annotated[str, typer.Argument(metavar="ACTION", help="An action of the incident's runbook.")],
    by: RequiredBy,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="KEY=VALUE over the runbook's params (repeatable).")
    ] = None,
    reason: OptionalReason = None,
) -> None:
    """Propose a runbook action: automatic ones run, risky ones ask their approvers, human-only ones become tasks."""
    fields = {"by": by, "action": action, "params": parse_params(param or []), "reason": reason}
    steer(ctx, incident_id, "propose_action", ProposeAction, fields)


@containment_commands.command(rich_help_panel=PANEL)
def halt(ctx: typer.Context, incident_id: IncidentId, by: RequiredBy, reason: RequiredReason) -> None:
    """EMERGENCY STOP: cancel the running action (the adapter undoes what it can) and block new ones."""
    steer(ctx, incident_id, "halt_automation", HaltAutomation, {"by": by, "reason": reason})


@containment_commands.command(rich_help_panel=PANEL)
def resume(
    ctx: typer.Context, incident_id: IncidentId, by: RequiredBy, reason: OptionalReason = None
) -> None:
    """Lift the emergency stop: approved actions may run again (withdrawn ones must be proposed again)."""
    steer(ctx, incident_id, "resume_automation", ResumeAutomation, {"by": by, "reason": reason})


@containment_commands.command("task-done", rich_help_panel=PANEL)
def task_done(
    ctx: typer.Context,
    incident_id: IncidentId,
    action_id: ActionId,
    by: RequiredBy,
    note: Annotated[str | None, typer.Option(help="What was done; recorded.")] = None,
) -> None:
    """Mark a human-only task (statement, legal assessment, ...) done."""
    steer(ctx, incident_id, "complete_task", CompleteTask, {"by": by, "action_id": action_id, "note": note})


@containment_commands.command("override-recovery", rich_help_panel=PANEL)
def override_recovery(
    ctx: typer.Context, incident_id: IncidentId, by: RequiredBy, reason: RequiredReason
) -> None:
    """Skip (the rest of) phased recovery, e.g. after a failed gate you verified by hand; the reason is recorded."""
    steer(ctx, incident_id, "override_recovery", OverrideRecovery, {"by": by, "reason": reason})
