"""Two runs of one scenario under two policies, side by side: what a policy change would change for people
(pages, wake-ups out of business hours, MTTA, escalations), rehearsed before rollout. Pure.

Escalations are set side by side by when they fired after the response start (what the policy says).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from workers.drill.scoring import Escalation, IncidentScore, Scorecard, clock


class Difference(BaseModel):
    incident: str
    what: str
    before: str
    after: str


class Comparison(BaseModel):
    scenario: str
    policy_a: str
    policy_b: str
    differences: list[Difference] = Field(description="empty when both policies behave the same")


def compare(a: Scorecard, b: Scorecard) -> Comparison:
    differences: list[Difference] = []
    for index in range(max(len(a.incidents), len(b.incidents))):
        left = a.incidents[index] if index < len(a.incidents) else None
        right = b.incidents[index] if index < len(b.incidents) else None
        either = left or right
        label = either.incident_id if either else str(index)
        differences += _incident(label, left, right)
    names = (a.policy, b.policy) if a.policy != b.policy else (a.policy_file, b.policy_file)
    return Comparison(scenario=a.scenario, policy_a=names[0], policy_b=names[1], differences=differences)


def _incident(label: str, a: IncidentScore | None, b: IncidentScore | None) -> list[Difference]:
    if a is None or b is None:
        return [Difference(incident=label, what="incident", before=_exists(a), after=_exists(b))]
    found = []

    def note(what: str, before: object, after: object) -> None:
        if before != after:
            found.append(Difference(incident=label, what=what, before=str(before), after=str(after)))

    note("pages", _pages(a), _pages(b))
    note("people paged", ", ".join(a.people_paged), ", ".join(b.people_paged))
    note("wake-ups out of business hours", a.wake_ups, b.wake_ups)
    note("MTTA", clock(a.mtta), clock(b.mtta))
    note("MTTR", clock(a.mttr), clock(b.mttr))
    note("severity", a.severity.value if a.severity else "-", b.severity.value if b.severity else "-")
    fired_a = {e.duty: e for e in a.escalations}
    fired_b = {e.duty: e for e in b.escalations}
    for duty in sorted(set(fired_a) | set(fired_b), key=lambda d: _first_at(d, fired_a, fired_b)):
        before = _fired(fired_a.get(duty))
        after = _fired(fired_b.get(duty))
        note(f"escalation {duty}", before, after)
    note("misses", len(a.misses), len(b.misses))
    return found


def _pages(score: IncidentScore) -> int:
    return sum(len(page.recipients) for page in score.pages if page.paging)


def _fired(escalation: Escalation | None) -> str:
    if escalation is None:
        return "not fired"
    # From the response start, as the policy measures: the drill's clock also carries the real moment the
    # worker took to open the incident, which differs from run to run.
    return f"{clock(escalation.after_response)} -> {', '.join(escalation.people)}"


def _first_at(duty: str, *fired: dict[str, Escalation]) -> timedelta:
    return min(found[duty].after_response for found in fired if duty in found)


def _exists(score: IncidentScore | None) -> str:
    return "absent" if score is None else f"{score.severity.value if score.severity else '-'} opened"
