"""`warroom setup-search-attributes`: prepare a Temporal cluster for warroom (the dev server needs nothing)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from workers.cli.errors import CliError
from workers.cli.incident_client import connect_to_temporal
from workers.cli.options import settings_of
from workers.cli.temporal_errors import run_against_temporal

admin_commands = typer.Typer()
PANEL = "Set up a cluster"
RETRY_PAUSE = 2.0


@admin_commands.command("setup-search-attributes", rich_help_panel=PANEL)
def setup_search_attributes(
    ctx: typer.Context,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to keep retrying while Temporal is not up yet (a deployment starting at once).",
        ),
    ] = 0,
) -> None:
    """Register warroom's search attributes in the namespace (safe to run again).

    Attributes already there are left alone. Needs the operator API of a self-hosted cluster: on Temporal Cloud
    create them with tcld or the Cloud UI. `warroom run` needs none of this."""
    from workers.search_attribute_setup import SearchAttributeConflict, register_search_attributes
    from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

    settings = settings_of(ctx)

    async def register() -> None:
        client = await _connect_when_up(settings, wait)
        try:
            registrations = await register_search_attributes(client, ALL_SEARCH_ATTRIBUTES)
        except SearchAttributeConflict as error:
            raise CliError(str(error)) from None
        for registration in registrations:
            outcome = "registered" if registration.added else "already registered"
            typer.echo(f"{registration.name} ({registration.type_name}): {outcome}")
        typer.echo(f"namespace '{settings.namespace}' at {settings.temporal_address} is ready for warroom")

    run_against_temporal(settings, register)


async def _connect_when_up(settings: Settings, wait: float) -> Client:
    """Connect and check the namespace answers; retry for `wait` seconds while the server is starting."""
    deadline = time.monotonic() + wait
    while True:
        try:
            client = await connect_to_temporal(settings)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
            return client
        except (CliError, RPCError) as error:
            starting = isinstance(error, CliError) or error.status is RPCStatusCode.UNAVAILABLE
            if not starting or time.monotonic() >= deadline:
                raise
            typer.echo(f"Temporal at {settings.temporal_address} is not up yet; retrying...", err=True)
            await asyncio.sleep(RETRY_PAUSE)
