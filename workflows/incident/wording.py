"""Every subject and body a person reads, in one place. Pure: state in, words out.

Subjects carry the severity tag once (`[SEV-1] checkout: ...`); adapters add no tag of their own. Bodies
never repeat the subject or the ack hint: the templates place the hint (`facts["ack_hint"]`) themselves.
"""

from __future__ import annotations

from workflows.containment.records import ActionRecord
from workflows.incident.state import IncidentState, PostedUpdate


def severity_label(state: IncidentState) -> str:
    return state.severity.value if state.severity else "SEV-?"


def headline(state: IncidentState) -> str:
    return f"{state.cause.service or 'incident'}: {state.cause.summary or ''}".rstrip(": ")


def page_subject(state: IncidentState) -> str:
    return f"[{severity_label(state)}] {headline(state)}"


def duty_subject(state: IncidentState, description: str) -> str:
    return f"[{severity_label(state)}] {state.cause.service or 'incident'}: {description}"


def ack_hint(incident_id: str) -> str:
    return (
        f"Acknowledge: warroom ack {incident_id} --by <you> "
        f'(or signal \'acknowledge\' with {{"by": "<you>"}})'
    )


def page_body(description: str) -> str:
    return f"Why you: {description}."


def situation_body(state: IncidentState) -> str:
    phase = "resolved" if state.is_resolved else state.phase.value
    who = state.response.acknowledged_by or "nobody yet"
    return f"{state.cause.summary or ''}\nPhase: {phase}. Acknowledged by: {who}.".lstrip()


def update_body(update: PostedUpdate) -> str:
    return f"Status update from {update.by}: {update.text}"


def resolution_subject(state: IncidentState) -> str:
    return f"[RESOLVED] {headline(state)}"


def resolution_body(state: IncidentState) -> str:
    return f"Resolved by {state.lifecycle.resolved_by}."


def postmortem_subject(state: IncidentState) -> str:
    return f"[POST-MORTEM] {headline(state)}"


POSTMORTEM_BODY = "Review the draft and add the timeline's missing context before the review meeting."


def health_gate_stuck_subject(state: IncidentState) -> str:
    return f"[{severity_label(state)}] {state.cause.service or 'incident'}: alerts resolved, health gate still failing"


def health_gate_stuck_body(refusals: int, detail: str) -> str:
    return (
        f"Every alert of this incident resolved, but the health gate failed {refusals} times in a row "
        f"({detail}). warroom keeps probing. Resolve by hand with force if the service is healthy."
    )


# ---------------------------------------------------------------------- containment and recovery


def _params(action: ActionRecord) -> str:
    return ", ".join(f"{key}={value}" for key, value in action.params.items()) or "no parameters"


def approval_subject(state: IncidentState, action: ActionRecord) -> str:
    return (
        f"[{severity_label(state)}] {state.cause.service or 'incident'}: approve {action.name} ({action.id})?"
    )


def approval_body(state: IncidentState, action: ActionRecord) -> str:
    two = " It needs two people: the requester cannot approve it alone." if action.two_person else ""
    return (
        f"{action.requested_by} asks to run {action.name} ({action.adapter}/{action.operation}: {_params(action)})"
        f"{f' because {action.reason}' if action.reason else ''}.{two}\n"
        f"Approve: warroom approve {state.incident_id} {action.id} --by <you>\n"
        f'Reject:  warroom reject {state.incident_id} {action.id} --by <you> --reason "why not"\n'
        f'Or signal approve_action / reject_action with {{"by": "<you>", "action_id": "{action.id}"}}'
    )


def task_subject(state: IncidentState, action: ActionRecord) -> str:
    return f"[{severity_label(state)}] {state.cause.service or 'incident'}: task for you: {action.name}"


def task_body(state: IncidentState, action: ActionRecord) -> str:
    return (
        f"A human-only task ({', '.join(action.owners)}); warroom tracks it and never executes it. When done: "
        f'signal complete_task with {{"by": "<you>", "action_id": "{action.id}"}}'
    )


def recovery_failed_subject(state: IncidentState) -> str:
    return f"[{severity_label(state)}] {state.cause.service or 'incident'}: phased recovery rolled back"


def recovery_failed_body(percent: int, back_to: int, detail: str, incident_id: str) -> str:
    return (
        f"The health gate failed at {percent}% of traffic ({detail}); traffic is back at {back_to}%. "
        f"Fix and send override_recovery with a reason, or keep investigating: warroom status {incident_id}"
    )
