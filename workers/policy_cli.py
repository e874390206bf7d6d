"""`warroom policy check|explain`: a policy file judged and tried out without Temporal or a worker.

`check` is what CI runs on a policy change; `explain` answers "if this broke now, who gets woken and when?"
before it happens. Both only read the file: exit 0 ok, 1 the policy has errors, 2 the file or an option
cannot be used.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from config.policy_file import PolicyError, load_policy_file
from config.policy_lint import lint
from workers.cli.errors import CliError
from workers.cli.impact import with_impact_options
from workflows.durations import format_duration, parse_duration
from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.messages.status import Classification
from workflows.policy import Policy
from workflows.severity import classify
from workflows.what_if import WhatIf, format_step, simulate

policy_app = typer.Typer(
    help="Check a policy file, or see what an incident would do under it.",
    no_args_is_help=True,
)

FileArgument = Annotated[Path, typer.Argument(help="The policy YAML file.", show_default=False)]


def _load(file: Path) -> Policy:
    try:
        return load_policy_file(file)
    except PolicyError as error:
        raise CliError(str(error), exit_code=2) from None


@policy_app.command()
def check(file: FileArgument) -> None:
    """Validate and lint a policy: exit 1 on any error, 0 with warnings only."""
    findings = lint(_load(file))
    for finding in findings:
        typer.echo(str(finding))
    errors = sum(finding.severity == "error" for finding in findings)
    warnings = len(findings) - errors
    if errors:
        typer.echo(f"FAILED: {file} ({errors} errors, {warnings} warnings)")
        raise typer.Exit(1)
    typer.echo(f"OK: {file} ({warnings} warnings)")


@policy_app.command()
@with_impact_options
def explain(
    file: FileArgument,
    service: Annotated[str, typer.Option(help="The affected service (its owning team is paged).")],
    impact: Impact,
    severity: Annotated[str | None, typer.Option(help="Declare SEV-1..SEV-4 instead of the matrix.")] = None,
    at: Annotated[
        str | None, typer.Option(help="When it starts, ISO 8601 (default now; no offset means UTC).")
    ] = None,
    hours: Annotated[float, typer.Option(help="How far ahead to show.", min=0)] = 24,
    ack_after: Annotated[
        str | None, typer.Option(help="Simulate an acknowledgement after this long (15m, 2h).")
    ] = None,
) -> None:
    """Print the classification with its reasons, the team and roles, and the incident's full timeline."""
    policy = _load(file)
    classification = classify(impact, policy.severity)
    chosen = _severity(severity) or classification.severity
    start = _moment(at)
    horizon = timedelta(hours=hours)
    ack = _duration(ack_after, "--ack-after")
    what_if = simulate(
        policy, severity=chosen, impact=impact, service=service, start=start, horizon=horizon, ack_after=ack
    )
    for line in render_explanation(classification, chosen, service, what_if, start, horizon, ack):
        typer.echo(line)


def render_explanation(
    classification: Classification,
    severity: Severity,
    service: str,
    what_if: WhatIf,
    start: datetime,
    horizon: timedelta,
    ack_after: timedelta | None,
) -> list[str]:
    declared = (
        ""
        if severity is classification.severity
        else f" (declared; the matrix says {classification.severity.value})"
    )
    lines = [f"severity: {severity.value}{declared}"]
    lines += [
        f"  {reason.severity.value}  {reason.dimension}: {reason.explanation}"
        for reason in classification.reasons
    ]
    lines.append(f"team: {what_if.team or 'none (no team owns ' + service + ')'}")
    roles = ", ".join(f"{role} {person}" for role, person in what_if.roles.items()) or "none"
    lines.append(f"roles at {start:%Y-%m-%d %H:%M} UTC: {roles}")
    condition = f"acknowledged after {format_duration(ack_after)}" if ack_after else "nobody acknowledges"
    lines.append(f"timeline if {condition} (next {format_duration(horizon)}):")
    lines += [format_step(step) for step in what_if.steps] or ["  nothing is due"]
    if what_if.truncated:
        lines.append(f"... stopped after {len(what_if.steps)} duties; use a shorter --hours")
    return lines


def _severity(value: str | None) -> Severity | None:
    if value is None:
        return None
    try:
        return Severity(value.strip().upper())
    except ValueError:
        choices = ", ".join(member.value for member in Severity)
        raise typer.BadParameter(f"{value!r} is not one of: {choices}", param_hint="'--severity'") from None


def _moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2026-11-27T09:00)", param_hint="'--at'"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _duration(value: str | None, option: Literal["--ack-after"]) -> timedelta | None:
    if value is None:
        return None
    parsed = parse_duration(value)
    if not isinstance(parsed, timedelta):
        raise typer.BadParameter(
            f"{value!r} is not a duration like 90s, 15m, 2h, 1d", param_hint=f"'{option}'"
        )
    return cast(timedelta, parsed)
