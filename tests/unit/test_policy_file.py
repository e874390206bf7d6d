from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from config.policy_file import DEFAULT_POLICY_FILE, PolicyError, load_policy_file, shared_policy
from workflows.messages.activities import LoadedPolicy
from workflows.messages.common import Severity
from workflows.policy import Policy

REPLAY = Path(__file__).parents[1] / "replay" / "histories"


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
        (
            "status_updates:\n  every: {SEV-2: 0s}\n",
            "status_updates.every.SEV-2: Value error, must be longer",
        ),
        ("status_updates:\n  escalate_after: -60\n", "status_updates.escalate_after: Value error, must be"),
        ("escalation:\n  max_snooze: 0s\n", "escalation.max_snooze: Value error, must be longer than 0s"),
        ("escalation:\n  page_retry: {every: 0s}\n", "escalation.page_retry.every: Value error, must be"),
        ("regulatory:\n  reminders: [24h, 0s]\n", "regulatory.reminders.1: Value error, must be longer"),
        ("detection_timeout: 0s\n", "detection_timeout: Value error, must be longer than 0s, got 0s"),
        ("routing:\n  delivery_budget: 0s\n", "routing.delivery_budget: Value error, must be longer than 0s"),
        (
            "escalation:\n  ack_deadline: {SEV-1: 0s, SEV-2: 1m, SEV-3: 1m, SEV-4: 1m}\n",
            "escalation.ack_deadline.SEV-1: Value error, expected a duration longer than 0s (15m, 2h) or "
            "next_business_day, got '0s'",
        ),
        (
            "escalation:\n  open_escalations: [{level: 2, after: {SEV-1: -PT1M}}]\n",
            "escalation.open_escalations.0.after.SEV-1: Value error, must be 0s (at once) or longer, got -1m",
        ),
        ("management:\n  SEV-1: {within: -PT1M, notify: [x]}\n", "management.SEV-1.within: Value error"),
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


def test_zero_is_at_once_where_it_means_something(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "escalation:\n  open_escalations: [{level: 3, after: {SEV-1: 0s}}]\n"
        "management:\n  SEV-1: {within: 0s, notify: [function:executives]}\n"
    )
    policy = load_policy_file(path)
    assert policy.escalation.open_escalations[0].after == {Severity.SEV1: timedelta(0)}
    assert policy.management[Severity.SEV1].within == timedelta(0)


def test_a_snapshot_pinned_before_per_severity_escalation_keeps_its_meaning_on_replay() -> None:
    """Running incidents replay with the policy in their history: the old single-duration form still reads,
    for every severity (SEV-4 included, as it did), and a bare Policy reads as a LoadedPolicy."""
    # The shape release 0.1 pinned (its stored histories were retired with the reshape; docs/versioning.md).
    pinned = json.dumps({"name": "old", "escalation": {"open_escalations": [
        {"level": 2, "after": "PT1H", "immediately_for": []},
        {"level": 3, "after": "PT4H", "immediately_for": ["SEV-1"]},
    ]}}, separators=(",", ":")).encode()  # fmt: skip
    assert b'"immediately_for":["SEV-1"]' in pinned
    loaded = LoadedPolicy.model_validate_json(pinned)
    assert loaded.warning is None
    level_3 = loaded.policy.escalation.open_escalations[1]
    assert level_3.after == {
        Severity.SEV1: timedelta(0),
        Severity.SEV2: timedelta(hours=4),
        Severity.SEV3: timedelta(hours=4),
        Severity.SEV4: timedelta(hours=4),
    }
    assert Policy.model_validate_json(pinned) == loaded.policy


def test_an_edit_reaches_the_next_read_although_unchanged_text_is_not_parsed_again(tmp_path: Path) -> None:
    """The parsed policy is kept by its text (parsing YAML was half of the first page's workflow task), so
    the cache must never hide an edit, nor share one caller's changes with the next."""
    path = tmp_path / "policy.yaml"
    path.write_text("escalation:\n  ack_deadline: {SEV-1: 90s, SEV-2: 15m, SEV-3: 2h, SEV-4: 1d}\n")
    first = load_policy_file(path)
    first.escalation.ack_deadline[Severity.SEV1] = timedelta(hours=9)  # a caller's own copy
    assert load_policy_file(path).escalation.ack_deadline[Severity.SEV1] == timedelta(seconds=90)
    path.write_text("escalation:\n  ack_deadline: {SEV-1: 60s, SEV-2: 15m, SEV-3: 2h, SEV-4: 1d}\n")
    assert load_policy_file(path).escalation.ack_deadline[Severity.SEV1] == timedelta(seconds=60)
    assert shared_policy(path) is shared_policy(path)  # the load_policy activity's read: no deep copy
    assert shared_policy(path).escalation.ack_deadline[Severity.SEV1] == timedelta(seconds=60)
    path.write_text("escalation: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy_file(path)
