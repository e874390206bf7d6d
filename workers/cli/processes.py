"""`warroom run | worker | intake`: the long-running processes. Each imports what it runs inside its body, so
a steering command does not load the worker or the intake's web stack."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from config.settings import Settings
from config.temporal_connection import TemporalConnection
from workers.cli.errors import CliError
from workers.cli.options import settings_of
from workers.cli.temporal_errors import run_against_temporal
from workers.logs import configure_logging
from workflows.durations import parse_duration

process_commands = typer.Typer()
PANEL = "Run warroom"
MetricsOption = Annotated[
    str | None,
    typer.Option(
        "--metrics",
        help="host:port of the Prometheus endpoint (SDK + warroom series; '' turns it off) "
        "[default: $WARROOM_METRICS_ADDRESS or 127.0.0.1:9464]",
    ),
]


@process_commands.command(rich_help_panel=PANEL)
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
    retention: Annotated[
        str | None,
        typer.Option(
            help="How long closed incidents stay visible to status, list and reports, e.g. 90d "
            "(default: $WARROOM_RETENTION or 90d)"
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Also run the demo shop (two regions behind HAProxy) with its policy, containment adapters "
            "and an alert watcher; needs Debian's haproxy (README: demo tour)",
        ),
    ] = False,
    demo_port: Annotated[
        int,
        typer.Option(
            help="--demo: HAProxy's port; the shop's eu, us and the Runtime API take the next three",
            min=1,
            max=65532,
        ),
    ] = 8100,
    metrics: MetricsOption = None,
) -> None:
    """Run everything on this machine: Temporal dev server (state kept in a file) + Web UI + worker.

    Ctrl-C stops it all cleanly."""
    from workers.demo import DemoPlan
    from workers.dev_stack import StackConfig, StackError, run_stack

    settings = _with_metrics(settings_of(ctx), metrics)
    frontend_port = port or _port_of(settings.temporal_address) or 7233
    config = StackConfig(
        port=frontend_port,
        ui_port=ui_port or frontend_port + 1000,
        data_dir=(data_dir or settings.data_dir).resolve(),
        namespace=settings.namespace,
        retention=retention_of(retention or settings.retention),
    )
    settings = settings.model_copy(
        # The embedded dev server speaks plaintext: TLS / API key settings are for a remote cluster.
        update={
            "temporal_address": config.address,
            "data_dir": config.data_dir,
            "connection": TemporalConnection(),
        }
    )
    plan = DemoPlan(config.data_dir, demo_port) if demo else None
    if plan is not None:
        settings = settings.model_copy(update={"policy_file": plan.policy_file})
    try:
        asyncio.run(run_stack(settings, config, typer.echo, plan))
    except StackError as error:
        raise CliError(str(error)) from None


@process_commands.command(rich_help_panel=PANEL)
def worker(ctx: typer.Context, metrics: MetricsOption = None) -> None:
    """Run only the worker, against the Temporal at --address. Stops gracefully on Ctrl-C / SIGTERM.

    TLS, mutual TLS and API keys (Temporal Cloud): WARROOM_TEMPORAL_TLS_* and WARROOM_TEMPORAL_API_KEY
    (docs/operations.md)."""
    from workers.dev_stack import StackError, run_worker

    settings = _with_metrics(settings_of(ctx), metrics)
    try:
        run_against_temporal(settings, lambda: run_worker(settings, typer.echo))
    except StackError as error:
        raise CliError(str(error)) from None


@process_commands.command(rich_help_panel=PANEL)
def intake(ctx: typer.Context) -> None:
    """Run only the HTTP alert intake (WARROOM_INTAKE_* settings, docs/intake.md) against --address.

    TLS and API keys towards Temporal as for `warroom worker` (docs/operations.md)."""
    from workers.dev_stack import stop_on_signals
    from workers.intake_process import IntakeConfigError, run_intake

    settings = settings_of(ctx)
    configure_logging(settings.log_level)  # as `warroom run` and `warroom worker` do (docs/operations.md)

    async def serve() -> None:
        await run_intake(settings, stop_on_signals().wait, typer.echo)

    try:
        asyncio.run(serve())
    except IntakeConfigError as error:
        raise CliError(str(error)) from None


def retention_of(text: str) -> timedelta:
    span = parse_duration(text)
    if not isinstance(span, timedelta) or span < timedelta(days=1):
        raise typer.BadParameter(
            f"expected a duration of at least 1d such as 90d, got {text!r}", param_hint="--retention"
        )
    return span


def _port_of(address: str) -> int | None:
    port = address.rpartition(":")[2]
    return int(port) if port.isdigit() else None


def _with_metrics(settings: Settings, metrics: str | None) -> Settings:
    return settings if metrics is None else settings.model_copy(update={"metrics_address": metrics})
