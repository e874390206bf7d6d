"""How the intake process sets up Slack approvals: the roster from the worker's policy file (re-read when it
changes, last good one kept when it breaks, a shared Slack id names nobody) and the signing secret from the
environment or the secrets file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings
from tests.conftest import TEST_POLICY, write_policy
from workers.intake_process import IntakeConfigError, intake_config_from_env, slack_people
from workers.slack_people import RosterSlackPeople


def policy_with(people: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(TEST_POLICY.read_text())
    document["roster"]["people"] |= people
    return document


def touch_later(path: Path) -> None:
    """A new modification time even on file systems with coarse timestamps."""
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))


def test_the_roster_maps_slack_member_ids_and_follows_the_file(tmp_path: Path) -> None:
    path = write_policy(tmp_path / "policy.yaml", policy_with({"tom": {"slack_user_id": "U0TOM"}}))
    people = RosterSlackPeople(path)
    assert people.person_for("U0TOM") == "tom" and people.person_for("U0SAM") is None

    write_policy(path, policy_with({"sam": {"slack_user_id": "U0SAM"}}))
    touch_later(path)
    assert people.person_for("U0SAM") == "sam" and people.person_for("U0TOM") is None

    path.write_text("roster: [not, a, mapping", encoding="utf-8")  # broken later: the last good roster stays
    touch_later(path)
    assert people.person_for("U0SAM") == "sam"


def test_a_slack_id_two_people_share_names_nobody(tmp_path: Path) -> None:
    shared = {"tom": {"slack_user_id": "U0SHARED"}, "sam": {"slack_user_id": "U0SHARED"}}
    people = RosterSlackPeople(write_policy(tmp_path / "policy.yaml", policy_with(shared)))

    assert people.person_for("U0SHARED") is None


def test_the_signing_secret_comes_from_the_environment_or_the_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in list(os.environ):
        if variable.startswith("WARROOM_"):
            monkeypatch.delenv(variable)
    assert intake_config_from_env().slack_signing_secret is None
    settings = Settings(data_dir=tmp_path, policy_file=TEST_POLICY)
    assert slack_people(settings, intake_config_from_env()) is None  # not set up: the route refuses all

    secrets = tmp_path / "secrets.env"
    secrets.write_text("WARROOM_INTAKE_SLACK_SIGNING_SECRET=from-the-file-1234\n", encoding="utf-8")
    monkeypatch.setenv("WARROOM_SECRETS_FILE", str(secrets))
    from_file = intake_config_from_env().slack_signing_secret
    assert from_file is not None and from_file.get_secret_value() == "from-the-file-1234"
    assert "from-the-file" not in repr(intake_config_from_env())
    assert slack_people(settings, intake_config_from_env()) is not None

    monkeypatch.setenv("WARROOM_INTAKE_SLACK_SIGNING_SECRET", "from-the-env-5678")
    from_env = intake_config_from_env().slack_signing_secret
    assert from_env is not None and from_env.get_secret_value() == "from-the-env-5678"


def test_slack_approvals_with_an_unreadable_policy_stop_the_intake_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_INTAKE_SLACK_SIGNING_SECRET", "secret-1234")
    settings = Settings(data_dir=tmp_path, policy_file=tmp_path / "missing.yaml")

    with pytest.raises(IntakeConfigError, match=r"Slack approvals need the roster: .*missing\.yaml"):
        slack_people(settings, intake_config_from_env())
