from __future__ import annotations

from datetime import timedelta

from workflows.escalation import escalation_plan
from workflows.messages import Severity
from workflows.policy import EscalationLevel, EscalationPolicy


def test_levels_follow_one_ack_deadline_apart_then_the_last_level_repeats() -> None:
    plan = escalation_plan(EscalationPolicy(), Severity.SEV1)
    assert [(step.level, step.after, step.repeat) for step in plan] == [
        (1, timedelta(0), 0),
        (2, timedelta(minutes=15), 0),
        (3, timedelta(minutes=30), 0),
        (3, timedelta(minutes=45), 1),
        (3, timedelta(minutes=60), 2),
    ]
    assert [step.index for step in plan] == list(range(5))


def test_the_deadline_comes_from_the_severity() -> None:
    policy = EscalationPolicy(levels=[EscalationLevel(name="only", targets=["a"])], final_level_repeats=0)
    assert [step.after for step in escalation_plan(policy, Severity.SEV3)] == [timedelta(0)]
    two = policy.model_copy(update={"final_level_repeats": 1})
    assert escalation_plan(two, Severity.SEV3)[1].after == timedelta(hours=2)
