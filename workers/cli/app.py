"""The `warroom` app: global options, the command modules mounted on it, and the entry point.

Exit codes: 0 ok, 1 operational error (Temporal unreachable, unknown incident, command rejected),
2 usage error (bad option value, reported with the option's name) or a configuration file to fix.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress
from typing import Annotated

import typer

from config.channels import ChannelConfigError
from config.containment import ContainmentConfigError
from config.policy_file import PolicyError
from config.settings import Settings
from config.temporal_connection import TemporalConnectionError
from workers.cli.action_items import action_items_app
from workers.cli.admin import admin_commands
from workers.cli.commands import incident_commands
from workers.cli.containment import containment_commands
from workers.cli.drill import drill_commands
from workers.cli.errors import CliError
from workers.cli.notify import notify_app
from workers.cli.postmortem import postmortem_app
from workers.cli.processes import process_commands
from workers.cli.report import report_commands
from workers.cli.steering import steering_commands
from workers.logs import LogFormatError
from workers.policy_cli import policy_app

app = typer.Typer(
    name="warroom",
    help="Incident response on Temporal: run the stack, declare incidents, steer them, read their status.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


app.add_typer(process_commands)
app.add_typer(incident_commands)
app.add_typer(steering_commands)
app.add_typer(report_commands)
app.add_typer(admin_commands)
app.add_typer(containment_commands)
app.add_typer(policy_app, name="policy")
app.add_typer(notify_app, name="notify")
app.add_typer(postmortem_app, name="postmortem", help="Post-mortems: lint the wording, complete the review.")
app.add_typer(action_items_app, name="action-items")
app.add_typer(drill_commands)


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
    except (
        ChannelConfigError,
        ContainmentConfigError,
        PolicyError,
        LogFormatError,
        TemporalConnectionError,
    ) as error:  # configuration to fix: exit 2
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
