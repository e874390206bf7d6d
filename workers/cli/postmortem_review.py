"""`warroom postmortem complete INCIDENT --by NAME --items FILE.yaml`: close the incident's post-mortem review
and start its action items.

The review (`review-<occurrence>`) is named by the closed incident's result; the items file is YAML, either a
list of items or `{action_items: [...]}`, each `{title, owner, priority, due, tracking_link, description}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import typer
import yaml

from workers.cli.errors import CliError
from workers.cli.incident_client import aftercare_of, connect_to_temporal
from workers.cli.options import By, IncidentId, default_actor, settings_of, validated
from workers.cli.steering import report_verdict, send_command
from workers.cli.temporal_errors import run_against_temporal
from workflows.messages.action_items import REVIEW_WORKFLOW_PREFIX, PostmortemComplete
from workflows.messages.commands import CommandVerdict
from workflows.messages.common import incident_workflow_id

postmortem_app = typer.Typer(no_args_is_help=True, help="The post-mortem review of a resolved incident.")


def read_items(path: Path | None) -> list[Any]:
    if path is None:
        return []
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="'--items'") from None
    items = loaded.get("action_items") if isinstance(loaded, dict) else loaded
    if items is None:
        return []
    if not isinstance(items, list):
        raise typer.BadParameter(f"{path} holds no list of action items", param_hint="'--items'")
    return items


@postmortem_app.command()
def complete(
    ctx: typer.Context,
    incident_id: IncidentId,
    by: By = None,
    items: Annotated[
        Path | None,
        typer.Option("--items", help="YAML file of action items (a list or {action_items: [...]})."),
    ] = None,
    document_url: Annotated[str | None, typer.Option(help="Where the post-mortem document lives.")] = None,
) -> None:
    """Close the review: record the document and start one action-item workflow per item."""
    command = validated(
        PostmortemComplete,
        {
            "by": by or default_actor(),
            "document_url": document_url,
            "action_items": read_items(items),
            "command_id": str(uuid4()),
        },
        {"action_items": "--items"},
    )
    settings = settings_of(ctx)

    async def deliver() -> CommandVerdict:
        client = await connect_to_temporal(settings)
        review_id = incident_id if incident_id.startswith(REVIEW_WORKFLOW_PREFIX) else None
        if review_id is None:
            review_id = await aftercare_of(client, incident_workflow_id(incident_id))
        if review_id is None:
            raise CliError(
                f"'{incident_id}' has no post-mortem review yet: it starts when the incident is resolved "
                "(see `warroom status`)"
            )
        return await send_command(client.get_workflow_handle(review_id), "postmortem_complete", command)

    code = report_verdict(run_against_temporal(settings, deliver))
    if code == 0 and command.action_items:
        typer.echo(
            f"list them with: warroom action-items list --incident {incident_workflow_id(incident_id)}"
        )
    raise typer.Exit(code)
