"""The shipped scenarios, run for real: the intake, IncidentWorkflow (and its post-mortem review) on a time-skipping
server of their own, under the shipped config/policy.yaml. Each must finish within a minute, and its
scorecard must show the policy's timings to the second, the offsets tests/workflow/test_escalation.py proves.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
from tests.conftest import TIME_SKIPPING_RERUNS
from workers.drill.runner import run_drill
from workers.drill.scenario_file import load_scenario
from workers.drill.scoring import IncidentScore, Scorecard, score
from workflows.messages.common import Severity

EXAMPLES = Path(__file__).parents[2] / "examples" / "drills"
POLICY = load_policy_file(DEFAULT_POLICY_FILE)
ESCALATION = POLICY.escalation
# "Runs in under a minute", each of them. The Java test server's known hang (tests/conftest.py) is re-run as
# often as in the workflow tests (the black-friday cascade hits it most); an assertion failure never is.
pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.flaky(reruns=TIME_SKIPPING_RERUNS, only_rerun=["Timeout", "stalled"]),
]


async def drill(name: str) -> Scorecard:
    return score(await run_drill(load_scenario(EXAMPLES / name), DEFAULT_POLICY_FILE))


def fired(incident: IncidentScore) -> dict[str, timedelta]:
    return {escalation.duty: escalation.after_response for escalation in incident.escalations}


def misses(incident: IncidentScore) -> dict[str, timedelta | None]:
    return {check.rule: check.missed_by for check in incident.misses}


def open_after(level: int, severity: Severity) -> timedelta:
    return next(rule.after[severity] for rule in ESCALATION.open_escalations if rule.level == level)


async def test_quiet_night_sev3_walks_the_levels_on_the_policys_seconds_and_wakes_everyone() -> None:
    card = await drill("quiet-night-sev3.yaml")
    [incident] = card.incidents
    deadline = ESCALATION.ack_deadline[Severity.SEV3]
    assert incident.severity is Severity.SEV3 and incident.mtta is None
    assert fired(incident) == {
        "ack/1": timedelta(0),
        "open/2": open_after(2, Severity.SEV3),  # 1h: before the ack chain's level 2 (2h), which then is moot
        "ack/3": 2 * deadline,
        "ack/3/repeat-1": 3 * deadline,
        "ack/3/repeat-2": 4 * deadline,
    }
    assert all(e.after_response == e.expected for e in incident.escalations)
    assert misses(incident) == {"escalation.ack_deadline SEV-3 (2h)": None}  # never acknowledged
    # 03:10 on a Tuesday: level 1 (2), level 2 (2), level 3 (3) are woken; the re-pages at 09:10, 11:10 are not.
    assert incident.wake_ups == 7


async def test_black_friday_cascade_is_one_sev1_joined_from_four_senders() -> None:
    card = await drill("black-friday-cascade.yaml")
    [incident] = card.incidents  # Alertmanager, Datadog, PagerDuty and CloudWatch: one incident
    assert incident.severity is Severity.SEV1 and incident.service == "inventory-db"
    assert fired(incident) == {"ack/1": timedelta(0), "open/3": timedelta(0), "open/2": timedelta(hours=1)}
    assert incident.mtta == timedelta(minutes=6)  # erin, 6 min after her page: inside the 15 min deadline
    assert incident.mttr == timedelta(minutes=110)
    assert misses(incident) == {
        "status_updates.every SEV-1 (30m)": timedelta(minutes=15)
    }  # due 80m, posted 95m
    notices = {check.rule: check.detail for check in incident.checks if check.rule.startswith("business")}
    assert "sent at +0:30:0" in notices["business 'customer support' within 30m"]
    assert incident.warnings == ["level 1 resolves to nobody; paging erin"]  # inventory-db has no team
    review = next(check for check in incident.checks if check.rule.startswith("analysis.review.due_within"))
    assert review.ok and "completed by judy at +26:00:00" in review.detail  # due 48h after resolution
    assert "3 action item(s) started" in review.detail
    assert incident.wake_ups == 0  # Friday afternoon


async def test_prime_day_spike_is_upgraded_by_the_second_alert_and_resolved_by_the_alerts() -> None:
    card = await drill("prime-day-capacity-spike.yaml")
    [incident] = card.incidents
    assert incident.severity is Severity.SEV2  # CloudWatch alone: SEV-3; Datadog's impact makes it SEV-2
    assert incident.mtta == timedelta(minutes=12)
    assert incident.mttr == timedelta(minutes=155)  # the last alert recovered at 155m
    manual = next(escalation for escalation in incident.escalations if escalation.duty == "manual/2")
    assert manual.at == timedelta(minutes=20)  # at once when alice asked, on the drill's clock
    assert misses(incident) == {
        "status_updates.every SEV-2 (1h)": timedelta(minutes=30)
    }  # due 100m, posted 130m
    assert incident.wake_ups == 5  # 07:00-07:20 on a Tuesday: alice, carol, dave, then erin and frank


async def test_data_breach_keeps_the_72h_clock_after_resolution() -> None:
    card = await drill("data-breach-72h.yaml")
    [incident] = card.incidents
    checks = {check.rule: check for check in incident.checks}
    regulatory = next(check for rule, check in checks.items() if rule.startswith("regulatory.deadline"))
    assert regulatory.ok and "recorded by sybil at +30:00:00" in regulatory.detail
    assert "1 reminder(s) sent" in regulatory.detail  # at 24h; the 48h reminder was no longer due
    compliance = checks["business 'compliance, legal and DPO' within 2h"]
    assert compliance.ok
    assert incident.mtta == timedelta(minutes=4) and incident.mttr == timedelta(hours=3)
    review = next(check for rule, check in checks.items() if rule.startswith("analysis.review"))
    assert review.rule == "analysis.review.due_within (due +51:00:00)"  # resolved at 3h, due 48h later
    assert "completed by ivan at +50:00:00" in review.detail
    assert incident.misses == []
