"""The Markdown a human sees in the Web UI's "User Metadata" panel: state, next deadline, what to paste."""

from __future__ import annotations

import json

from workflows.incident.state import IncidentState
from workflows.markdown import plain
from workflows.messages.common import Phase
from workflows.messages.status import Deadline

RECENT_EVENTS = 8


def _signal_hint(signal: str, example: dict[str, object]) -> str:
    return f"- `{signal}`: `{json.dumps(example)}`"


def _expected_signals(state: IncidentState) -> list[str]:
    hints: list[str] = []
    if state.phase in (Phase.CLASSIFICATION, Phase.RESPONSE) and not state.is_acknowledged:
        hints.append(_signal_hint("acknowledge", {"by": "your-name"}))
    if state.phase in (Phase.RESPONSE, Phase.CLASSIFICATION) and state.lifecycle.mitigated_at is None:
        hints.append(_signal_hint("mitigate", {"by": "your-name", "note": "what stopped the bleeding"}))
    if state.phase in (Phase.RESPONSE, Phase.RECOVERY):
        hints.append(_signal_hint("resolve", {"by": "your-name", "note": "root cause fixed"}))
        hints.append(_signal_hint("reclassify", {"by": "your-name", "severity": "SEV-2", "reason": "why"}))
    if state.phase in (Phase.RESPONSE, Phase.RECOVERY):
        hints.append(
            _signal_hint("post_update", {"by": "your-name", "text": "what changed", "audience": "internal"})
        )
        hints.append(_signal_hint("escalate", {"by": "your-name", "level": 2, "reason": "why"}))
    if state.regulatory.since and not state.regulatory.notified_by:
        hints.append(
            _signal_hint("record_regulatory_notification", {"by": "your-name", "reference": "case id"})
        )
    if state.phase is not Phase.CLOSED:
        hints.append(_signal_hint("add_note", {"by": "your-name", "text": "what you found"}))
    return hints


def render_details(state: IncidentState, upcoming: list[Deadline]) -> str:
    severity = state.severity.value if state.severity else "unclassified"
    lines = [
        f"## {severity} · {plain(state.cause.service or 'unknown service')} · {state.phase.value}",
        plain(state.cause.summary or ""),
        "",
    ]
    classification, response = state.lifecycle.classification, state.response
    if classification:
        reasons = "; ".join(plain(reason.explanation) for reason in classification.reasons)
        lines.append(f"**Why {severity}** ({plain(classification.decided_by)}): {reasons}")
    if state.policy_warning:
        lines.append(f"**Warning:** {plain(state.policy_warning)}")
    if response.paged:
        lines.append(f"**Paged:** {plain(', '.join(response.paged))}")
    if response.acknowledged_at:
        lines.append(
            f"**Acknowledged by:** {plain(response.acknowledged_by)} at {response.acknowledged_at:%H:%M:%S} UTC"
        )
    if response.roles:
        roles = ", ".join(f"{role.replace('_', ' ')}: {person}" for role, person in response.roles.items())
        lines.append(f"**Roles:** {plain(roles)}")
    if response.snoozed_until:
        lines.append(f"**Snoozed until** {response.snoozed_until:%Y-%m-%d %H:%M:%S} UTC")
    for index, deadline in enumerate(upcoming):
        targets = f" ({plain(', '.join(deadline.targets))})" if deadline.targets else ""
        label = "**Next:**" if index == 0 else "- then:"
        lines.append(f"{label} {deadline.description}{targets} at {deadline.due_at:%Y-%m-%d %H:%M:%S} UTC")
    hints = _expected_signals(state)
    if hints:
        lines += ["", "**Send a signal** (More Actions → Send a Signal, paste the JSON):", *hints]
    recent = state.timeline.recent[-RECENT_EVENTS:]
    if recent:
        lines += ["", "**Recent events**"]
        lines += [
            f"- {event.at:%H:%M:%S} {event.kind.value} · {plain(event.actor)}: {plain(event.summary)}"
            for event in recent
        ]
    return "\n".join(lines)
