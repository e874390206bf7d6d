"""The review's rules without Temporal: who facilitates, what is due when, whether `postmortem_complete` can
be accepted, and the input of each action item it starts."""

from __future__ import annotations

from datetime import datetime

from workflows.action_item.domain import due_moment
from workflows.escalation import DutyKind, DutyRule, Obligation
from workflows.incident.state import IncidentState
from workflows.messages.action_items import ActionItemInput, ActionItemSpec, PostmortemComplete
from workflows.policy import Policy
from workflows.review.state import ReviewFacts
from workflows.targets import resolve_people

FACILITATOR = "review:facilitator"


def choose_facilitator(policy: Policy, incident: IncidentState, moment: datetime) -> tuple[str | None, str]:
    """The first candidate not paged in the incident (the guide asks for someone who was not in the thick of
    it); the first candidate at all when everyone was paged. Returns the person and why, for the timeline."""
    review = policy.analysis.review
    cause = incident.cause
    candidates = resolve_people(
        policy, review.facilitator, team=cause.teams[0] if cause.teams else None, moment=moment,
        roles=incident.response.roles, other_teams=cause.teams[1:], paged=incident.response.paged,
    )  # fmt: skip
    involved = set(incident.response.paged) | set(incident.response.roles.values())
    fresh = [person for person in candidates if person not in involved]
    if review.facilitator_not_paged and fresh:
        return fresh[0], f"facilitator: {fresh[0]} (from the roster, not involved in the response)"
    if candidates:
        why = "everyone the roster offers was involved" if review.facilitator_not_paged else "from the roster"
        return candidates[0], f"facilitator: {candidates[0]} ({why})"
    return None, "no facilitator: the roster offers nobody (policy analysis.review.facilitator)"


def review_duties(policy: Policy, facts: ReviewFacts) -> list[Obligation]:
    """Reminders at the policy's offsets after resolution, then the overdue escalation and its repeats; none
    once the review is complete."""
    if facts.complete:
        return []
    review = policy.analysis.review
    duties = [
        Obligation(
            id=f"review/reminder/{number}", kind=DutyKind.NOTICE, rule=DutyRule.POSTMORTEM_REVIEW,
            due_at=facts.resolved_at + after, targets=review.remind,
            description=f"post-mortem review reminder {number} (due {facts.due_at:%Y-%m-%d %H:%M} UTC)",
        )
        for number, after in enumerate(sorted(review.reminders), start=1)
    ]  # fmt: skip
    for repeat in range(review.overdue_repeats + 1):
        duties.append(
            Obligation(
                id=f"review/overdue/{repeat}", kind=DutyKind.NOTICE, rule=DutyRule.POSTMORTEM_REVIEW,
                due_at=facts.due_at + repeat * review.overdue_every,
                targets=[*review.escalate_to, *review.remind],
                description="post-mortem review overdue" + (f" (reminder {repeat})" if repeat else ""),
            )
        )  # fmt: skip
    return sorted((duty for duty in duties if duty.id not in facts.sent), key=lambda duty: duty.due_at)


def refusal(policy: Policy, facts: ReviewFacts, command: PostmortemComplete, now: datetime) -> str | None:
    if facts.complete:
        return f"the review was already completed by {facts.completed_by} at {facts.completed_at:%Y-%m-%d %H:%M} UTC"
    people = policy.roster.people
    for number, item in enumerate(command.action_items, start=1):
        if item.owner not in people:
            known = ", ".join(sorted(people)[:20]) or "nobody"
            return (
                f"action_items[{number}].owner '{item.owner}' is not a person in the roster (people: {known})"
            )
        if item.due is not None and due_moment(item.due) <= now:
            return f"action_items[{number}].due {item.due} is not in the future"
    return None


def complete(facts: ReviewFacts, command: PostmortemComplete, now: datetime) -> str:
    facts.completed_by, facts.completed_at, facts.document_url = command.by, now, command.document_url
    facts.items_to_start = list(command.action_items)
    count = len(command.action_items)
    return f"post-mortem review completed by {command.by}: {count} action item{'s' if count != 1 else ''}"


def item_input(
    policy: Policy, incident: IncidentState, facts: ReviewFacts, spec: ActionItemSpec
) -> ActionItemInput:
    assert facts.completed_at is not None and facts.completed_by is not None
    return ActionItemInput(
        item=spec, incident_id=incident.incident_id, occurrence=incident.occurrence, severity=incident.severity,
        service=incident.cause.service, created_by=facts.completed_by, created_at=facts.completed_at,
        policy=policy,
    )  # fmt: skip
