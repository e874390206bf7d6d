"""The `warroom` command line: run the stack, declare incidents, steer them with signals, read their status.

A signal only proves that the server stored the command, not that the incident accepted it: signal handlers
never raise, they record "accepted", "ignored" or "rejected" in the timeline. So every steering command
carries a fresh `command_id`, and the CLI reads the `status` query until the event with that id appears,
then tells the human what the incident actually did.

Exit codes: 0 ok, 1 operational error (Temporal unreachable, unknown incident, command rejected),
2 usage error (bad option value, reported with the option's name).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import uuid4

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecution, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config.channels import ChannelConfigError
from config.policy_file import PolicyError
from config.settings import Settings
from workers.cli_errors import CliError
from workers.cli_render import render_status, render_table
from workers.client import connect
from workers.dev_stack import transport_reason
from workers.notify_cli import notify_app
from workers.policy_cli import policy_app
from workflows.messages.alerts import IncidentInput
from workflows.messages.commands import (
    Acknowledge,
    AddNote,
    AssignRole,
    Command,
    Escalate,
    Mitigate,
    PostUpdate,
    Reclassify,
    RecordRegulatoryNotification,
    Resolve,
    Snooze,
)
from workflows.messages.common import ROLES, Phase, Severity, incident_workflow_id
from workflows.messages.status import EventKind, IncidentStatus, TimelineEvent
from workflows.search_attributes import INCIDENT_PHASE, INCIDENT_SERVICE, INCIDENT_SEVERITY

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

# Names, not imports of workflows.incident: the CLI stays light (no workflow sandbox, activities, adapters).
INCIDENT_WORKFLOW_TYPE = "IncidentWorkflow"
STATUS_QUERY = "status"
OUTCOME_WAIT_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.1
QUERY_TIMEOUT = timedelta(seconds=5)

# Where a contract field comes from on the command line, so a validation error names what the user typed.
CLI_NAMES = {
    "incident_key": "--key",
    "declared_by": "--by",
    "impact.users_affected": "--users",
    "impact.revenue_per_hour": "--revenue-per-hour",
    "impact.regions": "--region",
    "impact.function": "--function",
    "impact.user_scope": "--user-scope",
    "text": "TEXT",
}


app = typer.Typer(
    name="warroom",
    help="Incident response on Temporal: run the stack, declare incidents, steer them, read their status.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(policy_app, name="policy")


@app.callback()
def global_options(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Option(
            envvar="WARROOM_TEMPORAL_ADDRESS",
            show_default="localhost:7233",
            help="Temporal frontend host:port to talk to.",
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(envvar="WARROOM_NAMESPACE", show_default="default", help="Temporal namespace."),
    ] = None,
    task_queue: Annotated[
        str | None,
        typer.Option(
            envvar="WARROOM_TASK_QUEUE",
            show_default="warroom",
            help="Task queue the worker polls and new incidents are started on.",
        ),
    ] = None,
) -> None:
    """Settings come from WARROOM_* environment variables; these options override them."""
    overrides = {"temporal_address": address, "namespace": namespace, "task_queue": task_queue}
    ctx.obj = Settings.from_env().model_copy(
        update={field: value for field, value in overrides.items() if value is not None}
    )


app.add_typer(notify_app, name="notify")


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings), "set by global_options"
    return settings


# --------------------------------------------------------------------------- processes


@app.command()
def run(
    ctx: typer.Context,
    port: Annotated[
        int | None,
        typer.Option(help="Temporal frontend port (default: port of --address, 7233)", min=1, max=65535),
    ] = None,
    ui_port: Annotated[
        int | None, typer.Option(help="Web UI port (default: --port + 1000)", min=1, max=65535)
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the server's SQLite file and the post-mortems "
            "live (default: $WARROOM_DATA_DIR or .warroom)"
        ),
    ] = None,
) -> None:
    """Run everything on this machine: Temporal dev server (state kept in a file) + Web UI + worker.

    Ctrl-C stops it all cleanly."""
    from workers.dev_stack import StackConfig, StackError, run_stack

    settings = _settings(ctx)
    frontend_port = port or _port_of(settings.temporal_address) or 7233
    config = StackConfig(
        port=frontend_port,
        ui_port=ui_port or frontend_port + 1000,
        data_dir=(data_dir or settings.data_dir).resolve(),
        namespace=settings.namespace,
    )
    settings = settings.model_copy(update={"temporal_address": config.address, "data_dir": config.data_dir})
    try:
        asyncio.run(run_stack(settings, config, typer.echo))
    except StackError as error:
        raise CliError(str(error)) from None


@app.command()
def worker(ctx: typer.Context) -> None:
    """Run only the worker, against the Temporal at --address. Stops gracefully on Ctrl-C / SIGTERM."""
    from workers.dev_stack import StackError, run_worker

    settings = _settings(ctx)
    try:
        _run(settings, lambda: run_worker(settings, typer.echo))
    except StackError as error:
        raise CliError(str(error)) from None


@app.command()
def intake(ctx: typer.Context) -> None:
    """Run only the HTTP alert intake (WARROOM_INTAKE_* settings, docs/intake.md) against --address."""
    from workers.dev_stack import stop_on_signals
    from workers.intake_process import IntakeConfigError, run_intake

    settings = _settings(ctx)

    async def serve() -> None:
        await run_intake(settings, stop_on_signals().wait, typer.echo)

    try:
        asyncio.run(serve())
    except IntakeConfigError as error:
        raise CliError(str(error)) from None


# --------------------------------------------------------------------------- declare


@app.command()
def declare(
    ctx: typer.Context,
    service: Annotated[str, typer.Option(help="The affected service.")],
    summary: Annotated[str, typer.Option(help="What is wrong, in one line.")],
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
    users: Annotated[int | None, typer.Option(help="Impact: number of users affected.")] = None,
    user_scope: Annotated[
        str | None, typer.Option(help="Impact: all, major_segment, minor_segment or individual.")
    ] = None,
    revenue_per_hour: Annotated[
        float | None, typer.Option(help="Impact: US dollars at risk per hour.")
    ] = None,
    region: Annotated[list[str] | None, typer.Option(help="Impact: affected region (repeatable).")] = None,
    function: Annotated[str | None, typer.Option(help="Impact: 'core' or 'secondary' function.")] = None,
    security_breach: Annotated[
        bool, typer.Option("--security-breach", help="Impact: security breach.")
    ] = False,
    data_corruption: Annotated[
        bool, typer.Option("--data-corruption", help="Impact: data corruption.")
    ] = False,
    regulatory: Annotated[bool, typer.Option("--regulatory", help="Impact: regulatory exposure.")] = False,
) -> None:
    """Declare an incident: starts its workflow, which classifies it and pages. Prints the incident id."""
    impact = {
        "users_affected": users, "user_scope": user_scope, "revenue_per_hour": revenue_per_hour,
        "regions": region or [], "function": function, "security_breach": security_breach,
        "data_corruption": data_corruption, "regulatory": regulatory,
    }  # fmt: skip
    incident = _validated(IncidentInput, {
        "incident_key": key or f"{_slug(service)}-{uuid4().hex[:8]}",
        "service": service, "summary": summary, "declared_by": by or _default_actor(),
        "severity": severity.upper() if severity else None,
        "impact": {name: value for name, value in impact.items() if value is not None},
    })  # fmt: skip
    settings = _settings(ctx)
    workflow_id = _run(settings, lambda: _start_incident(settings, incident))
    typer.echo(workflow_id)
    typer.echo(f"declared; follow it with `warroom status {workflow_id}`", err=True)


async def _start_incident(settings: Settings, incident: IncidentInput) -> str:
    client = await _connect(settings)
    workflow_id = incident_workflow_id(incident.incident_key)
    severity = incident.severity.value if incident.severity else "SEV-?"
    try:
        await client.start_workflow(
            INCIDENT_WORKFLOW_TYPE, incident, id=workflow_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"[{severity}] {incident.service}: {incident.summary}"[:200],
        )  # fmt: skip
    except WorkflowAlreadyStartedError:
        raise CliError(
            f"incident '{workflow_id}' already exists and is open: steer it (`warroom status {workflow_id}`) "
            f"or declare with another --key"
        ) from None
    return workflow_id


# --------------------------------------------------------------------------- steering commands

IncidentId = Annotated[
    str,
    typer.Argument(metavar="INCIDENT_ID", help="Incident key or full id (incident-...).", show_default=False),
]
By = Annotated[str | None, typer.Option(help="Who is doing this (default: $USER, else 'cli').")]
Note = Annotated[str | None, typer.Option(help="Optional note for the timeline.")]


@app.command()
def ack(ctx: typer.Context, incident_id: IncidentId, by: By = None, note: Note = None) -> None:
    """Acknowledge: stops paging and escalation."""
    _steer(ctx, incident_id, "acknowledge", Acknowledge, {"by": by, "note": note})


@app.command()
def note(
    ctx: typer.Context,
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What you found or did.", show_default=False)],
    by: By = None,
) -> None:
    """Add a note to the incident's timeline (also allowed after resolution, until it closes)."""
    _steer(ctx, incident_id, "add_note", AddNote, {"by": by, "text": text})


