"""The Markdown a human sees in the Web UI's "User Metadata" panel: state, next deadline, what to paste."""

from __future__ import annotations

import json

from workflows.incident.state import IncidentState
from workflows.markdown import plain
from workflows.messages.common import Phase
from workflows.messages.status import ActionState, Deadline

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
    if state.phase in (Phase.RESPONSE, Phase.RECOVERY) and state.containment.runbook:
        runbook = state.policy.containment.named(state.containment.runbook) if state.policy else None
        names = [action.name for action in runbook.actions] if runbook else []
        example = names[0] if names else "name"
        hints.append(_signal_hint("propose_action", {"by": "your-name", "action": example, "reason": "why"}))
        if names:
            hints.append(
                f"  (runbook '{plain(state.containment.runbook)}' offers: {plain(', '.join(names))})"
            )
    if state.phase in (Phase.RESPONSE, Phase.RECOVERY) and not state.containment.halted:
        hints.append(_signal_hint("halt_automation", {"by": "your-name", "reason": "why"}))
    if state.phase is not Phase.CLOSED:
        hints.append(_signal_hint("add_note", {"by": "your-name", "text": "what you found"}))
    return hints


def _containment_lines(state: IncidentState) -> list[str]:
    """Each pending approval with the exact JSON to paste, open human-only tasks, the stop and recovery."""
    containment = state.containment
    lines: list[str] = []
    if containment.halted:
        lines.append(
            f"**AUTOMATION HALTED** by {plain(containment.halted_by)}: {plain(containment.halt_reason)}; "
            f"resume with `resume_automation` `{json.dumps({'by': 'your-name', 'reason': 'why'})}`"
        )
    pending = [a for a in containment.actions if a.state is ActionState.AWAITING_APPROVAL]
    if pending:
        lines += ["", "**Awaiting approval** (Send a Signal `approve_action` or `reject_action`):"]
    for action in pending:
        params = plain(", ".join(f"{k}={v}" for k, v in action.params.items()))
        two = " · two people" if action.two_person else ""
        due = f" · decide by {action.ask_deadline:%H:%M:%S} UTC" if action.ask_deadline else ""
        lines.append(f"- {action.id} **{plain(action.name)}** ({plain(action.adapter)}/{plain(action.operation)}"
                     f"{': ' + params if params else ''}){two}{due}")  # fmt: skip
        lines.append(
            f"  - approve: `{json.dumps({'by': 'your-name', 'action_id': action.id, 'reason': 'why'})}`"
        )
        lines.append(
            f"  - reject: `{json.dumps({'by': 'your-name', 'action_id': action.id, 'reason': 'why not'})}`"
        )
    tasks = [a for a in containment.actions if a.is_task and a.state is ActionState.RUNNING]
    if tasks:
        lines += ["", "**Human-only tasks** (Send a Signal `complete_task` when done):"]
    for task in tasks:
        lines.append(f"- {task.id} **{plain(task.name)}** for {plain(', '.join(task.owners))}: "
                     f"`{json.dumps({'by': 'your-name', 'action_id': task.id})}`")  # fmt: skip
    others = [a for a in containment.actions if a not in pending and a not in tasks]
    if others:
        lines += [
            "",
            "**Actions:** " + "; ".join(f"{a.id} {plain(a.name)} {a.state.value}" for a in others[-8:]),
        ]
    recovery = containment.recovery
    if recovery.status != "idle":
        stalled = f" ({plain(recovery.detail)})" if recovery.status == "stalled" else ""
        lines.append(f"**Recovery:** {recovery.status}{stalled}, traffic at {recovery.percent}%")
        if recovery.status == "stalled":
            lines.append(
                f"  - override: `override_recovery` `{json.dumps({'by': 'your-name', 'reason': 'why'})}`"
            )
    return lines


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
    lines += _containment_lines(state)
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
