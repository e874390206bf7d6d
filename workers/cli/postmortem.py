"""`warroom postmortem ...`: the group of post-mortem commands. `lint` checks a document's human-written
sections for blaming phrasing (workflows/blameless.py); `complete` (closing the review) comes from
`workers/cli/postmortem_review.py`, whose group this module extends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.cli.postmortem_review import postmortem_app

__all__ = ["postmortem_app"]


@postmortem_app.command("lint")
def lint_document(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The post-mortem Markdown file.")],
) -> None:
    """Flag blaming phrasing ("X failed to", "human error", "should have", ...) in the sections people write,
    with the line and a systems wording to use instead. Exit 1 when anything is found."""
    from workflows.blameless import lint

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        typer.echo(f"error: cannot read {file}: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None
    findings = lint(text)
    for finding in findings:
        typer.echo(f'{file}:{finding.line}: "{finding.phrase}": {finding.suggestion}')
    if findings:
        typer.echo(
            f"{len(findings)} blaming phrase(s) found; describe the system's conditions instead.", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"{file}: no blaming phrasing found")
