"""The duty engine as a pure function, without a server: what is due when, from the facts alone.

Policy: the built-in defaults (ack deadlines SEV-1 15m / SEV-2 30m / SEV-3 2h, three levels, status updates
every 30m / 1h / 1d, snooze at most 4h, failed pages retried every 5m, 6 tries in all).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from workflows.escalation import DutyKind, DutyRule, EscalationFacts, Obligation, pending_obligations
from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.policy import Policy

POLICY = Policy()
START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def facts(severity: Severity = Severity.SEV3, **changes: object) -> EscalationFacts:
    return EscalationFacts.model_validate(
        {"severity": severity, "impact": Impact(), "response_started_at": START, **changes}
    )


def due(duties: Iterable[Obligation]) -> dict[str, timedelta]:
    """duty id -> offset from the start of the response."""
    return {duty.id: duty.due_at - START for duty in duties}


def pending(state: EscalationFacts, policy: Policy = POLICY) -> dict[str, timedelta]:
    return due(pending_obligations(policy, state))


# --------------------------------------------------------------------------- snooze (defect 1)


def test_a_snooze_taken_at_sev3_holds_nothing_once_the_incident_is_sev1() -> None:
    # SEV-3 snoozed at 10:05 until 14:05; upgraded to SEV-1 at 10:30: the pages are due on SEV-1's clock.
    snoozed = facts(Severity.SEV1, engaged_levels=[1], done={"ack/1"}, snoozed_until=START + minutes(245))
    offsets = pending(snoozed)
    assert offsets["ack/2"] == minutes(15)
    assert offsets["open/3"] == minutes(0)
    assert offsets["management/SEV-1"] == minutes(30)
    assert offsets == pending(snoozed.model_copy(update={"snoozed_until": None}))


def test_a_manual_escalation_is_never_snoozed_but_the_rest_still_is() -> None:
    snoozed = facts(
        Severity.SEV3,
        engaged_levels=[1],
        done={"ack/1"},
        snoozed_until=START + minutes(240),
        manual_requests={3: START + minutes(20)},
    )
    offsets = pending(snoozed)
    assert offsets["manual/3"] == minutes(20)
    assert offsets["ack/2"] == minutes(240)  # due at 2h, held to the snooze's end
    assert offsets["open/2"] == minutes(240)


def test_business_and_regulatory_duties_ignore_the_snooze() -> None:
    breach = Impact(security_breach=True, users_affected=500)
    snoozed = facts(Severity.SEV2, impact=breach, regulatory_since=START, snoozed_until=START + minutes(240))
    offsets = pending(snoozed)
    assert offsets["business/customer support"] == minutes(30)
    assert offsets["business/compliance, legal and DPO"] == minutes(120)


# --------------------------------------------------------------------------- open escalation (defect 4)


def test_still_open_escalation_follows_the_guides_matrix_per_severity() -> None:
    expected = {
        Severity.SEV1: {"open/2": minutes(60), "open/3": minutes(0)},
        Severity.SEV2: {"open/2": minutes(60), "open/3": minutes(240)},
        Severity.SEV3: {"open/2": minutes(60), "open/3": minutes(240)},
        Severity.SEV4: {},  # never by time alone: a Friday-evening SEV-4 does not wake the executives
    }
    for severity, offsets in expected.items():
        opened = {
            k: v for k, v in pending(facts(severity, acknowledged=True)).items() if k.startswith("open/")
        }
        assert opened == offsets, severity


def test_a_severity_left_out_of_a_rule_is_never_escalated_by_it() -> None:
    policy = Policy.model_validate(
        {"escalation": {"open_escalations": [{"level": 3, "after": {"SEV-2": "2h"}}]}}
    )
    assert "open/3" in pending(facts(Severity.SEV2, acknowledged=True), policy)
    assert "open/3" not in pending(facts(Severity.SEV1, acknowledged=True), policy)


# --------------------------------------------------------------------------- failed pages (defect 5)


def test_a_page_that_failed_on_every_channel_is_offered_again_after_the_backoff() -> None:
    failed_at = START + minutes(1)
    state = facts(Severity.SEV2, failed={"ack/1": [failed_at]})
    duty = next(duty for duty in pending_obligations(POLICY, state) if duty.id == "ack/1")
    assert duty.due_at == failed_at + minutes(5)
    assert duty.attempt == 2
    assert "try 2 of 6" in duty.description


def test_the_ack_chain_and_the_management_notice_go_on_while_a_failed_page_is_retried() -> None:
    # Level 1 failed everywhere: it is not engaged, so level 2 comes on schedule and SEV-3's notice to the
    # tech lead (satisfied only by a level-1 page that got through) is still due.
    state = facts(Severity.SEV3, failed={"ack/1": [START]})
    offsets = pending(state)
    assert offsets["ack/2"] == minutes(120)
    assert offsets["management/SEV-3"] == minutes(120)
    assert offsets["ack/1"] == minutes(5)


def test_a_failed_page_is_dropped_once_its_tries_are_spent() -> None:
    failures = [START + minutes(5 * n) for n in range(6)]
    assert "ack/1" not in pending(facts(Severity.SEV2, failed={"ack/1": failures}))
    assert pending(facts(Severity.SEV2, failed={"ack/1": failures[:5]}))["ack/1"] == minutes(25)


def test_a_failed_retry_still_waits_for_a_snooze_but_not_at_sev1() -> None:
    state = facts(Severity.SEV3, failed={"open/2": [START + minutes(61)]}, snoozed_until=START + minutes(90))
    assert pending(state)["open/2"] == minutes(90)
    upgraded = state.model_copy(update={"severity": Severity.SEV1})
    assert pending(upgraded)["open/2"] == minutes(66)


def test_failures_of_duties_that_are_not_pages_are_ignored() -> None:
    state = facts(Severity.SEV2, failed={"management/SEV-2": [START]})
    assert pending(state)["management/SEV-2"] == minutes(60)


# --------------------------------------------------------------------------- typed duties (defect 9)


def test_duties_carry_their_kind_rule_level_and_update_index_as_fields() -> None:
    posted = {0: (START + minutes(3), "internal"), 1: (START + minutes(7), "customer")}
    state = facts(Severity.SEV1, posted_updates=posted, done={"update/0"}, manual_requests={2: START})
    by_id = {duty.id: duty for duty in pending_obligations(POLICY, state)}
    assert by_id["update/1"].kind is DutyKind.CUSTOMER_UPDATE
    assert by_id["update/1"].update_index == 1
    assert by_id["ack/1"].kind is DutyKind.PAGE and by_id["ack/1"].rule is DutyRule.ACK_CHAIN
    assert by_id["ack/1"].ack_chain and by_id["ack/1"].level == 1
    assert by_id["manual/2"].rule is DutyRule.MANUAL and not by_id["manual/2"].ack_chain
    assert by_id["status/2026-11-27T10:00:00+00:00/1/nudge"].kind == "nudge"  # ids and values unchanged


# --------------------------------------------------------------------------- status cadence (defect 8)


class CountingSet(set[str]):
    """A `done` set that counts membership tests: the cadence must not scan every done duty."""

    lookups = 0

    def __contains__(self, item: object) -> bool:
        CountingSet.lookups += 1
        return super().__contains__(item)


def cadence_ids(slots: int, tag: str = "2026-11-27T10:00:00+00:00") -> set[str]:
    return {f"status/{tag}/{slot}/{step}" for slot in range(1, slots + 1) for step in ("nudge", "escalate")}


def test_the_status_cadence_finds_its_slot_in_logarithmic_lookups_of_the_done_duties() -> None:
    # Ten days of a SEV-1 without an update: 480 slots done. model_construct keeps the counting set as it is.
    done = CountingSet(cadence_ids(480) | {"ack/1"})
    state = EscalationFacts.model_construct(**{**facts(Severity.SEV1).__dict__, "done": done})
    CountingSet.lookups = 0
    offsets = pending(state)
    assert offsets["status/2026-11-27T10:00:00+00:00/481/nudge"] == minutes(30 * 481)
    assert CountingSet.lookups < 100  # a scan slot by slot makes ~1,000


def reference_slot(done: set[str], tag: str) -> int:
    """The definition: the first slot whose nudge or escalation is not done."""
    slot = 1
    while f"status/{tag}/{slot}/nudge" in done and f"status/{tag}/{slot}/escalate" in done:
        slot += 1
    return slot


@given(slots=st.integers(0, 300), nudged=st.booleans(), old_anchor_slots=st.integers(0, 20))
def test_the_cadence_offers_the_slot_after_the_done_prefix_of_the_current_anchor(
    slots: int, nudged: bool, old_anchor_slots: int
) -> None:
    anchor = START + minutes(42)
    tag = anchor.isoformat()
    done = cadence_ids(slots, tag) | cadence_ids(old_anchor_slots)  # ids of the earlier anchor do not count
    if nudged:
        done.add(f"status/{tag}/{slots + 1}/nudge")
    state = facts(Severity.SEV2, acknowledged=True, last_update_at=anchor, done=done)
    cadence = [duty for duty in pending_obligations(POLICY, state) if duty.rule is DutyRule.STATUS_CADENCE]
    slot = reference_slot(done, tag)
    assert slot == slots + 1
    expected = [] if nudged else [f"status/{tag}/{slot}/nudge"]
    assert [duty.id for duty in cadence] == [*expected, f"status/{tag}/{slot}/escalate"]
    assert cadence[-1].due_at == anchor + timedelta(hours=slot) + minutes(15)


# --------------------------------------------------------------------------- properties of the whole


severities = st.sampled_from(list(Severity))
moments = st.integers(0, 600).map(lambda offset: START + minutes(offset))


@given(
    severity=severities,
    snooze=moments,
    acknowledged=st.booleans(),
    manual=st.dictionaries(st.integers(1, 3), moments, max_size=2),
    failures=st.lists(moments, max_size=7),
)
def test_soonest_first_nothing_done_offered_and_sev1_or_manual_never_snoozed(
    severity: Severity,
    snooze: datetime,
    acknowledged: bool,
    manual: dict[int, datetime],
    failures: list[datetime],
) -> None:
    state = facts(
        severity,
        acknowledged=acknowledged,
        manual_requests=manual,
        failed={"ack/1": sorted(failures)} if failures else {},
        done={"ack/2"},
    )
    awake = pending_obligations(POLICY, state)
    snoozed = pending_obligations(POLICY, state.model_copy(update={"snoozed_until": snooze}))
    assert [duty.due_at for duty in snoozed] == sorted(duty.due_at for duty in snoozed)
    assert "ack/2" not in {duty.id for duty in snoozed}
    assert {duty.id for duty in snoozed} == {duty.id for duty in awake}
    for duty in snoozed:
        unsnoozed = next(other for other in awake if other.id == duty.id)
        if (
            severity is Severity.SEV1
            or duty.rule is DutyRule.MANUAL
            or duty.kind not in ("page", "notice", "nudge")
        ):
            assert duty.due_at == unsnoozed.due_at
        else:
            assert duty.due_at == max(unsnoozed.due_at, snooze)


@given(
    severity=severities,
    duty_id=st.sampled_from(["ack/1", "ack/2", "open/2", "open/3", "manual/2"]),
    failures=st.lists(moments, min_size=1, max_size=8),
)
def test_a_failed_page_comes_back_after_its_last_failure_until_its_tries_are_spent(
    severity: Severity, duty_id: str, failures: list[datetime]
) -> None:
    base = facts(severity, manual_requests={2: START + minutes(3)})
    original = {duty.id: duty for duty in pending_obligations(POLICY, base)}
    retried = {duty.id: duty for duty in pending_obligations(POLICY, facts(
        severity, manual_requests={2: START + minutes(3)}, failed={duty_id: failures}
    ))}  # fmt: skip
    assert set(retried) - {duty_id} == set(original) - {duty_id}  # nothing else changes
    if duty_id not in original:
        assert duty_id not in retried  # a rule that does not apply is not brought back by a failure
    elif len(failures) >= POLICY.escalation.page_retry.attempts:
        assert duty_id not in retried
    else:
        duty = retried[duty_id]
        assert duty.due_at == max(
            original[duty_id].due_at, max(failures) + POLICY.escalation.page_retry.every
        )
        assert duty.attempt == len(failures) + 1


def test_cadence_slots_the_workflow_counted_need_no_ids_in_done() -> None:
    """Bounded state: the workflow prunes the ids of finished cadence slots and passes their count instead."""
    counted = facts(Severity.SEV1, status_slots_done=100)
    [nudge] = [duty for duty in pending_obligations(POLICY, counted) if duty.id.endswith("/nudge")]
    assert nudge.id.endswith("/101/nudge") and nudge.due_at == START + minutes(30) * 101
