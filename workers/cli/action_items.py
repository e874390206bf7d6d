"""`warroom action-items list|show|complete|reassign|extend|cancel`: post-mortem follow-ups, found through
visibility (the ActionItem* search attributes) and steered with the item's updates, whose verdict is printed.

Names, not imports of the workflow: the CLI stays light (no workflow code, activities or adapters).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from uuid import uuid4

import typer
from temporalio.client import WorkflowExecution
from temporalio.service import RPCError

from config.settings import Settings
from workers.cli.incident_client import QUERY_TIMEOUT, connect_to_temporal
from workers.cli.options import By, Reason, default_actor, settings_of, validated
from workers.cli.steering import report_verdict, send_command
from workers.cli.temporal_errors import ACTION_ITEM, is_missing_workflow, not_found, run_against_temporal
from workflows.analysis_policy import PRIORITIES
from workflows.messages.action_items import (
    ActionItemView,
    CancelItem,
    CompleteItem,
    ExtendDue,
    ItemStatus,
    ReadRoster,
    ReassignItem,
)
from workflows.messages.commands import Command, CommandVerdict
from workflows.search_attributes import (
    ACTION_ITEM_DUE,
    ACTION_ITEM_INCIDENT,
    ACTION_ITEM_OWNER,
    ACTION_ITEM_PRIORITY,
    ACTION_ITEM_STATUS,
)

ITEM_WORKFLOW_TYPE = "ActionItemWorkflow"
action_items_app = typer.Typer(no_args_is_help=True, help="Post-mortem action items: list, show, steer.")

ItemId = Annotated[str, typer.Argument(metavar="ITEM_ID", help="The item's workflow id (action-item-...).")]


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def items_query(
    owner: str | None,
    incident: str | None,
    priority: str | None,
    overdue_at: datetime | None,
    include_closed: bool,
) -> str:
    """The visibility query; user values are quoted so they stay values."""
    clauses = [f"WorkflowType = '{ITEM_WORKFLOW_TYPE}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    for key, value in (
        (ACTION_ITEM_OWNER, owner),
        (ACTION_ITEM_INCIDENT, incident),
        (ACTION_ITEM_PRIORITY, priority),
    ):
        if value is not None:
            clauses.append(f"{key.name} = {_quoted(value)}")
    if overdue_at is not None:
        clauses.append(f"{ACTION_ITEM_DUE.name} < {_quoted(overdue_at.isoformat().replace('+00:00', 'Z'))}")
        clauses.append(
            f"{ACTION_ITEM_STATUS.name} IN ('{ItemStatus.OPEN.value}', '{ItemStatus.OVERDUE.value}')"
        )
    return " AND ".join(clauses)


async def _row(execution: WorkflowExecution, now: datetime) -> dict[str, Any]:
    attributes = execution.typed_search_attributes
    due = attributes.get(ACTION_ITEM_DUE)
    status = attributes.get(ACTION_ITEM_STATUS)
    if status == ItemStatus.OPEN.value and due is not None and due <= now:
        status = ItemStatus.OVERDUE.value  # the item says so itself at its next wake-up; visibility may lag
    memo = await execution.memo()
    return {
        "item_id": execution.id,
        "title": memo.get("title"),
        "owner": attributes.get(ACTION_ITEM_OWNER),
        "priority": attributes.get(ACTION_ITEM_PRIORITY),
        "status": status,
        "due_at": due.isoformat() if due else None,
        "incident_id": attributes.get(ACTION_ITEM_INCIDENT),
    }


async def _list(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    client = await connect_to_temporal(settings)
    now = datetime.now(UTC)
    return [await _row(execution, now) async for execution in client.list_workflows(query, limit=limit)]


@action_items_app.command("list")
def list_items(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past their due date.")] = False,
    incident: Annotated[str | None, typer.Option(help="Only items of this incident id.")] = None,
    priority: Annotated[
        str | None, typer.Option(help=f"Only this priority: {', '.join(PRIORITIES)}.")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include done and cancelled items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1)] = 200,
) -> None:
    """List action items (open ones unless --all) through visibility, soonest due first."""
    if priority is not None and priority.lower() not in PRIORITIES:
        raise typer.BadParameter(
            f"{priority!r} is not one of: {', '.join(PRIORITIES)}", param_hint="'--priority'"
        )
    query = items_query(owner, incident, priority.lower() if priority else None,
                        datetime.now(UTC) if overdue else None, show_all)  # fmt: skip
    settings = settings_of(ctx)
    rows = run_against_temporal(settings, lambda: _list(settings, query, limit))
    rows.sort(key=lambda row: row["due_at"] or "")
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no action items match ({query})", err=True)
        return
    typer.echo(f"{'DUE (UTC)':<17} {'STATUS':<9} {'PRIORITY':<8} {'OWNER':<12} {'ITEM':<40} TITLE")
    for row in rows:
        due = (row["due_at"] or "")[:16].replace("T", " ")
        typer.echo(f"{due:<17} {row['status'] or '':<9} {row['priority'] or '':<8} {row['owner'] or '':<12} "
                   f"{row['item_id']:<40} {row['title'] or ''}")  # fmt: skip


async def _show(settings: Settings, item_id: str) -> ActionItemView:
    client = await connect_to_temporal(settings)
    try:
        view: ActionItemView = await client.get_workflow_handle(item_id).query(
            "status", result_type=ActionItemView, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        if is_missing_workflow(error):
            raise not_found(item_id, ACTION_ITEM) from None
        raise
    return view


@action_items_app.command()
def show(
    ctx: typer.Context,
    item_id: ItemId,
    as_json: Annotated[bool, typer.Option("--json", help="The status query as JSON.")] = False,
) -> None:
    """An item's owner, due date, status, extensions, next reminder and history."""
    settings = settings_of(ctx)
    view = run_against_temporal(settings, lambda: _show(settings, item_id))
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    lines = [
        f"{view.item_id}: {view.title}",
        f"status {view.status.value} · {view.priority} priority · owner {view.owner} (manager {view.manager or '-'})",
        f"due {view.due_at:%Y-%m-%d %H:%M} UTC (first due {view.original_due_at:%Y-%m-%d %H:%M} UTC, "
        f"{view.extensions_total} extension(s)) · from {view.incident_id}",
    ]
    if view.tracking_link:
        lines.append(f"tracked in {view.tracking_link}")
    if view.next_reminder_at:
        lines.append(f"next: {view.next_reminder} at {view.next_reminder_at:%Y-%m-%d %H:%M} UTC")
    lines += [
        f"  {event.at:%Y-%m-%d %H:%M} {event.kind:<10} {event.actor}: {event.summary}"
        for event in view.history
    ]
    typer.echo("\n".join(lines))


