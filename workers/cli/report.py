"""`warroom report`: incidents by severity and service, MTTA/MTTR against the policy's targets, pages,
escalations, approval waits, action items, noisy alert sources; from Temporal visibility and `status` queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from config.settings import Settings
from workers.cli.options import settings_of
from workers.cli.temporal_errors import run_against_temporal
from workflows.durations import format_duration, parse_duration

if TYPE_CHECKING:
    from workers.reports.aggregate import Report
    from workflows.messages.common import Severity

report_commands = typer.Typer()


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@report_commands.command(rich_help_panel="Analysis")
def report(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(help="How far back: incidents started within this span, e.g. 30d, 12h.")
    ] = "30d",
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="table, json or markdown.")
    ] = ReportFormat.TABLE,
    chart: Annotated[
        Path | None,
        typer.Option(help="Also write a PNG: MTTA/MTTR by week and severity, overdue action items."),
    ] = None,
) -> None:
    """Report on incidents and action items. It sees only what the namespace retention keeps, and says so."""
    span = parse_duration(since)
    if not isinstance(span, timedelta) or span <= timedelta(0):
        raise typer.BadParameter(
            f"expected a duration such as 30d or 12h, got {since!r}", param_hint="--since"
        )
    settings = settings_of(ctx)
    built = run_against_temporal(settings, lambda: build(settings, span, service))
    from workers.reports.render import render_json, render_markdown, render_table

    renderers = {
        ReportFormat.TABLE: render_table,
        ReportFormat.JSON: render_json,
        ReportFormat.MARKDOWN: render_markdown,
    }
    typer.echo(renderers[output](built))
    if chart is not None:
        from workers.reports.chart import write_chart

        written = write_chart(built, chart)
        typer.echo(f"chart written to {written}", err=True)


async def build(settings: Settings, span: timedelta, service: str | None) -> Report:
    from workers.cli.incident_client import connect_to_temporal
    from workers.reports.aggregate import Period, build_report
    from workers.reports.collect import read_action_items, read_incidents, retention

    client = await connect_to_temporal(settings)
    now = datetime.now(UTC)
    since = now - span
    kept = await retention(client)
    visible_since = max(since, now - kept) if kept else since
    period = Period(
        since=since, until=now, retention_seconds=kept.total_seconds() if kept else None,
        visible_since=visible_since, note=retention_note(span, kept),
    )  # fmt: skip
    incidents = await read_incidents(client, visible_since, service)
    items, reason = await read_action_items(client)
    return build_report(
        incidents, period, service=service, ack_targets=ack_targets(settings), action_items=items,
        action_items_reason=reason,
    )  # fmt: skip


def retention_note(span: timedelta, kept: timedelta | None) -> str:
    if kept is None:
        return "The namespace keeps closed workflows indefinitely (no retention set)."
    note = (
        f"Namespace retention is {format_duration(kept)}: the server deletes closed incidents older than that, "
        "so no report can see them"
    )
    if span > kept:
        return note + f" (asked for {format_duration(span)}; showing the last {format_duration(kept)})."
    return note + "."


def ack_targets(settings: Settings) -> dict[Severity, float | None]:
    """The current policy's ack deadlines (a `next_business_day` target has no fixed length: None)."""
    from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
    from workflows.postmortem_facts import ack_deadline_seconds

    policy = load_policy_file(settings.policy_file or DEFAULT_POLICY_FILE)
    return {severity: ack_deadline_seconds(policy, severity) for severity in policy.escalation.ack_deadline}