@app.command()
def mitigate(ctx: typer.Context, incident_id: IncidentId, by: By = None, note: Note = None) -> None:
    """Mark the impact as stopped (acknowledges too if nobody has yet)."""
    _steer(ctx, incident_id, "mitigate", Mitigate, {"by": by, "note": note})


@app.command()
def resolve(
    ctx: typer.Context,
    incident_id: IncidentId,
    by: By = None,
    note: Note = None,
    force: Annotated[bool, typer.Option("--force", help="Resolve even if the health gate fails.")] = False,
) -> None:
    """Resolve: runs the service's health gate, then closes the incident and drafts the post-mortem."""
    _steer(
        ctx,
        incident_id,
        "resolve",
        Resolve,
        {"by": by, "note": note, "force": force},
        settled_by={EventKind.RESOLVED, EventKind.REJECTED, EventKind.IGNORED},
    )


@app.command()
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
    _steer(
        ctx, incident_id, "reclassify", Reclassify, {"by": by, "severity": severity.upper(), "reason": reason}
    )


Reason = Annotated[str, typer.Option(help="Why; recorded in the timeline.", show_default=False)]


@app.command()
def assign(
    ctx: typer.Context,
    incident_id: IncidentId,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.", show_default=False)],
    person: Annotated[str, typer.Option(help="Who takes the role (a roster name).", show_default=False)],
    by: By = None,
) -> None:
    """Give an incident role (incident commander, tech lead, communications, business liaison)."""
    _steer(ctx, incident_id, "assign_role", AssignRole, {"by": by, "role": role, "person": person})


