"""Approvals in a drill, for real: the shipped policy's `shop` runbook proposes its actions when the response
starts; a responder approves one when asked, a scripted step is refused by the workflow's approval rules, and
the containment adapter is a stand-in that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.policy_file import DEFAULT_POLICY_FILE
from tests.conftest import TIME_SKIPPING_RERUNS
from workers.drill.runner import run_drill
from workers.drill.scenario_file import parse_scenario
from workers.drill.scoring import score

SCENARIO = """\
name: shop approvals
start: {day: wed, at: "10:00"}
until: 3h
alerts:
  - {at: 0s, format: generic, body: {dedup_key: shop-5xx, service: shop, summary: shop 5xx in EU,
                                     impact: {users_affected: 20000}}}
responders:
  ivan:
    acknowledges_after: 3m
    decides:
      - {action: drain_eu, decision: approve, after: 4m, reason: "EU can move to US"}
script:
  - {at: 10m, do: propose_action, by: ivan, action: disable_recommendations, reason: "cut load"}
  - {at: 14m, do: approve_action, by: erin, action: disable_recommendations}
  - {at: 90m, do: resolve, by: ivan}
"""


@pytest.mark.timeout(60)
# The test server's hang (tests/conftest.py) is re-run; an assertion failure never is.
@pytest.mark.flaky(reruns=TIME_SKIPPING_RERUNS, only_rerun=["Timeout", "stalled"])
async def test_a_responder_approves_when_asked_and_the_action_runs_on_a_stand_in() -> None:
    run = await run_drill(parse_scenario(SCENARIO), DEFAULT_POLICY_FILE)
    [incident] = run.incidents
    actions = {action.name: action for action in incident.status.actions}
    drain = actions["drain_eu"]
    assert [(a.by, a.decision) for a in drain.approvals] == [("ivan", "approved")]
    assert round((drain.approvals[0].at - drain.requested_at).total_seconds()) == 240
    assert drain.result is not None and "drill: haproxy drain recorded, nothing was changed" in drain.result
    [card] = score(run).incidents
    checks = {check.rule: check for check in card.checks}
    assert checks["approval of 'drain_eu' (approval)"].detail.endswith("approved by ivan after 4m")
    assert "approval of 'snapshot' (automatic)" not in checks  # automatic: nothing to wait for
    assert not checks["approval of 'disable_recommendations' (approval)"].ok  # erin may not decide it
    assert any("erin's command was rejected: approve_action" in warning for warning in card.warnings)
    # Resolved once phased recovery put the drained traffic back: four steps, each an activity that takes
    # real milliseconds (more on a loaded machine) while the server's clock runs in real time.
    assert card.mttr is not None and timedelta(minutes=90) <= card.mttr < timedelta(minutes=90, seconds=5)
