from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from config.policy_file import DEFAULT_POLICY_FILE, PolicyError, load_policy_file
from workflows.messages.common import Severity
from workflows.policy import Policy


def test_durations_accept_human_units(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("escalation:\n  ack_deadline: {SEV-1: 90s, SEV-2: 15m, SEV-3: 2h, SEV-4: 1d}\n")
    deadlines = load_policy_file(path).escalation.ack_deadline
    assert deadlines[Severity.SEV1] == timedelta(seconds=90)
    assert deadlines[Severity.SEV4] == timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("escalation:\n  ack_deadline: {SEV-1: 5m}\n", "ack_deadline has no entry for SEV-2, SEV-3, SEV-4"),
        ("escalation:\n  levels: []\n", "escalation.levels: List should have at least 1 item"),
        ("page_chanel: slack\n", "page_chanel: Extra inputs are not permitted"),
        ("severity:\n  default_severity: SEV-7\n", "severity.default_severity"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("escalation: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_name_the_file_and_the_path_inside_it(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as error:
        load_policy_file(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy_file(tmp_path / "nope.yaml")


def test_the_shipped_policy_states_exactly_the_built_in_timings() -> None:
    shipped = load_policy_file(DEFAULT_POLICY_FILE)
    defaults = Policy()
    assert shipped.name == "example"
    for section in (
        "severity",
        "escalation",
        "management",
        "business",
        "regulatory",
        "status_updates",
        "roles",
    ):
        # fallback_targets names people of the example roster (the built-in "on-call" is nobody in it).
        exclude = {"escalation": {"fallback_targets"}} if section == "escalation" else None
        include = {section}
        assert shipped.model_dump(include=include, exclude=exclude) == defaults.model_dump(
            include=include, exclude=exclude
        ), section
    assert shipped.escalation.fallback_targets == ["erin"]
    assert shipped.roster.team_of("checkout") == "payments"
