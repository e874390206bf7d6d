"""`warroom drill SCENARIO.yaml`: rehearse an incident against a policy on a private time-skipping server.

Exit codes: 0 the drill ran (its misses are the report, not a failure of the command), 2 the scenario or a
policy must be fixed (nothing was started), 1 the drill could not run to its end.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from config.policy_file import DEFAULT_POLICY_FILE, PolicyError, load_policy_file
from config.settings import Settings
from workers.cli.errors import CliError
from workers.drill.compare import compare
from workers.drill.record import DrillRun
from workers.drill.report import comparison_report, markdown_report, text_report
from workers.drill.runner import DrillError, missing_commands, run_drill
from workers.drill.scenario import Scenario
from workers.drill.scenario_file import ScenarioError, load_scenario
from workers.drill.scoring import Scorecard, score

drill_commands = typer.Typer()


@drill_commands.command()
def drill(
    ctx: typer.Context,
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO.yaml", help="The drill scenario.")],
    policy: Annotated[
        Path | None,
        typer.Option(
            help="Policy to rehearse (default: WARROOM_POLICY, else the built-in config/policy.yaml)."
        ),
    ] = None,
    compare_with: Annotated[
        Path | None,
        typer.Option(
            "--compare", metavar="OTHER_POLICY", help="Run it under this policy too; print the differences."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run and scorecard as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE.md", help="Also write the report as Markdown to this file.")
    ] = None,
) -> None:
    """Run a scenario on the real IncidentWorkflow in seconds (own server, own worker, recording channel)
    and score the response: pages, escalations, update cadence, notices, MTTA/MTTR, roles."""
    settings: Settings = ctx.obj
    policy_file = policy or settings.policy_file or DEFAULT_POLICY_FILE
    scenario = _scenario(scenario_file)
    if missing := missing_commands(scenario):
        raise CliError(
            f"{scenario_file}: the scenario sends {', '.join(missing)}, which this build's IncidentWorkflow "
            "does not take yet (containment approvals, issue 9); nothing was started",
            exit_code=2,
        )
    policies = [policy_file, *([compare_with] if compare_with else [])]
    for file in policies:  # both policies are checked before anything starts
        try:
            load_policy_file(file)
        except PolicyError as error:
            raise CliError(str(error), exit_code=2) from None
    try:
        runs = [asyncio.run(run_drill(scenario, file)) for file in policies]
    except DrillError as error:
        raise CliError(f"the drill stopped: {error}") from None
    cards = [score(run) for run in runs]
    if report is not None:
        text = markdown_report(runs[0], cards[0])
        if len(runs) > 1:
            text += "\n" + markdown_report(runs[1], cards[1])
            text += "\n" + comparison_report(compare(cards[0], cards[1]), markdown=True) + "\n"
        report.write_text(text, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(_document(runs, cards), indent=2, default=str))
        return
    typer.echo(text_report(runs[0], cards[0]))
    if len(runs) > 1:
        typer.echo("\n" + comparison_report(compare(cards[0], cards[1])))
    if report is not None:
        typer.echo(f"\nreport written to {report}")


def _scenario(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as error:
        raise CliError(str(error), exit_code=2) from None


def _document(runs: list[DrillRun], cards: list[Scorecard]) -> dict[str, Any]:
    def one(run: DrillRun, card: Scorecard) -> dict[str, Any]:
        return {
            "run": run.model_dump(mode="json", exclude={"policy"}),
            "scorecard": card.model_dump(mode="json"),
        }

    document = one(runs[0], cards[0])
    if len(runs) > 1:
        document["compared_with"] = one(runs[1], cards[1])
        document["comparison"] = compare(cards[0], cards[1]).model_dump(mode="json")
    return document
