"""Every subject and body a person reads about a post-mortem review: neutral, with the command that closes it."""

from __future__ import annotations

from workflows.incident.state import IncidentState
from workflows.review.state import ReviewFacts


def _name(incident: IncidentState) -> str:
    severity = incident.severity.value if incident.severity else "SEV-?"
    return f"[{severity}] {incident.cause.summary or incident.cause.service or incident.incident_id}"


def assigned_subject(incident: IncidentState) -> str:
    return f"You facilitate the post-mortem review of {_name(incident)}"


def reminder_subject(incident: IncidentState, description: str) -> str:
    return f"{description}: {_name(incident)}"


def body(incident: IncidentState, facts: ReviewFacts) -> str:
    lines = [
        f"Incident: {incident.incident_id}",
        f"Resolved: {facts.resolved_at:%Y-%m-%d %H:%M} UTC; review due {facts.due_at:%Y-%m-%d %H:%M} UTC",
        f"Facilitator: {facts.facilitator or 'nobody assigned'}",
    ]
    if incident.lifecycle.postmortem_path:
        lines.append(f"Draft: {incident.lifecycle.postmortem_path}")
    lines.append(
        f"When the review is held: warroom postmortem complete {incident.incident_id} --by NAME "
        "--items ITEMS.yaml [--document-url URL]"
    )
    return "\n".join(lines)