@app.command()
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
    _steer(ctx, incident_id, "escalate", Escalate, {"by": by, "level": level, "reason": reason})


@app.command()
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
    _steer(ctx, incident_id, "snooze", Snooze, {"by": by, "duration": duration, "reason": reason})


@app.command()
def update(
    ctx: typer.Context,
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The status update.", show_default=False)],
    customer: Annotated[bool, typer.Option("--customer", help="Customer-facing, not internal.")] = False,
    by: By = None,
) -> None:
    """Post a status update: sends it to its audience and resets the status-update clock."""
    audience = "customer" if customer else "internal"
    _steer(ctx, incident_id, "post_update", PostUpdate, {"by": by, "text": text, "audience": audience})


@app.command("regulator-notified")
def regulator_notified(
    ctx: typer.Context,
    incident_id: IncidentId,
    reference: Annotated[str | None, typer.Option(help="The regulator's case number.")] = None,
    by: By = None,
) -> None:
    """Record that the regulator was notified: stops the regulatory reminders."""
    _steer(
        ctx, incident_id, "record_regulatory_notification", RecordRegulatoryNotification,
        {"by": by, "reference": reference},
    )  # fmt: skip


def _steer(
    ctx: typer.Context,
    incident_id: str,
    signal: str,
    model: type[Command],
    fields: dict[str, Any],
    settled_by: set[EventKind] | None = None,
) -> None:
    """Validate here (a usage error beats a rejection in the timeline), send, report what the incident did.

    `settled_by`: event kinds that finish the command; by default its first event does. Resolve keeps
    waiting past "resolve requested" for the health gate's verdict.
    """
    command = _validated(
        model, {**fields, "by": fields["by"] or _default_actor(), "command_id": str(uuid4())}
    )
    settings = _settings(ctx)
    workflow_id = incident_workflow_id(incident_id)

    def settled(events: list[TimelineEvent]) -> bool:
        return any(settled_by is None or event.kind in settled_by for event in events)

    events = _run(settings, lambda: _send_and_observe(settings, workflow_id, signal, command, settled))
    raise typer.Exit(report_outcome(workflow_id, signal, events, settled(events)))


