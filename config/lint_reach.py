"""Lint checks about reaching people: every level, audience and required role reaches somebody, always.

"Always" is exact, not sampled: resolution only changes at a shift boundary, so every boundary of the UTC week
is checked, for every team and for an incident on a service no team owns, with the roles the incident would
get from `roles.defaults` (a `role:` reference resolves through them, as in the workflow).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from config.lint_finding import Finding
from config.rotation_coverage import boundary_moments, describe_moment
from workflows.policy import Policy
from workflows.targets import default_roles, resolve_people


def _team_scopes(policy: Policy) -> list[str | None]:
    """Every owning team, and None: an incident on a service no team owns."""
    return [*policy.roster.teams, None]


def _first_empty_moment(policy: Policy, references: list[str], team: str | None) -> datetime | None:
    for moment in boundary_moments(policy.roster):
        roles = default_roles(policy, team=team, moment=moment)
        if not resolve_people(policy, references, team=team, moment=moment, roles=roles):
            return moment
    return None


def _nobody(policy: Policy, path: str, what: str, references: list[str], fix: str) -> Iterator[Finding]:
    """A finding per team scope where `references` reach nobody: an error for a team, a warning for none;
    one error when every scope is empty from the same moment (a team-independent hole, reported once)."""
    empty = {
        team: moment
        for team in _team_scopes(policy)
        if (moment := _first_empty_moment(policy, references, team)) is not None
    }
    if len(empty) == len(_team_scopes(policy)) and len(set(empty.values())) == 1:
        moment = empty[None]
        message = f"{what} resolves to nobody for any incident (e.g. {describe_moment(moment)} UTC)"
        yield Finding(severity="error", path=path, message=message, fix=fix)
        return
    for team, moment in empty.items():
        scope = f"team {team}" if team else "a service no team owns"
        yield Finding(
            severity="error" if team else "warning",
            path=path,
            message=f"{what} resolves to nobody for {scope} (e.g. {describe_moment(moment)} UTC)",
            fix=fix,
        )


def fallback_targets(policy: Policy) -> Iterator[Finding]:
    """The fallback is paged as written (not resolved), so it must be people."""
    for target in policy.escalation.fallback_targets:
        if ":" in target:
            yield Finding(
                severity="error",
                path="escalation.fallback_targets",
                message=f"'{target}' is a reference, but fallback targets are paged as written",
                fix="list people by name",
            )
        elif policy.roster.people and target not in policy.roster.people:
            yield Finding(
                severity="error",
                path="escalation.fallback_targets",
                message=f"'{target}' is not a person in roster.people, so the last-resort page reaches nobody",
                fix=f"use one of {', '.join(sorted(policy.roster.people))}",
            )


def _fallback_is_people(policy: Policy) -> bool:
    return bool(policy.escalation.fallback_targets) and not any(fallback_targets(policy))


def audiences_nobody(policy: Policy) -> Iterator[Finding]:
    for index, level in enumerate(policy.escalation.levels):
        findings = _nobody(
            policy,
            f"escalation.levels[{index}].targets",
            f"level {index + 1} ({level.name})",
            level.targets,
            "add a person or function:X to the level (only fallback_targets would be paged)",
        )
        # With no owning team, paging the fallback is the designed answer; with a team it hides a hole.
        yield from (f for f in findings if f.severity == "error" or not _fallback_is_people(policy))
    audiences = [
        *[
            (f"management.{s.value}.notify", f"{s.value} management notice", n.notify)
            for s, n in policy.management.items()
        ],
        *[
            (f"business[{i}].notify", f"business escalation '{r.name}'", r.notify)
            for i, r in enumerate(policy.business)
        ],
        ("regulatory.notify", "regulatory notification", policy.regulatory.notify),
    ]
    for path, what, references in audiences:
        yield from _nobody(
            policy, path, what, references, "name a person or function:X that always has members"
        )


def required_roles(policy: Policy) -> Iterator[Finding]:
    for severity, roles in policy.roles.required.items():
        for role in roles:
            if role not in policy.roles.defaults:
                yield Finding(
                    severity="error",
                    path=f"roles.required.{severity.value}",
                    message=f"{severity.value} requires {role} but roles.defaults has no entry for it",
                    fix=f"add roles.defaults.{role}: [rotation:X or team:FIELD]",
                )
    required = sorted({role for roles in policy.roles.required.values() for role in roles})
    for role in required:
        if role in policy.roles.defaults:
            yield from _nobody(
                policy,
                f"roles.defaults.{role}",
                f"required role {role}",
                policy.roles.defaults[role],
                "add a fallback reference that always resolves (a person or a team field)",
            )
