"""The pure rules of the review and the action items, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.analysis.helpers import loaded_test_policy
from workflows.action_item.domain import ActionItem, due_moment
from workflows.action_item.schedule import mark_sent, pending_reminders
from workflows.action_item.state import HISTORY_KEPT, ActionItemState
from workflows.incident.state import IncidentState, Lifecycle
from workflows.messages.action_items import (
    ActionItemSpec,
    CompleteItem,
    ExtendDue,
    PostmortemComplete,
    normalize_link,
)
from workflows.messages.activities import People
from workflows.review import rules
from workflows.review.state import ReviewFacts

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)


def item(**changes: object) -> ActionItemState:
    state = ActionItemState(
        item_id="action-item-x-1", title="t", priority="high", owner="tom", incident_id="incident-x",
        occurrence="incident-x@1", policy=loaded_test_policy(), created_at=NOW, due_at=DUE, original_due_at=DUE,
        schedule_from=NOW,
    )  # fmt: skip
    return state.model_copy(update=changes)


def test_links_are_matched_in_one_normal_form() -> None:
    assert normalize_link(" HTTPS://GitHub.com/acme/inv/issues/12/#issuecomment-1 ") == (
        "https://github.com/acme/inv/issues/12"
    )
    assert normalize_link("https://acme.atlassian.net/browse/OPS-42?focusedCommentId=1") == (
        "https://acme.atlassian.net/browse/OPS-42"
    )


def test_a_day_means_five_pm_utc_and_a_naive_moment_is_utc() -> None:
    assert due_moment(date(2027, 1, 31)) == datetime(2027, 1, 31, 17, 0, tzinfo=UTC)
    assert due_moment(datetime(2027, 1, 31, 8, 0)) == datetime(2027, 1, 31, 8, 0, tzinfo=UTC)


def test_before_due_reminders_already_past_when_the_schedule_was_set_are_skipped() -> None:
    state = item(schedule_from=DUE - timedelta(days=1))  # set a day before due: the 2-days-before is gone
    ids = [reminder.id for reminder in pending_reminders(state, state.policy.analysis.action_items)]
    assert ids == ["morning", "due", "escalate", "overdue/1"]


def test_a_worker_down_for_weeks_resumes_the_weekly_reminders_at_the_current_week() -> None:
    state = item()
    policy = state.policy.analysis.action_items
    weekly = next(r for r in pending_reminders(state, policy) if r.kind == "overdue")
    mark_sent(state, weekly, policy, DUE + timedelta(days=30))
    assert state.overdue_sent == 4 and next(
        r for r in pending_reminders(state, policy) if r.kind == "overdue"
    ).id == ("overdue/5")


def test_commands_on_a_closed_item_and_bad_payloads_are_rejected_into_the_history() -> None:
    domain = ActionItem(item())
    assert (
        domain.execute("complete", CompleteItem(by="tom", evidence="PR 7", command_id="c1"), NOW).outcome
        == "applied"
    )
    assert (
        domain.execute("complete", CompleteItem(by="tom", evidence="PR 7", command_id="c1"), NOW).outcome
        == "ignored"
    )
    stale = domain.execute("extend_due", ExtendDue(by="tom", until=DUE + timedelta(days=1), reason="x"), NOW)
    assert stale.outcome == "rejected" and stale.reason.startswith("the item is already done by tom")
    bad = domain.handle_signal("reassign", {"by": "erin", "owner": 7}, NOW)
    assert bad.outcome == "rejected" and "owner" in bad.reason
    assert [event.kind for event in domain.state.history][-2:] == ["rejected", "rejected"]


def test_the_history_stays_bounded() -> None:
    domain = ActionItem(item())
    for _ in range(HISTORY_KEPT * 3):
        domain.handle_signal("cancel", {}, NOW)
    assert len(domain.state.history) == HISTORY_KEPT and domain.state.history_total == HISTORY_KEPT * 3


def test_taking_the_roster_of_now_keeps_a_departed_owner_reachable_and_records_a_new_manager() -> None:
    domain = ActionItem(item())
    policy = domain.state.policy
    people = policy.roster.people
    moved = {**people, "tom": people["tom"].model_copy(update={"manager": "dora"})}
    domain.take_people(People(roster=policy.roster.model_copy(update={"people": moved}), routing=policy.routing,
                              page_channel=policy.page_channel), NOW)  # fmt: skip
    assert domain.state.manager == "dora"
    assert [event.summary for event in domain.state.history] == [
        "tom's manager is now dora (was erin): the roster changed"
    ]

    departed = {name: person for name, person in moved.items() if name != "tom"}
    domain.take_people(People(roster=policy.roster.model_copy(update={"people": departed}), routing=policy.routing,
                              page_channel="chat"), NOW)  # fmt: skip
    assert (
        domain.state.policy.roster.people["tom"] == moved["tom"]
    )  # still reached as the last roster had him
    assert domain.state.policy.page_channel == "chat" and domain.state.manager == "dora"
    assert domain.state.history[-1].kind == "warning" and domain.state.history[-1].summary.startswith(
        "tom is no longer in the roster"
    )
    assert len(domain.state.history) == 2  # the manager did not change again


def test_the_facilitator_is_someone_not_involved_and_the_review_duties_follow_the_policy() -> None:
    policy = loaded_test_policy()
    incident = IncidentState(incident_id="incident-x", occurrence="incident-x@1", lifecycle=Lifecycle(opened_at=NOW),
                             policy=policy)  # fmt: skip
    incident.response.paged = ["olivia", "tom", "sam"]
    incident.response.roles = {"incident_commander": "ivan"}
    assert rules.choose_facilitator(policy, incident, NOW)[0] == "fay"
    incident.response.paged += ["fay", "vic", "cleo"]
    person, why = rules.choose_facilitator(policy, incident, NOW)
    assert person == "tom" and "everyone the roster offers was involved" in why
    facts = ReviewFacts(resolved_at=NOW, due_at=NOW + timedelta(hours=48))
    duties = rules.review_duties(policy, facts)
    assert [(d.id, d.due_at - NOW) for d in duties[:3]] == [
        ("review/reminder/1", timedelta(hours=24)),
        ("review/reminder/2", timedelta(hours=44)),
        ("review/overdue/0", timedelta(hours=48)),
    ]
    late = PostmortemComplete(
        by="fay", action_items=[ActionItemSpec(title="x", owner="tom", due=date(2020, 1, 1))]
    )
    assert rules.refusal(policy, facts, late, NOW) == "action_items[1].due 2020-01-01 is not in the future"
    rules.complete(facts, PostmortemComplete(by="fay"), NOW)
    assert rules.review_duties(policy, facts) == []
