"""Each lint check proven on a small policy that has exactly that mistake (and the base that has none)."""

from __future__ import annotations

from config.policy_lint import Finding, lint
from config.rotation_coverage import rotation_gaps
from tests.policy.conftest import BASE, small_policy, with_roster
from workflows.messages.common import Severity
from workflows.policy import Policy
from workflows.roster import Rotation

# Fewer levels than the defaults: rules that name levels 2 and 3 go too.
TWO_LEVELS = {"open_escalations": [], "cross_team_level": None, "fallback_targets": ["carol"]}


def errors(policy: Policy) -> list[Finding]:
    return [finding for finding in lint(policy) if finding.severity == "error"]


def at(findings: list[Finding], path: str) -> list[str]:
    return [finding.message for finding in findings if finding.path == path]


def test_the_small_base_policy_has_no_errors() -> None:
    assert errors(small_policy()) == []


def test_a_level_that_reaches_nobody_for_a_team_is_an_error() -> None:
    teams = {**BASE["roster"]["teams"], "search": {"services": ["search"], "oncall": ["dave"]}}
    policy = small_policy(roster=with_roster(teams=teams))
    [message] = at(errors(policy), "escalation.levels[1].targets")
    assert message.startswith("level 2 (management) resolves to nobody for team search")


def test_a_level_with_no_team_warns_only_when_the_fallback_cannot_page_anyone() -> None:
    covered = small_policy()
    assert at(lint(covered), "escalation.levels[0].targets") == []
    uncovered = small_policy(escalation={"fallback_targets": ["function:executives"]})
    [message] = at(lint(uncovered), "escalation.levels[0].targets")
    assert "for a service no team owns" in message


def test_a_level_is_empty_during_a_rotation_gap() -> None:
    rotations = {
        **BASE["roster"]["rotations"],
        "payments-primary": {"shifts": [{"person": "alice", "end": "12:00"}]},
    }
    levels = [{"name": "on-call", "targets": ["team:oncall"]}, {"name": "boss", "targets": ["carol"]}]
    policy = small_policy(
        roster=with_roster(rotations=rotations),
        escalation={**TWO_LEVELS, "levels": levels},
    )
    [message] = at(errors(policy), "escalation.levels[0].targets")
    assert "for team payments (e.g. mon 12:00 UTC)" in message


def test_references_to_things_that_do_not_exist_are_errors() -> None:
    targets = ["rotation:nope", "team:cto", "function:nobody", "role:boss", "zed", "pager:x"]
    policy = small_policy(escalation={**TWO_LEVELS, "levels": [{"name": "on-call", "targets": targets}]})
    messages = at(errors(policy), "escalation.levels[0].targets")
    assert messages[:6] == [
        "no rotation 'nope'",
        "'cto' is not a team field",
        "no function 'nobody'",
        "'boss' is not an incident role",
        "'zed' is not a person in roster.people",
        "'pager:x' has an unknown kind 'pager'",
    ]


def test_rotation_gaps_are_reported_per_day_in_utc() -> None:
    weekdays_until_noon = Rotation.model_validate(
        {"shifts": [{"person": "a", "days": ["mon", "tue", "wed", "thu", "fri"], "end": "12:00"}]}
    )
    assert rotation_gaps(weekdays_until_noon)[:2] == ["mon 12:00-24:00", "tue 12:00-24:00"]
    assert rotation_gaps(weekdays_until_noon)[-2:] == ["sat 00:00-24:00", "sun 00:00-24:00"]
    overlapping = Rotation.model_validate(
        {"shifts": [{"person": "a", "end": "13:00"}, {"person": "b", "start": "12:00"}]}
    )
    assert rotation_gaps(overlapping) == []


def test_a_rotation_with_a_gap_is_an_error() -> None:
    rotations = {
        **BASE["roster"]["rotations"],
        "communications": {"shifts": [{"person": "bob", "start": "08:00"}]},
    }
    policy = small_policy(roster=with_roster(rotations=rotations))
    [message] = at(errors(policy), "roster.rotations.communications.shifts")
    assert message.startswith("nobody on call mon 00:00-08:00, tue 00:00-08:00")


def test_a_service_owned_by_two_teams_is_an_error() -> None:
    teams = {
        **BASE["roster"]["teams"],
        "platform": {**BASE["roster"]["teams"]["payments"], "services": ["checkout"]},
    }
    policy = small_policy(roster=with_roster(teams=teams))
    [message] = at(errors(policy), "roster.teams.platform.services")
    assert "owned by payments and platform" in message


def test_an_ack_step_that_another_rule_always_beats_is_a_warning() -> None:
    policy = small_policy(
        escalation={
            "open_escalations": [{"level": 2, "after": {"SEV-2": "10m"}}],
            "fallback_targets": ["carol"],
        }
    )
    messages = at(lint(policy), "escalation.levels[1]")
    assert any(
        m.startswith("for SEV-2 the ack-chain page of level 2 (management) at 30m never fires")
        for m in messages
    )
    # A tie is not unreachable: the ack chain is ordered first, so SEV-3's level 3 at 4h still fires.
    assert not any("SEV-3" in m for m in at(lint(small_policy()), "escalation.levels[2]"))


def test_an_open_escalation_of_level_1_never_fires() -> None:
    policy = small_policy(
        escalation={
            "open_escalations": [{"level": 1, "after": {"SEV-3": "1h"}}],
            "fallback_targets": ["carol"],
        }
    )
    assert at(lint(policy), "escalation.open_escalations[0]") == [
        "level 1 is paged at once by the ack chain, so this rule never fires"
    ]


