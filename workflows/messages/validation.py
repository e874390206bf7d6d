"""How a contract violation is told to a human: one formatter for the workflow, the CLI, config and intake.

pydantic's own message is long and names internal types; a person needs the field's path, what was wrong
and (where the caller knows it) the name they typed, e.g. `--users` instead of `impact.users_affected`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import ValidationError

PROBLEMS_SHOWN = 5


def field_path(location: tuple[int | str, ...]) -> str:
    """`impact.users_affected`, `levels.0.targets`; the empty path is the whole payload."""
    return ".".join(str(part) for part in location) or "payload"


def validation_problems(
    error: ValidationError,
    rename: Mapping[str, str] | Callable[[str], str] | None = None,
    limit: int | None = PROBLEMS_SHOWN,
    show_input: bool = False,
) -> list[str]:
    """One line per problem, `<field>: <message>`, fields renamed to what the human typed where known."""
    problems = []
    for item in error.errors()[:limit]:
        path = field_path(item["loc"])
        if callable(rename):
            path = rename(path)
        elif rename is not None:
            path = rename.get(path, path)
        got = f" (got {item['input']!r})" if show_input and "input" in item else ""
        problems.append(f"{path}: {item['msg']}{got}")
    return problems


def describe_validation_error(
    error: ValidationError,
    rename: Mapping[str, str] | Callable[[str], str] | None = None,
    limit: int | None = PROBLEMS_SHOWN,
) -> str:
    """All problems on one line, for a timeline event, a log line or an HTTP error body."""
    return "; ".join(validation_problems(error, rename, limit))
