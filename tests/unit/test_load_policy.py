"""load_policy when the file breaks after the worker started: the start-up policy, a warning, a log line and a
metric, instead of a read retried forever while every new incident waits.

The activity runs in temporalio's ActivityEnvironment (no server needed); its metric meter is a real SDK
runtime's, recording into a MetricBuffer, so the counter is the one a Prometheus scrape would show.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.policy import FALLBACK_METRIC, PolicyActivities
from config.policy_file import PolicyError
from config.settings import Settings
from workflows.messages.activities import LoadedPolicy, LoadPeopleRequest, LoadPolicyRequest

REQUEST = LoadPolicyRequest(incident_id="incident-checkout")


def fallbacks_counted(buffer: MetricBuffer) -> int:
    return sum(
        int(update.value) for update in buffer.retrieve_updates() if update.metric.name == FALLBACK_METRIC
    )


@pytest.fixture
def metrics() -> tuple[MetricBuffer, ActivityEnvironment]:
    buffer = MetricBuffer(1000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    env = ActivityEnvironment()
    env.metric_meter = runtime.metric_meter
    return buffer, env


async def test_a_good_file_is_read_afresh_for_each_incident_without_a_warning(
    tmp_path: Path, metrics: tuple[MetricBuffer, ActivityEnvironment]
) -> None:
    buffer, env = metrics
    path = tmp_path / "policy.yaml"
    path.write_text("name: at-start\n")
    activities = PolicyActivities(Settings(policy_file=path))
    path.write_text("name: edited\n")
    loaded = await env.run(activities.load_policy, REQUEST)
    assert isinstance(loaded, LoadedPolicy)
    assert (loaded.policy.name, loaded.warning) == ("edited", None)
    assert fallbacks_counted(buffer) == 0


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            "status_updates:\n  every: {SEV-1: 0s}\n",
            "status_updates.every.SEV-1: Value error, must be longer",
        ),
        ("escalation: [unclosed\n", "not valid YAML"),
        (None, "cannot read policy file"),
    ],
)
async def test_a_file_broken_after_start_falls_back_to_the_start_up_policy_and_says_so(
    tmp_path: Path,
    metrics: tuple[MetricBuffer, ActivityEnvironment],
    caplog: pytest.LogCaptureFixture,
    broken: str | None,
    problem: str,
) -> None:
    buffer, env = metrics
    path = tmp_path / "policy.yaml"
    path.write_text("name: at-start\n")
    activities = PolicyActivities(Settings(policy_file=path))
    if broken is None:
        path.unlink()
    else:
        path.write_text(broken)
    with caplog.at_level(logging.WARNING):
        loaded = await env.run(activities.load_policy, REQUEST)
    assert loaded.policy.name == "at-start"
    assert loaded.warning is not None
    assert str(path) in loaded.warning and problem in loaded.warning
    assert loaded.warning.endswith("using the policy 'at-start' this worker validated at start instead")
    [record] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "incident-checkout" in record.getMessage() and problem in record.getMessage()
    assert fallbacks_counted(buffer) == 1


def test_a_worker_does_not_start_on_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("detection_timeout: 0s\n")
    with pytest.raises(PolicyError, match="detection_timeout: Value error, must be longer than 0s"):
        PolicyActivities(Settings(policy_file=path))


async def test_load_people_answers_only_a_digest_while_the_people_are_unchanged(
    tmp_path: Path, metrics: tuple[MetricBuffer, ActivityEnvironment]
) -> None:
    """An action item asks before each reminder: most answers say "unchanged" in a digest, not a roster."""
    _, env = metrics
    path = tmp_path / "policy.yaml"
    path.write_text("roster:\n  people:\n    tom: {manager: erin}\n")
    activities = PolicyActivities(Settings(policy_file=path))
    first = await env.run(activities.load_people, LoadPeopleRequest(item_id="item-1"))
    assert first.people is not None and first.people.roster.people["tom"].manager == "erin"
    same = await env.run(activities.load_people, LoadPeopleRequest(item_id="item-1", known=first.digest))
    assert (same.digest, same.people) == (first.digest, None)

    path.write_text("name: renamed\nroster:\n  people:\n    tom: {manager: erin}\n")  # not about people
    renamed = await env.run(activities.load_people, LoadPeopleRequest(item_id="item-1", known=first.digest))
    assert (renamed.digest, renamed.people) == (first.digest, None)

    path.write_text("roster:\n  people:\n    tom: {manager: dora}\n")
    moved = await env.run(activities.load_people, LoadPeopleRequest(item_id="item-1", known=first.digest))
    assert moved.digest != first.digest and moved.people is not None
    assert moved.people.roster.people["tom"].manager == "dora"

    path.write_text(
        "escalation: [unclosed\n"
    )  # broken: the item keeps what it holds, not the start-up people
    broken = await env.run(activities.load_people, LoadPeopleRequest(item_id="item-1", known=moved.digest))
    assert (broken.digest, broken.people) == (moved.digest, None)
