"""What an incident would do, without running it: the workflow's duty loop replayed on a simulated clock.

It drives the same pure `pending_obligations` the workflow sleeps on, and performs duties the way
`IncidentWorkflow._perform` does (mark the id done, record a page's level as engaged, fall back when a level
reaches nobody), so the timeline it prints is the one the workflow would follow, not a second opinion.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from workflows.escalation import (
    DutyKind,
    EscalationFacts,
    Obligation,
    has_data_or_compliance_impact,
    pending_obligations,
)
from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.policy import Policy
from workflows.targets import default_roles, resolve_people

MAX_STEPS = 1_000  # about ten days of a SEV-1 (a nudge and an escalation every 30 minutes)


class WhatIfStep(BaseModel):
    at: datetime
    offset: timedelta
    description: str
    kind: str
    level: int | None = None
    people: list[str] = Field(default_factory=list)
    fallback: bool = Field(default=False, description="the level reached nobody; fallback_targets paged")


class WhatIf(BaseModel):
    team: str | None
    roles: dict[str, str]
    steps: list[WhatIfStep]
    truncated: bool = Field(default=False, description="stopped at MAX_STEPS before the horizon")


def simulate(
    policy: Policy,
    *,
    severity: Severity,
    impact: Impact,
    service: str | None,
    start: datetime,
    horizon: timedelta,
    ack_after: timedelta | None = None,
) -> WhatIf:
    """Every duty from `start` up to `start + horizon`, if nobody acknowledges (or one does at `ack_after`)."""
    team = policy.roster.team_of(service)
    roles = default_roles(policy, team=team, moment=start)
    facts = EscalationFacts(
        severity=severity,
        impact=impact,
        response_started_at=start,
        teams=[team] if team else [],
        regulatory_since=start if has_data_or_compliance_impact(impact) else None,
    )
    ack_at = start + ack_after if ack_after is not None else None
    paged: list[str] = []
    steps: list[WhatIfStep] = []
    while len(steps) < MAX_STEPS:
        pending = pending_obligations(policy, facts)
        next_due = pending[0].due_at if pending else None
        # The workflow lets a signal in the same task win over a timer, so an ack at the same instant comes first.
        if ack_at is not None and (next_due is None or ack_at <= next_due) and ack_at <= start + horizon:
            facts.acknowledged = True
            steps.append(WhatIfStep(at=ack_at, offset=ack_at - start, kind="ack", description="acknowledged"))
            ack_at = None
            continue
        if not pending or pending[0].due_at > start + horizon:
            break
        steps.append(_perform(policy, pending[0], facts, team=team, roles=roles, paged=paged, start=start))
    else:
        return WhatIf(team=team, roles=roles, steps=steps, truncated=True)
    return WhatIf(team=team, roles=roles, steps=steps)


def _perform(
    policy: Policy,
    duty: Obligation,
    facts: EscalationFacts,
    *,
    team: str | None,
    roles: dict[str, str],
    paged: list[str],
    start: datetime,
) -> WhatIfStep:
    people = resolve_people(policy, duty.targets, team=team, moment=duty.due_at, roles=roles, paged=paged)
    fallback = duty.kind is DutyKind.PAGE and not people
    if fallback:
        people = list(policy.escalation.fallback_targets)
    if duty.kind is DutyKind.PAGE:
        facts.engaged_levels.append(duty.level or 1)
        paged += [person for person in people if person not in paged]
    facts.done.add(duty.id)
    return WhatIfStep(
        at=duty.due_at,
        offset=duty.due_at - start,
        description=duty.description,
        kind=duty.kind,
        level=duty.level,
        people=people,
        fallback=fallback,
    )


def format_offset(offset: timedelta) -> str:
    """+HH:MM:SS with hours running past 24, so a 3-day regulatory deadline reads +72:00:00."""
    seconds = int(offset.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours:02d}:{minutes:02d}:{secs:02d}"


def format_step(step: WhatIfStep) -> str:
    """`+00:15:00  2026-11-27 09:15 UTC  page level 2 (management) -> erin, dora`."""
    line = f"{format_offset(step.offset)}  {step.at:%Y-%m-%d %H:%M} UTC  {step.description}"
    if step.kind == "ack":
        return line
    targets = ", ".join(step.people) or "nobody (check the roster)"
    return line + f" -> {targets}" + (" (level reaches nobody: fallback)" if step.fallback else "")
