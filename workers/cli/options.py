"""What several commands share: the settings of this invocation, the incident argument, `--by`, and contract
validation whose errors name the option the user typed (never a field path of the model)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from config.settings import Settings
from workflows.messages.validation import validation_problems

ModelT = TypeVar("ModelT", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)

IncidentId = Annotated[
    str,
    typer.Argument(metavar="INCIDENT_ID", help="Incident key or full id (incident-...).", show_default=False),
]
By = Annotated[str | None, typer.Option(help="Who is doing this (default: $USER, else 'cli').")]
Note = Annotated[str | None, typer.Option(help="Optional note for the timeline.")]
Reason = Annotated[str, typer.Option(help="Why; recorded in the timeline.", show_default=False)]

# Contract fields whose option is not simply `--<field-with-dashes>`.
OPTION_OF_FIELD = {"incident_key": "--key", "declared_by": "--by", "text": "TEXT"}


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings), "set by the app's global options"
    return settings


def default_actor() -> str:
    return os.environ.get("USER") or "cli"


def validated(
    model: type[ModelT], fields: dict[str, Any], options: Mapping[str, str] | None = None
) -> ModelT:
    """Validate against the public contract before anything is sent: a usage error (exit 2) naming the option
    and the value beats a rejection in the incident's timeline. `options` maps field paths to option names."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise invalid_options(error, {**OPTION_OF_FIELD, **(options or {})}) from None


def invalid_options(error: ValidationError, options: Mapping[str, str]) -> typer.BadParameter:
    """One formatter for the project (validation_problems), each field shown as the option the user typed."""

    def option_of(path: str) -> str:  # `regions.0` is still the `--region` option
        field = path.partition(".")[0]
        return f"'{options.get(path) or options.get(field) or '--' + field.replace('_', '-')}'"

    return typer.BadParameter("; ".join(validation_problems(error, rename=option_of, show_input=True)))


def enum_value(enum: type[E], value: str | None, option: str, normalize: Callable[[str], str]) -> E | None:
    if value is None:
        return None
    try:
        return enum(normalize(value.strip()))
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise typer.BadParameter(f"{value!r} is not one of: {choices}", param_hint=f"'{option}'") from None
