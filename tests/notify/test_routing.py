"""Routing is pure: which channels, in which fallback order, for whom."""

from __future__ import annotations

from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
from workflows.messages.common import Severity
from workflows.messages.notifications import NotificationKind
from workflows.roster import Person, Roster, Team
from workflows.routing import Routing, RoutingRule, channel_chain, plan_routes

ROSTER = Roster(
    people={
        "alice": Person(email="alice@example.com", slack_user_id="U1", channels=["slack-dm", "email"]),
        "bob": Person(email="bob@example.com", channels=["email"]),
    },
    teams={"payments": Team(services=["checkout"], oncall=["alice"])},
)
ROUTING = Routing(
    rules=[
        RoutingRule(severities=[Severity.SEV1], kinds=[NotificationKind.PAGE], channels=["pagerduty"]),
        RoutingRule(teams=["payments"], channels=["payments-slack"]),
        RoutingRule(recipients=["vp-engineering"], channels=["exec-email"]),
    ],
    broadcasts=[RoutingRule(kinds=[NotificationKind.RESOLUTION], channels=["statuspage"])],
    default_channels=["console"],
)


def test_rules_come_first_then_the_persons_own_channels_then_the_default() -> None:
    chain = channel_chain(
        ROUTING, ROSTER, "console", "alice", "payments", Severity.SEV1, NotificationKind.PAGE
    )
    assert chain == ["pagerduty", "payments-slack", "slack-dm", "email", "console"]


def test_a_rule_applies_only_when_every_criterion_matches() -> None:
    sev2 = channel_chain(ROUTING, ROSTER, "console", "bob", None, Severity.SEV2, NotificationKind.PAGE)
    assert sev2 == ["email", "console"]
    vp = channel_chain(
        ROUTING, ROSTER, "console", "vp-engineering", None, Severity.SEV2, NotificationKind.PAGE
    )
    assert vp == ["exec-email", "console"]


def test_an_empty_routing_falls_back_to_the_policys_page_channel() -> None:
    chain = channel_chain(
        Routing(), Roster(), "team-chat", "oncall-primary", None, None, NotificationKind.PAGE
    )
    assert chain == ["team-chat"]


def test_recipients_sharing_a_chain_share_a_message_and_carry_their_contacts() -> None:
    groups = plan_routes(
        ROUTING, ROSTER, "console", ["alice", "bob", "carol", "alice"], "billing", Severity.SEV3,
        NotificationKind.PAGE,
    )  # fmt: skip
    assert [(group.names, group.channels) for group in groups] == [
        (["alice"], ["slack-dm", "email", "console"]),
        (["bob"], ["email", "console"]),
        (["carol"], ["console"]),
    ]
    assert groups[0].recipients[0].slack_user_id == "U1" and groups[0].label == "alice"


def test_a_broadcast_adds_its_own_copy_without_replacing_the_page() -> None:
    groups = plan_routes(
        ROUTING, ROSTER, "console", ["bob"], "checkout", Severity.SEV2, NotificationKind.RESOLUTION
    )
    assert [(group.label, group.channels) for group in groups] == [
        ("bob", ["payments-slack", "email", "console"]),
        ("broadcast-0", ["statuspage"]),
    ]


def test_a_single_group_needs_no_label_so_the_key_stays_workflow_id_step_channel() -> None:
    [group] = plan_routes(
        Routing(), Roster(), "console", ["oncall-primary"], None, None, NotificationKind.PAGE
    )
    assert group.label == ""


def test_the_example_policy_lists_routing_with_the_built_in_defaults() -> None:
    example = load_policy_file(DEFAULT_POLICY_FILE)
    assert example.routing == Routing()
