"""The impact options (--users, --region, --security-breach, ...) as one object, for every command that takes
an impact (`declare`, `policy explain`): written once, shown in one "Impact" help panel, built into the
contract's `Impact` with a bad value reported under the option's name.

typer has no option groups, so `with_impact_options` adds the fields of `ImpactOptions` to a command's
signature as ordinary options and hands the command one validated `impact: Impact` instead.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Annotated, Any, TypeVar, get_type_hints

import typer
from pydantic import ValidationError

from workers.cli.options import invalid_options
from workflows.messages.alerts import Impact

R = TypeVar("R")
PANEL = "Impact (omit --severity and the severity matrix decides from these)"

# Option name -> Impact field, where they differ; and the reverse, to name options in validation errors.
FIELD_OF_OPTION = {"users": "users_affected", "region": "regions"}
OPTION_OF_FIELD = {
    FIELD_OF_OPTION.get(name, name): f"--{name.replace('_', '-')}"
    for name in ("users", "user_scope", "revenue_per_hour", "region", "function")
}


@dataclass(frozen=True)
class ImpactOptions:
    """The impact as typed on the command line. Unset options stay unknown (None), never zero."""

    users: Annotated[int | None, typer.Option(help="Users affected.", rich_help_panel=PANEL)] = None
    user_scope: Annotated[
        str | None,
        typer.Option(help="Who: all, major_segment, minor_segment or individual.", rich_help_panel=PANEL),
    ] = None
    revenue_per_hour: Annotated[
        float | None, typer.Option(help="US dollars at risk per hour.", rich_help_panel=PANEL)
    ] = None
    region: Annotated[
        list[str] | None, typer.Option(help="An affected region (repeatable).", rich_help_panel=PANEL)
    ] = None
    function: Annotated[
        str | None, typer.Option(help="The affected function: core or secondary.", rich_help_panel=PANEL)
    ] = None
    security_breach: Annotated[
        bool, typer.Option("--security-breach", help="Customer data exposed.", rich_help_panel=PANEL)
    ] = False
    data_corruption: Annotated[
        bool, typer.Option("--data-corruption", help="Customer data corrupted.", rich_help_panel=PANEL)
    ] = False
    regulatory: Annotated[
        bool, typer.Option("--regulatory", help="A regulatory violation.", rich_help_panel=PANEL)
    ] = False

    def impact(self) -> Impact:
        """The contract's Impact; a bad value is a usage error (exit 2) naming the option and the value."""
        values = {FIELD_OF_OPTION.get(name, name): value for name, value in asdict(self).items()}
        try:
            return Impact.model_validate({name: value for name, value in values.items() if value is not None})
        except ValidationError as error:
            raise invalid_options(error, OPTION_OF_FIELD) from None


def _option_parameters() -> list[inspect.Parameter]:
    hints = get_type_hints(ImpactOptions, include_extras=True)
    return [
        inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=hints[field.name]
        )
        for field in fields(ImpactOptions)
    ]


def with_impact_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give a typer command the impact options; it receives `impact: Impact` (validated) in their place."""
    signature = inspect.signature(command, eval_str=True)
    if "impact" not in signature.parameters:
        raise TypeError(f"{command.__name__} must take an `impact: Impact` parameter")
    options = _option_parameters()
    clashes = {option.name for option in options} & set(signature.parameters)
    if clashes:
        raise TypeError(f"{command.__name__} already has parameters named {sorted(clashes)}")
    kept = [parameter for name, parameter in signature.parameters.items() if name != "impact"]

    @functools.wraps(command)
    def with_impact(*args: Any, **kwargs: Any) -> R:
        typed = ImpactOptions(**{option.name: kwargs.pop(option.name) for option in options})
        return command(*args, impact=typed.impact(), **kwargs)

    with_impact.__signature__ = signature.replace(parameters=[*kept, *options])  # type: ignore[attr-defined]
    with_impact.__annotations__ = {parameter.name: parameter.annotation for parameter in [*kept, *options]}
    return with_impact
