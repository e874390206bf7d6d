"""The what-if replays the workflow's duty loop: it must land on the instants the workflow tests prove.

Runs under tests/policy.yaml, like tests/workflow/test_escalation.py: checkout belongs to team payments
(level 1: olivia, tom, sam; level 2: erin, dora; level 3: vic, cleo, bree).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.policy_file import load_policy_file
from tests.policy.conftest import small_policy
from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.what_if import MAX_STEPS, WhatIf, WhatIfStep, format_step, simulate

POLICY = load_policy_file(Path(__file__).parents[1] / "policy.yaml")
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LEVEL_1, LEVEL_2, LEVEL_3 = ["olivia", "tom", "sam"], ["erin", "dora"], ["vic", "cleo", "bree"]


def minutes(step: WhatIfStep) -> float:
    return step.offset / timedelta(minutes=1)


def run(severity: Severity, hours: float = 10, **options: object) -> WhatIf:
    impact = options.pop("impact", Impact())
    assert isinstance(impact, Impact)
    return simulate(
        POLICY,
        severity=severity,
        impact=impact,
        service=str(options.pop("service", "checkout")),
        start=START,
        horizon=timedelta(hours=hours),
        **options,  # type: ignore[arg-type]
    )


def test_unacknowledged_sev2_follows_the_offsets_the_workflow_tests_prove() -> None:
    steps = run(Severity.SEV2).steps
    pages = [(minutes(s), s.level, s.people) for s in steps if s.kind == "page"]
    # Same as test_unacknowledged_sev2_walks_every_level_then_repeats_the_last_twice: 0, 30, 60, 90, 120;
    # the open escalation of level 2 at 60 never fires, level 2 being engaged at 30 already.
    assert pages == [(0, 1, LEVEL_1), (30, 2, LEVEL_2), (60, 3, LEVEL_3), (90, 3, LEVEL_3), (120, 3, LEVEL_3)]
    assert not any(s.description.startswith("engage level 2") for s in steps)
    nudges = [minutes(s) for s in steps if s.description == "status update due: nudge communications"]
    assert nudges == [60.0 * hour for hour in range(1, 11)]
    # The director was reached by level 2 within the hour: no separate management notice.
    assert not any("management notification" in s.description for s in steps)


def test_an_acknowledgement_stops_the_ack_chain_but_not_the_open_escalation() -> None:
    steps = run(Severity.SEV1, hours=6, ack_after=timedelta(minutes=10)).steps
    pages = [(minutes(s), s.description) for s in steps if s.kind in ("page", "ack")]
    assert pages == [
        (0, "page level 1 (on-call)"),
        (0, "engage level 3 (executive): SEV-1 engages it at once"),
        (10, "acknowledged"),
        (60, "engage level 2 (management): still open after 1h"),
    ]


def test_an_ack_at_the_instant_of_a_page_wins_like_in_the_workflow() -> None:
    steps = run(Severity.SEV2, hours=1, ack_after=timedelta(minutes=30)).steps
    assert [s.description for s in steps if s.kind == "page"] == [
        "page level 1 (on-call)",
        "engage level 2 (management): still open after 1h",
    ]


def test_the_team_and_roles_come_from_the_roster_at_the_start() -> None:
    what_if = run(Severity.SEV3, hours=0)
    assert what_if.team == "payments"
    assert what_if.roles == {
        "incident_commander": "ivan",
        "tech_lead": "tom",
        "communications": "cora",
        "business_liaison": "bree",
    }


def test_a_level_that_reaches_nobody_pages_the_fallback() -> None:
    policy = small_policy(escalation={"fallback_targets": ["dave"]})
    what_if = simulate(
        policy, severity=Severity.SEV3, impact=Impact(), service="unowned", start=START, horizon=timedelta(0)
    )
    [first] = what_if.steps
    assert (first.people, first.fallback) == (["dave"], True)
    assert format_step(first).endswith("-> dave (level reaches nobody: fallback)")


def test_a_data_breach_brings_the_regulatory_reminders_and_deadline() -> None:
    steps = run(Severity.SEV1, hours=72, impact=Impact(security_breach=True), ack_after=timedelta(0)).steps
    regulatory = [(s.offset / timedelta(hours=1), s.people) for s in steps if s.kind == "regulatory"]
    assert regulatory == [(24, ["lex", "ivan"]), (48, ["lex", "ivan"]), (72, ["lex", "ivan"])]


def test_a_step_prints_offset_wall_clock_description_and_people() -> None:
    step = next(s for s in run(Severity.SEV2).steps if s.level == 2)
    assert format_step(step) == (
        "+00:30:00  2026-11-27 09:30 UTC  page level 2 (management) if nobody acknowledges -> erin, dora"
    )


def test_a_very_long_horizon_stops_at_a_bounded_number_of_duties() -> None:
    what_if = run(Severity.SEV1, hours=24 * 365)
    assert what_if.truncated and len(what_if.steps) == MAX_STEPS
    assert not run(Severity.SEV1, hours=24).truncated


def test_a_sev4_left_open_over_the_weekend_never_wakes_management_or_the_executives() -> None:
    # Friday 17:00: the ack chain waits for Monday 09:00; no "still open" rule applies to SEV-4.
    friday = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    what_if = simulate(
        POLICY,
        severity=Severity.SEV4,
        impact=Impact(),
        service="checkout",
        start=friday,
        horizon=timedelta(hours=72),
    )
    pages = [(step.at, step.level) for step in what_if.steps if step.kind == "page"]
    assert pages == [(friday, 1), (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), 2)]


def test_sev2_engages_the_executives_after_four_hours_open_even_when_acknowledged() -> None:
    steps = run(Severity.SEV2, hours=5, ack_after=timedelta(minutes=5)).steps
    assert [(minutes(s), s.description) for s in steps if s.kind == "page"] == [
        (0, "page level 1 (on-call)"),
        (60, "engage level 2 (management): still open after 1h"),
        (240, "engage level 3 (executive): still open after 4h"),
    ]
