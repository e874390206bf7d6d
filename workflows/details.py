"""The Markdown a human sees in the Web UI's "User Metadata" panel: state, next deadline, what to paste."""

from __future__ import annotations

import json

from workflows.markdown import plain
from workflows.messages import Phase
from workflows.state import IncidentState

RECENT_EVENTS = 8


def _signal_hint(signal: str, example: dict[str, object]) -> str:
    return f"- `{signal}`: `{json.dumps(example)}`"


def _expected_signals(state: IncidentState) -> list[str]:
    hints: list[str] = []
    if state.phase in (Phase.CLASSIFICATION, Phase.RESPONSE) and not state.is_acknowledged:
        hints.append(_signal_hint("acknowledge", {"by": "your-name"}))
    if state.phase in (Phase.RESPONSE, Phase.CLASSIFICATION) and state.mitigated_at is None:
        hints.append(_signal_hint("mitigate", {"by": "your-name", "note": "what stopped the bleeding"}))
    if state.phase in (Phase.RESPONSE, Phase.RECOVERY):
        hints.append(_signal_hint("resolve", {"by": "your-name", "note": "root cause fixed"}))
        hints.append(_signal_hint("reclassify", {"by": "your-name", "severity": "SEV-2", "reason": "why"}))
    if state.phase is not Phase.CLOSED:
        hints.append(_signal_hint("add_note", {"by": "your-name", "text": "what you found"}))
    return hints


def render_details(state: IncidentState) -> str:
    severity = state.severity.value if state.severity else "unclassified"
    lines = [
        f"## {severity} · {plain(state.service or 'unknown service')} · {state.phase.value}",
        plain(state.summary or ""),
        "",
    ]
    if state.classification:
        reasons = "; ".join(plain(reason.explanation) for reason in state.classification.reasons)
        lines.append(f"**Why {severity}** ({plain(state.classification.decided_by)}): {reasons}")
    if state.paged:
        lines.append(f"**Paged:** {plain(', '.join(state.paged))}")
    if state.acknowledged_at:
        lines.append(
            f"**Acknowledged by:** {plain(state.acknowledged_by)} at {state.acknowledged_at:%H:%M:%S} UTC"
        )
    if state.next_deadline:
        deadline = state.next_deadline
        targets = f" ({plain(', '.join(deadline.targets))})" if deadline.targets else ""
        lines.append(f"**Next:** {deadline.description}{targets} at {deadline.due_at:%Y-%m-%d %H:%M:%S} UTC")
    hints = _expected_signals(state)
    if hints:
        lines += ["", "**Send a signal** (More Actions → Send a Signal, paste the JSON):", *hints]
    recent = state.timeline[-RECENT_EVENTS:]
    if recent:
        lines += ["", "**Recent events**"]
        lines += [
            f"- {event.at:%H:%M:%S} {event.kind.value} · {plain(event.actor)}: {plain(event.summary)}"
            for event in recent
        ]
    return "\n".join(lines)