async def _send_and_observe(
    settings: Settings,
    workflow_id: str,
    signal: str,
    command: Command,
    settled: Callable[[list[TimelineEvent]], bool],
) -> list[TimelineEvent]:
    """Signal, then poll the status query (bounded) for the timeline events carrying this command's id."""
    client = await _connect(settings)
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.signal(signal, command.model_dump(mode="json"))
    except RPCError as error:
        if not _is_missing_workflow(error):
            raise
        raise await _missing_or_closed(handle) from None
    deadline = time.monotonic() + OUTCOME_WAIT_SECONDS
    while True:
        status = await _query_status(handle)
        events = [event for event in status.timeline if event.command_id == command.command_id]
        if settled(events) or time.monotonic() >= deadline:
            return events
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


def report_outcome(workflow_id: str, signal: str, events: list[TimelineEvent], settled: bool) -> int:
    """Print what the incident did with the command; the exit code is 1 if it was rejected."""
    if not events:
        raise CliError(
            f"'{signal}' was delivered to {workflow_id} but no outcome was recorded within "
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


# --------------------------------------------------------------------------- status and list


@app.command()
def status(
    ctx: typer.Context,
    incident_id: IncidentId,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full IncidentStatus as JSON.")] = False,
) -> None:
    """Show an incident: phase, severity and why, who is paged and acked, what happens next, recent events.

    Works on closed incidents too (a worker must be running to answer)."""
    settings = _settings(ctx)
    workflow_id = incident_workflow_id(incident_id)
    incident = _run(settings, lambda: _fetch_status(settings, workflow_id))
    typer.echo(incident.model_dump_json(indent=2) if as_json else render_status(incident))


async def _fetch_status(settings: Settings, workflow_id: str) -> IncidentStatus:
    client = await _connect(settings)
    return await _query_status(client.get_workflow_handle(workflow_id))


@app.command("list")
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
    phase_value = _enum_value(Phase, phase, "--phase", str.lower)
    severity_value = _enum_value(Severity, severity, "--severity", str.upper)
    query = visibility_query(
        phase_value, severity_value, service, include_closed=show_all or phase_value == Phase.CLOSED
    )
    settings = _settings(ctx)
    executions = _run(settings, lambda: _list_executions(settings, query, limit))
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
    client = await _connect(settings)
    return [execution async for execution in client.list_workflows(query, limit=limit)]


# --------------------------------------------------------------------------- Temporal access and errors


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run one async operation; RPC failures become messages that name the address and the likely fix."""

    async def guarded() -> T:
        try:
            return await work()
        except RPCError as error:
            raise _rpc_failure(error, settings) from None

    return asyncio.run(guarded())


async def _connect(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as error:  # how the SDK reports "Failed client connect"
        raise _unreachable(settings, transport_reason(error)) from None


async def _query_status(handle: WorkflowHandle[Any, Any]) -> IncidentStatus:
    try:
        result: IncidentStatus = await handle.query(
            STATUS_QUERY, result_type=IncidentStatus, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        if _is_missing_workflow(error):
            raise _no_incident(handle.id) from None
        if error.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
            raise CliError(
                f"no worker answered the status query of '{handle.id}' within "
                f"{QUERY_TIMEOUT.total_seconds():.0f} s: is a warroom worker running "
                f"(`warroom run` or `warroom worker`) on the incident's task queue?"
            ) from None
        raise
    except WorkflowQueryFailedError as error:
        raise CliError(f"the status query of '{handle.id}' failed: {error}") from None
    return result


async def _missing_or_closed(handle: WorkflowHandle[Any, Any]) -> CliError:
    """A signal to a closed workflow fails like one to a missing one; tell them apart for the human."""
    try:
        description = await handle.describe()
    except RPCError as error:
        if _is_missing_workflow(error):
            return _no_incident(handle.id)
        raise
    closed = description.status.name.lower() if description.status else "closed"
    return CliError(
        f"incident '{handle.id}' is already closed ({closed}); it takes no more commands. "
        f"See `warroom status {handle.id}`"
    )


def _is_missing_workflow(error: RPCError) -> bool:
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" not in error.message.lower()


def _no_incident(workflow_id: str) -> CliError:
    return CliError(f"no incident '{workflow_id}' (try `warroom list`)")


def _unreachable(settings: Settings, reason: str) -> CliError:
    return CliError(
        f"cannot reach Temporal at {settings.temporal_address}: {reason}. Is `warroom run` running? "
        f"(set --address or WARROOM_TEMPORAL_ADDRESS to use another server)"
    )


def _rpc_failure(error: RPCError, settings: Settings) -> CliError:
    if error.status is RPCStatusCode.UNAVAILABLE:
        return _unreachable(settings, error.message)
    if error.status is RPCStatusCode.NOT_FOUND:
        return CliError(f"{error.message} (namespace '{settings.namespace}' at {settings.temporal_address})")
    return CliError(
        f"Temporal at {settings.temporal_address} refused the request: {error.message} ({error.status.name})"
    )


def _validated(model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    """Validate against the public contract; errors name the option the user typed and the value."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        names, problems = [], []
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"])
            names.append(f"'{CLI_NAMES.get(field, '--' + field.replace('_', '-'))}'")
            problems.append(f"{item['msg']} (got {item['input']!r})")
        raise typer.BadParameter("; ".join(problems), param_hint=" / ".join(names)) from None


E = TypeVar("E", bound=StrEnum)


def _enum_value(enum: type[E], value: str | None, option: str, normalize: Callable[[str], str]) -> E | None:
    if value is None:
        return None
    try:
        return enum(normalize(value.strip()))
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise typer.BadParameter(f"{value!r} is not one of: {choices}", param_hint=f"'{option}'") from None


def _default_actor() -> str:
    return os.environ.get("USER") or "cli"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "incident"


def _port_of(address: str) -> int | None:
    port = address.rpartition(":")[2]
    return int(port) if port.isdigit() else None


def main() -> None:
    """Console entry point. A finished command exits at once instead of tearing the interpreter down: the
    SDK's Rust threads can outlive it and abort finalization with a fatal PyGILState_Release error (exit 134
    after a successful command; temporalio/sdk-python#300)."""
    code = _exit_code_of(_main)
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError):  # e.g. `warroom list | head` closed the pipe
            stream.flush()
    os._exit(code)


def _main() -> None:
    """Expected failures print one line and exit 1 (or 2); never a traceback for users."""
    try:
        app()
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
    except (ChannelConfigError, PolicyError) as error:  # a configuration the operator must fix: exit 2
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except Exception as error:  # a bug: say so briefly; the traceback only for those who ask for it
        if logging.getLevelName(os.environ.get("WARROOM_LOG_LEVEL", "INFO").upper()) == logging.DEBUG:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(error).__name__}: {error} (WARROOM_LOG_LEVEL=DEBUG shows the traceback)",
            err=True,
        )
        raise SystemExit(1) from None


def _exit_code_of(entry: Callable[[], None]) -> int:
    try:
        entry()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        typer.echo(str(exit_.code), err=True)
        return 1
    return 0


if __name__ == "__main__":
    main()
