"""The impact options object, without a server: one set of options builds one validated `Impact`."""

from __future__ import annotations

from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from workers.cli.impact import ImpactOptions, with_impact_options
from workflows.messages.alerts import Impact


def app_recording(received: list[Impact]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @with_impact_options
    def declare(service: Annotated[str, typer.Option()], impact: Impact) -> None:
        received.append(impact)

    return app


def test_every_impact_option_lands_in_its_field() -> None:
    received: list[Impact] = []
    result = CliRunner().invoke(app_recording(received), [
        "--service", "checkout", "--users", "50000", "--user-scope", "major_segment",
        "--revenue-per-hour", "250000", "--region", "eu-west-1", "--region", "us-east-1",
        "--function", "core", "--security-breach", "--data-corruption", "--regulatory",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = Impact(
        users_affected=50000, user_scope="major_segment", revenue_per_hour=250000,
        regions=["eu-west-1", "us-east-1"], function="core",
        security_breach=True, data_corruption=True, regulatory=True,
    )  # fmt: skip
    assert received == [expected]


def test_no_impact_option_leaves_the_impact_unknown() -> None:
    received: list[Impact] = []
    result = CliRunner().invoke(app_recording(received), ["--service", "checkout"])
    assert result.exit_code == 0, result.output
    assert received == [Impact()]


def test_bad_values_are_a_usage_error_naming_each_option_and_value() -> None:
    received: list[Impact] = []
    result = CliRunner().invoke(
        app_recording(received), ["--service", "x", "--users", "-5", "--function", "tertiary"]
    )
    assert result.exit_code == 2
    message = " ".join(result.output.replace("│", " ").split())  # the error box wraps lines
    assert "'--users': Input should be greater than or equal to 0 (got -5)" in message
    assert "'--function': Input should be 'core' or 'secondary' (got 'tertiary')" in message
    assert received == []  # the command never ran


def test_a_command_whose_option_clashes_with_an_impact_option_is_refused_at_definition() -> None:
    def declare(users: str, impact: Impact) -> None: ...

    with pytest.raises(TypeError, match="users"):
        with_impact_options(declare)


def test_a_problem_inside_a_list_is_reported_under_the_option_that_fills_the_list() -> None:
    with pytest.raises(typer.BadParameter) as refused:
        ImpactOptions(region=["eu-west-1", 7]).impact()  # type: ignore[list-item]  # typer would pass str
    assert "'--region': Input should be a valid string (got 7)" in refused.value.message
