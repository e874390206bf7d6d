"""`warroom declare | status | list`: open an incident by hand, read one, find them."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import uuid4

import typer
from temporalio.client import WorkflowExecution
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from config.settings import Settings
from workers.cli.errors import CliError
from workers.cli.impact import with_impact_options
from workers.cli.incident_client import INCIDENT_WORKFLOW_TYPE, connect_to_temporal, query_status
from workers.cli.options import IncidentId, default_actor, enum_value, settings_of, validated
from workers.cli.render import render_status, render_table
from workers.cli.temporal_errors import run_against_temporal
from workflows.messages.alerts import Impact, IncidentInput
from workflows.messages.common import Phase, Severity, incident_workflow_id
from workflows.messages.status import IncidentStatus
from workflows.search_attributes import INCIDENT_PHASE, INCIDENT_SERVICE, INCIDENT_SEVERITY

incident_commands = typer.Typer()
PANEL = "Incidents"
STATIC_SUMMARY_LIMIT = 200


@incident_commands.command(rich_help_panel=PANEL)
@with_impact_options
def declare(
    ctx: typer.Context,
    service: Annotated[str, typer.Option(help="The affected service.")],
    summary: Annotated[str, typer.Option(help="What is wrong, in one line.")],
    impact: Impact,
    severity: Annotated[
        str | None,
        typer.Option(
            help="SEV-1 (worst) .. SEV-4. Omit it to let the severity matrix decide from the impact."
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who declares (default: $USER, else 'cli').")] = None,
    key: Annotated[
        str | None,
        typer.Option(help="Dedup key; the incident id is incident-<key> (default: <service>-<random>)."),
    ] = None,
) -> None:
    """Declare an incident: starts its workflow, which classifies it and pages. Prints the incident id."""
    incident = validated(IncidentInput, {
        "incident_key": key or f"{_slug(service)}-{uuid4().hex[:8]}",
        "service": service, "summary": summary, "declared_by": by or default_actor(),
        "severity": severity.upper() if severity else None, "impact": impact,
    })  # fmt: skip
    settings = settings_of(ctx)
    workflow_id = run_against_temporal(settings, lambda: _start_incident(settings, incident))
    typer.echo(workflow_id)
    typer.echo(f"declared; follow it with `warroom status {workflow_id}`", err=True)


def static_summary(incident: IncidentInput) -> str:
    """What the Web UI's workflow list shows for the incident, forever: only what is known at start. The
    severity appears only when a human declared it; the matrix decides later and the UI's search attribute
    IncidentSeverity (and the current details) carry that."""
    declared = f"[{incident.severity.value}] " if incident.severity else ""
    return f"{declared}{incident.service}: {incident.summary}"[:STATIC_SUMMARY_LIMIT]


async def _start_incident(settings: Settings, incident: IncidentInput) -> str:
    client = await connect_to_temporal(settings)
    workflow_id = incident_workflow_id(incident.incident_key)
    try:
        await client.start_workflow(
            INCIDENT_WORKFLOW_TYPE, incident, id=workflow_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL, static_summary=static_summary(incident),
        )  # fmt: skip
    except WorkflowAlreadyStartedError:
        raise CliError(
            f"incident '{workflow_id}' already exists and is open: steer it (`warroom status {workflow_id}`) "
            f"or declare with another --key"
        ) from None
    return workflow_id


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "incident"


@incident_commands.command(rich_help_panel=PANEL)
def status(
    ctx: typer.Context,
    incident_id: IncidentId,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full IncidentStatus as JSON.")] = False,
) -> None:
    """Show an incident: phase, severity and why, who is paged and acked, what happens next, recent events.

    Works on closed incidents too (a worker must be running to answer)."""
    settings = settings_of(ctx)
    workflow_id = incident_workflow_id(incident_id)
    incident = run_against_temporal(settings, lambda: _fetch_status(settings, workflow_id))
    typer.echo(incident.model_dump_json(indent=2) if as_json else render_status(incident))


async def _fetch_status(settings: Settings, workflow_id: str) -> IncidentStatus:
    client = await connect_to_temporal(settings)
    return await query_status(client.get_workflow_handle(workflow_id))


@incident_commands.command("list", rich_help_panel=PANEL)
def list_incidents(
    ctx: typer.Context,
    phase: Annotated[str | None, typer.Option(help=f"Only this phase: {', '.join(Phase)}.")] = None,
    severity: Annotated[str | None, typer.Option(help=f"Only this severity: {', '.join(Severity)}.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include closed incidents (implied by --phase closed).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """List incidents (open ones unless --all), newest first. Visibility lags a second or so behind."""
    phase_value = enum_value(Phase, phase, "--phase", str.lower)
    severity_value = enum_value(Severity, severity, "--severity", str.upper)
    query = visibility_query(
        phase_value, severity_value, service, include_closed=show_all or phase_value == Phase.CLOSED
    )
    settings = settings_of(ctx)
    executions = run_against_temporal(settings, lambda: _list_executions(settings, query, limit))
    if not executions:
        typer.echo(f"no incidents match ({query})", err=True)
        return
    typer.echo(render_table(executions))


def visibility_query(
    phase: str | None, severity: str | None, service: str | None, include_closed: bool
) -> str:
    """The visibility query; user values are quoted and escaped so they stay values."""
    clauses = [f"WorkflowType = '{INCIDENT_WORKFLOW_TYPE}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    for key, value in ((INCIDENT_PHASE, phase), (INCIDENT_SEVERITY, severity), (INCIDENT_SERVICE, service)):
        if value is not None:
            clauses.append(f"{key.name} = {_quoted(value)}")
    return " AND ".join(clauses)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


async def _list_executions(settings: Settings, query: str, limit: int) -> list[WorkflowExecution]:
    client = await connect_to_temporal(settings)
    return [execution async for execution in client.list_workflows(query, limit=limit)]
