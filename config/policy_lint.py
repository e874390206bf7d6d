"""Lint a policy that already passed the schema: the mistakes that only show up at 3 a.m. during an incident.

The schema proves each field is well-formed; these checks prove the fields fit together: every reference
names something that exists, rotations have no holes, every escalation step can actually fire, and (in
config/lint_reach.py) every level and audience reaches somebody at every moment of the week for every team.
Pure: a `Policy` in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

from config.lint_finding import Finding
from config.lint_reach import audiences_nobody, fallback_targets, required_roles
from config.rotation_coverage import REFERENCE_MONDAY, rotation_gaps
from workflows.durations import format_duration
from workflows.escalation import ack_deadline
from workflows.messages.common import ROLES, Severity
from workflows.policy import Policy
from workflows.roster import TEAM_FIELDS
from workflows.targets import INCIDENT_REFERENCES


def lint(policy: Policy) -> list[Finding]:
    """Every finding, errors first, each naming the path inside the policy file."""
    findings = [
        *_unknown_references(policy),
        *_rotation_gaps(policy),
        *_shared_services(policy),
        *_shared_slack_ids(policy),
        *_missing_per_severity(policy),
        *_missing_levels(policy),
        *_unreachable_steps(policy),
        *fallback_targets(policy),
        *audiences_nobody(policy),
        *required_roles(policy),
        *_unknown_adapters(policy),
    ]
    return sorted(findings, key=lambda finding: finding.severity != "error")


# --------------------------------------------------------------------------- references


def reference_sites(policy: Policy) -> Iterator[tuple[str, str]]:
    """(path, reference) for every place the policy names people, so no site is forgotten by a check."""
    escalation = policy.escalation
    for index, level in enumerate(escalation.levels):
        for reference in level.targets:
            yield f"escalation.levels[{index}].targets", reference
    for severity, notice in policy.management.items():
        for reference in notice.notify:
            yield f"management.{severity.value}.notify", reference
    for index, rule in enumerate(policy.business):
        for reference in rule.notify:
            yield f"business[{index}].notify", reference
    for reference in policy.regulatory.notify:
        yield "regulatory.notify", reference
    for role, references in policy.roles.defaults.items():
        for reference in references:
            yield f"roles.defaults.{role}", reference
    roster = policy.roster
    for name, team in roster.teams.items():
        for reference in team.oncall:
            yield f"roster.teams.{name}.oncall", reference
        for field in TEAM_FIELDS[1:]:
            if value := getattr(team, field):
                yield f"roster.teams.{name}.{field}", value
    for name, members in roster.functions.items():
        for reference in members:
            yield f"roster.functions.{name}", reference
    for name, rotation in roster.rotations.items():
        for index, shift in enumerate(rotation.shifts):
            yield f"roster.rotations.{name}.shifts[{index}].person", shift.person
    yield from _containment_sites(policy)


def _containment_sites(policy: Policy) -> Iterator[tuple[str, str]]:
    """Approvers and the rounds asked: an approver who names nobody means an action nobody may approve."""
    for index, runbook in enumerate(policy.containment.runbooks):
        for number, action in enumerate(runbook.actions):
            path = f"containment.runbooks[{index}].actions[{number}]"
            if action.risk_class != "approval":
                continue
            for reference in action.approvers:
                yield f"{path}.approvers", reference
            for round_, references in enumerate(action.escalation):
                for reference in references:
                    yield f"{path}.escalation[{round_}]", reference
    for reference in policy.recovery.page_on_failure:
        yield "recovery.page_on_failure", reference


def _or_one_of(names: Iterable[str]) -> str:
    known = sorted(names)
    return f" or use one of {', '.join(known)}" if known else ""


def _reference_problem(policy: Policy, reference: str) -> tuple[str, str] | None:
    """(message, fix) when a reference names nothing, else None."""
    roster = policy.roster
    kind, _, name = reference.partition(":")
    if reference in INCIDENT_REFERENCES:
        return None
    if not name:
        if roster.people and reference not in roster.people:
            known = ", ".join(sorted(roster.people))
            return f"'{reference}' is not a person in roster.people", f"use one of {known} or add it"
        return None
    if kind == "rotation" and name not in roster.rotations:
        return (
            f"no rotation '{name}'",
            f"define roster.rotations.{name}{_or_one_of(roster.rotations)}",
        )
    if kind in ("team", "cross_team") and name not in TEAM_FIELDS:
        return f"'{name}' is not a team field", f"use {kind}:FIELD with FIELD one of {', '.join(TEAM_FIELDS)}"
    if kind == "function" and name not in roster.functions:
        return (
            f"no function '{name}'",
            f"define roster.functions.{name}{_or_one_of(roster.functions)}",
        )
    if kind == "role" and name not in ROLES:
        return f"'{name}' is not an incident role", f"use role:ROLE with ROLE one of {', '.join(ROLES)}"
    if kind not in ("rotation", "team", "cross_team", "function", "role"):
        return (
            f"'{reference}' has an unknown kind '{kind}'",
            "use person, rotation:X, team:FIELD, cross_team:FIELD, function:X or role:X",
        )
    return None


def _unknown_references(policy: Policy) -> Iterator[Finding]:
    for path, reference in reference_sites(policy):
        if problem := _reference_problem(policy, reference):
            yield Finding(severity="error", path=path, message=problem[0], fix=problem[1])


def _unknown_adapters(policy: Policy) -> Iterator[Finding]:
    """Only when the policy lists the adapters its worker offers (`containment.adapters`)."""
    offered = policy.containment.adapters
    if not offered:
        return
    for index, runbook in enumerate(policy.containment.runbooks):
        for number, action in enumerate(runbook.actions):
            if action.adapter and action.adapter not in offered:
                yield Finding(
                    severity="error", path=f"containment.runbooks[{index}].actions[{number}].adapter",
                    message=f"no adapter '{action.adapter}' (containment.adapters: {', '.join(offered)})",
                    fix=f"use one of {', '.join(offered)} or add it to containment.adapters",
                )  # fmt: skip


# --------------------------------------------------------------------------- roster shape


def _rotation_gaps(policy: Policy) -> Iterator[Finding]:
    for name, rotation in policy.roster.rotations.items():
        gaps = rotation_gaps(rotation)
        if gaps:
            yield Finding(
                severity="error",
                path=f"roster.rotations.{name}.shifts",
                message=f"nobody on call {', '.join(gaps)}",
                fix="add shifts covering these hours (UTC); a shift with no end runs to 24:00",
            )


def _shared_services(policy: Policy) -> Iterator[Finding]:
    owners: dict[str, list[str]] = {}
    for name, team in policy.roster.teams.items():
        for service in team.services:
            owners.setdefault(service, []).append(name)
    for service, teams in owners.items():
        if len(teams) > 1:
            yield Finding(
                severity="error",
                path=f"roster.teams.{teams[1]}.services",
                message=f"service '{service}' is owned by {' and '.join(teams)}; only {teams[0]} would ever be paged",
                fix=f"keep '{service}' in one team's services",
            )


def _shared_slack_ids(policy: Policy) -> Iterator[Finding]:
    """The Slack route maps a clicking member to one person; an id two people share approves as nobody."""
    claims: dict[str, list[str]] = {}
    for name, person in policy.roster.people.items():
        if person.slack_user_id:
            claims.setdefault(person.slack_user_id, []).append(name)
    for slack_id, names in claims.items():
        if len(names) > 1:
            yield Finding(
                severity="error",
                path=f"roster.people.{names[1]}.slack_user_id",
                message=f"Slack id {slack_id} belongs to {' and '.join(names)}; their Slack clicks approve nothing",
                fix="give each person their own Slack member id (Slack: profile -> Copy member ID)",
            )


# --------------------------------------------------------------------------- severities and levels


def _missing_per_severity(policy: Policy) -> Iterator[Finding]:
    for severity in Severity:
        if severity not in policy.escalation.ack_deadline:
            yield Finding(
                severity="error",
                path="escalation.ack_deadline",
                message=f"{severity.value} has no ack deadline, so its ack chain never escalates",
                fix=f"add {severity.value}: 30m (or next_business_day)",
            )
        if severity is Severity.SEV4:
            continue  # no cadence and no management notice is the documented default for SEV-4
        if severity not in policy.status_updates.every:
            yield Finding(
                severity="warning",
                path="status_updates.every",
                message=f"{severity.value} has no status-update cadence; nobody is nudged to post updates",
                fix=f"add {severity.value}: 1h",
            )
        if severity not in policy.management:
            yield Finding(
                severity="warning",
                path="management",
                message=f"{severity.value} has no management notice",
                fix=f"add {severity.value}: {{within: 1h, notify: [team:engineering_manager]}}",
            )


def _missing_levels(policy: Policy) -> Iterator[Finding]:
    """Level numbers the schema cannot check: rules that name a level the policy does not have."""
    count = len(policy.escalation.levels)
    named: list[tuple[str, int | None]] = [
        (f"escalation.open_escalations[{i}].level", rule.level)
        for i, rule in enumerate(policy.escalation.open_escalations)
    ]
    named.append(("escalation.cross_team_level", policy.escalation.cross_team_level))
    named += [
        (f"management.{sev.value}.satisfied_by_level", n.satisfied_by_level)
        for sev, n in policy.management.items()
    ]
    for path, level in named:
        if level is not None and not 1 <= level <= count:
            yield Finding(
                severity="error",
                path=path,
                message=f"level {level} does not exist (levels 1..{count})",
                fix=f"name a level between 1 and {count}, or add the level to escalation.levels",
            )


def _shortest_ack_step(policy: Policy, severity: Severity) -> timedelta:
    """The ack deadline; for next_business_day, its shortest span over any hour of the week."""
    starts = [REFERENCE_MONDAY + timedelta(hours=hour) for hour in range(7 * 24)]
    return min(ack_deadline(policy.escalation, severity, start) for start in starts)


def _unreachable_steps(policy: Policy) -> Iterator[Finding]:
    """An ack-chain page never fires when another rule always engages its level strictly earlier."""
    escalation = policy.escalation
    for index, rule in enumerate(escalation.open_escalations):
        if not rule.after:
            yield Finding(
                severity="warning",
                path=f"escalation.open_escalations[{index}].after",
                message=f"names no severity, so level {rule.level} is never engaged by this rule",
                fix="add SEV-n: DURATION entries, or remove the rule",
            )
        if rule.level == 1:
            yield Finding(
                severity="warning",
                path=f"escalation.open_escalations[{index}]",
                message="level 1 is paged at once by the ack chain, so this rule never fires",
                fix="remove it or name a higher level",
            )
    for severity in Severity:
        if severity not in escalation.ack_deadline:
            continue
        step = _shortest_ack_step(policy, severity)
        for rule in escalation.open_escalations:
            engaged_at = rule.after.get(severity)
            if engaged_at is None or not 2 <= rule.level <= len(escalation.levels):
                continue
            chain_at = step * (rule.level - 1)
            if engaged_at < chain_at:
                name = escalation.levels[rule.level - 1].name
                yield Finding(
                    severity="warning",
                    path=f"escalation.levels[{rule.level - 1}]",
                    message=f"for {severity.value} the ack-chain page of level {rule.level} ({name}) at "
                    f"{format_duration(chain_at)} never fires: open_escalations engages it at "
                    f"{format_duration(engaged_at)}",
                    fix="fine if intended; otherwise shorten ack_deadline or lengthen open_escalations.after",
                )


__all__ = ["Finding", "lint"]