def test_an_open_escalation_that_names_no_severity_never_fires() -> None:
    policy = small_policy(
        escalation={"open_escalations": [{"level": 3, "after": {}}], "fallback_targets": ["carol"]}
    )
    assert at(lint(policy), "escalation.open_escalations[0].after") == [
        "names no severity, so level 3 is never engaged by this rule"
    ]


def test_rules_naming_levels_that_do_not_exist_are_errors() -> None:
    policy = small_policy(
        management={"SEV-2": {"within": "1h", "notify": ["carol"], "satisfied_by_level": 5}}
    )
    assert at(errors(policy), "management.SEV-2.satisfied_by_level") == [
        "level 5 does not exist (levels 1..3)"
    ]
    # The schema refuses these two; a policy built in code can still carry them.
    escalation = policy.escalation.model_copy(update={"cross_team_level": 4})
    assert at(errors(policy.model_copy(update={"escalation": escalation})), "escalation.cross_team_level")


def test_a_severity_without_an_ack_deadline_is_an_error() -> None:
    policy = small_policy()
    deadlines = {s: d for s, d in policy.escalation.ack_deadline.items() if s is not Severity.SEV3}
    escalation = policy.escalation.model_copy(update={"ack_deadline": deadlines})
    broken = policy.model_copy(update={"escalation": escalation})
    assert at(errors(broken), "escalation.ack_deadline") == [
        "SEV-3 has no ack deadline, so its ack chain never escalates"
    ]


def test_missing_cadence_and_management_notice_are_warnings_except_for_sev4() -> None:
    policy = small_policy(
        status_updates={"every": {"SEV-1": "30m"}},
        management={"SEV-1": {"within": "30m", "notify": ["dave"]}},
    )
    findings = lint(policy)
    assert [f.message for f in findings if f.path == "status_updates.every"] == [
        "SEV-2 has no status-update cadence; nobody is nudged to post updates",
        "SEV-3 has no status-update cadence; nobody is nudged to post updates",
    ]
    assert [f.message for f in findings if f.path == "management"] == [
        "SEV-2 has no management notice",
        "SEV-3 has no management notice",
    ]
    assert all(f.severity == "warning" for f in findings if f.path in ("status_updates.every", "management"))


def test_a_required_role_without_a_default_is_an_error() -> None:
    policy = small_policy(roles={"defaults": {"tech_lead": ["team:tech_lead"]}})
    assert "SEV-1 requires incident_commander but roles.defaults has no entry for it" in at(
        errors(policy), "roles.required.SEV-1"
    )


def test_a_required_role_whose_defaults_reach_nobody_is_an_error() -> None:
    policy = small_policy(roles={"defaults": {"incident_commander": ["function:empty"]}})
    roster = policy.roster.model_copy(update={"functions": {**policy.roster.functions, "empty": []}})
    policy = policy.model_copy(update={"roster": roster})
    # Empty for every team and without one: reported once, as an error.
    [message] = at(lint(policy), "roles.defaults.incident_commander")
    assert message.startswith("required role incident_commander resolves to nobody for any incident")


def test_business_and_regulatory_audiences_that_reach_nobody_are_errors() -> None:
    functions = {**BASE["roster"]["functions"], "customer_support": []}
    policy = small_policy(
        roster=with_roster(functions=functions),
        regulatory={"notify": ["role:business_liaison"]},
        roles={"defaults": {"incident_commander": ["carol"]}},
    )
    found = errors(policy)
    assert at(found, "business[0].notify")[0].startswith(
        "business escalation 'customer support' resolves to nobody"
    )
    assert at(found, "regulatory.notify")[0].startswith("regulatory notification resolves to nobody")


def test_fallback_targets_must_be_people_because_they_are_paged_as_written() -> None:
    policy = small_policy(escalation={"fallback_targets": ["on-call", "function:executives"]})
    assert at(errors(policy), "escalation.fallback_targets") == [
        "'on-call' is not a person in roster.people, so the last-resort page reaches nobody",
        "'function:executives' is a reference, but fallback targets are paged as written",
    ]


def test_an_approver_who_names_nobody_and_an_adapter_the_worker_lacks_are_errors() -> None:
    runbook = {
        "name": "checkout",
        "services": ["checkout"],
        "actions": [
            {
                "name": "drain",
                "adapter": "haproxy",
                "operation": "drain",
                "approvers": ["role:captain", "zed"],
            },
            {"name": "snapshot", "adapter": "kubernetes", "operation": "snapshot"},
        ],
    }
    policy = small_policy(containment={"runbooks": [runbook], "adapters": ["haproxy", "shop"]})
    found = errors(policy)
    assert at(found, "containment.runbooks[0].actions[0].approvers") == [
        "'captain' is not an incident role", "'zed' is not a person in roster.people"
    ]  # fmt: skip
    assert at(found, "containment.runbooks[0].actions[1].adapter") == [
        "no adapter 'kubernetes' (containment.adapters: haproxy, shop)"
    ]


def test_a_slack_id_two_people_share_is_an_error() -> None:
    people = {
        **BASE["roster"]["people"],
        "alice": {"slack_user_id": "U0SAME"},
        "bob": {"slack_user_id": "U0SAME"},
    }
    policy = small_policy(roster=with_roster(people=people))

    [message] = at(errors(policy), "roster.people.bob.slack_user_id")
    assert message.startswith("Slack id U0SAME belongs to alice and bob")
