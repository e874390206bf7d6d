"""Who is paged when nobody acknowledges: the escalation chain as a pure schedule.

Times are offsets from the start of the response phase, so the workflow can recompute the plan at any moment
(for example after a reclassification shortens the ack deadline) and still land on the same absolute times.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from workflows.messages import Severity
from workflows.policy import EscalationPolicy


class EscalationStep(BaseModel):
    index: int
    level: int
    level_name: str
    targets: list[str]
    after: timedelta
    repeat: int = 0

    @property
    def is_first_page(self) -> bool:
        return self.index == 0


def escalation_plan(policy: EscalationPolicy, severity: Severity) -> list[EscalationStep]:
    """Level 1 at once, each next level one ack deadline later, then the last level re-paged a few times."""
    deadline = policy.ack_deadline[severity]
    steps: list[EscalationStep] = []
    for level, spec in enumerate(policy.levels):
        steps.append(
            EscalationStep(
                index=len(steps),
                level=level + 1,
                level_name=spec.name,
                targets=spec.targets,
                after=deadline * level,
            )
        )
    final = policy.levels[-1]
    for repeat in range(1, policy.final_level_repeats + 1):
        steps.append(
            EscalationStep(
                index=len(steps),
                level=len(policy.levels),
                level_name=final.name,
                targets=final.targets,
                after=deadline * (len(policy.levels) - 1 + repeat),
                repeat=repeat,
            )
        )
    return steps