def _steer(
    ctx: typer.Context,
    item_id: str,
    name: str,
    model: type[Command],
    fields: dict[str, Any],
    read_roster_first: bool = False,
) -> NoReturn:
    by = fields["by"] or default_actor()
    command = validated(model, {**fields, "by": by, "command_id": str(uuid4())})
    settings = settings_of(ctx)

    async def deliver() -> CommandVerdict:
        client = await connect_to_temporal(settings)
        handle = client.get_workflow_handle(item_id)
        if read_roster_first:
            # The item checks names against the roster it last read; someone added since is known after this.
            # Its verdict is not shown: a closed item's refusal comes again from the command itself, and a
            # worker too old to know read_roster just checks against what it has.
            await send_command(handle, "read_roster", ReadRoster(by=by, command_id=str(uuid4())), ACTION_ITEM)
        return await send_command(handle, name, command, ACTION_ITEM)

    raise typer.Exit(report_verdict(run_against_temporal(settings, deliver)))


@action_items_app.command()
def complete(
    ctx: typer.Context,
    item_id: ItemId,
    evidence: Annotated[str, typer.Option(help="What shows it is done (a PR, a link).", show_default=False)],
    by: By = None,
) -> None:
    """Mark the item done; it stops reminding."""
    _steer(ctx, item_id, "complete", CompleteItem, {"by": by, "evidence": evidence})


@action_items_app.command()
def reassign(
    ctx: typer.Context,
    item_id: ItemId,
    owner: Annotated[str, typer.Option(help="The new owner (a roster person).", show_default=False)],
    reason: Reason,
    by: By = None,
) -> None:
    """Give the item to another person of the roster (the item reads the policy file's roster first)."""
    _steer(ctx, item_id, "reassign", ReassignItem, {"by": by, "owner": owner, "reason": reason},
           read_roster_first=True)  # fmt: skip


@action_items_app.command()
def extend(
    ctx: typer.Context,
    item_id: ItemId,
    until: Annotated[
        str, typer.Option(help="New due date (2027-01-31) or moment (ISO 8601).", show_default=False)
    ],
    reason: Reason,
    by: By = None,
) -> None:
    """Move the due date (high priority: bounded by the policy); the extension is recorded."""
    _steer(ctx, item_id, "extend_due", ExtendDue, {"by": by, "until": until, "reason": reason})


@action_items_app.command()
def cancel(ctx: typer.Context, item_id: ItemId, reason: Reason, by: By = None) -> None:
    """Cancel the item with a reason; it stops reminding."""
    _steer(ctx, item_id, "cancel", CancelItem, {"by": by, "reason": reason})
