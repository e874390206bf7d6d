"""Targets to people outside a running incident, exactly as `IncidentWorkflow` resolves them.

The lint and the what-if both need "who would this reach at that moment"; they must answer it the way the
workflow does (first candidate of each role default, `incident:paged` / `incident:roles` from the incident's
own state), or the tooling would promise pages that never happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from workflows.policy import Policy

INCIDENT_REFERENCES = ("incident:paged", "incident:roles")


def resolve_people(
    policy: Policy,
    references: Iterable[str],
    *,
    team: str | None,
    moment: datetime,
    roles: dict[str, str] | None = None,
    other_teams: list[str] | None = None,
    paged: list[str] | None = None,
) -> list[str]:
    """Everyone the references reach at `moment`, in order, without duplicates."""
    roles = roles or {}
    people: list[str] = []
    for reference in references:
        if reference == "incident:paged":
            found = list(paged or [])
        elif reference == "incident:roles":
            found = list(roles.values())
        else:
            found = policy.roster.resolve(
                reference, team=team, other_teams=other_teams or [], roles=roles, moment=moment
            )
        people += [person for person in found if person not in people]
    return people


def default_roles(policy: Policy, *, team: str | None, moment: datetime) -> dict[str, str]:
    """The roles an incident opening at `moment` gets from the roster: the first candidate of each default."""
    roles: dict[str, str] = {}
    for role, references in policy.roles.defaults.items():
        candidates = resolve_people(policy, references, team=team, moment=moment)
        if candidates:
            roles[role] = candidates[0]
    return roles
