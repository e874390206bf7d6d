"""How the CLI shows incidents to a human at a terminal: the status view and the list table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from temporalio.client import WorkflowExecution

from workflows.messages.action_items import REVIEW_WORKFLOW_PREFIX
from workflows.messages.status import ActionState, IncidentStatus
from workflows.search_attributes import INCIDENT_PHASE, INCIDENT_SERVICE, INCIDENT_SEVERITY

RECENT_EVENTS = 10
# Event kinds a person counts at a glance (the rest are in the timeline).
COUNTED = ("note", "paged", "escalated", "status_update", "rejected")


def render_status(incident: IncidentStatus) -> str:
    severity = incident.severity.value if incident.severity else "unclassified"
    lines = [
        f"{incident.incident_id}  ·  {severity}  ·  {incident.phase.value}",
        f"{incident.service or 'unknown service'}: {incident.summary or ''}",
    ]
    if incident.classification:
        reasons = "; ".join(reason.explanation for reason in incident.classification.reasons)
        lines.append(f"severity:  {severity} (decided by {incident.classification.decided_by}): {reasons}")
    lines.append(
        f"paged:     {', '.join(incident.paged) if incident.paged else 'nobody yet'}"
        + (f" (escalation level {incident.escalation_level})" if incident.escalation_level else "")
    )
    if incident.acknowledged_by:
        lines.append(f"acked:     by {incident.acknowledged_by} at {_when(incident.acknowledged_at)}")
    else:
        lines.append("acked:     not yet")
    if incident.mitigated_at:
        lines.append(f"mitigated: at {_when(incident.mitigated_at)}")
    if incident.resolved_by:
        lines.append(f"resolved:  by {incident.resolved_by}")
    if incident.roles:
        lines.append("roles:     " + ", ".join(f"{role} {person}" for role, person in incident.roles.items()))
    if incident.snoozed_until:
        lines.append(f"snoozed:   until {_when(incident.snoozed_until)}")
    if incident.regulatory_deadline:
        done = (
            f"recorded by {incident.regulatory_notified_by}" if incident.regulatory_notified_by else "NOT yet"
        )
        lines.append(f"regulator: notify by {_when(incident.regulatory_deadline)} ({done})")
    upcoming = incident.upcoming or ([incident.next_deadline] if incident.next_deadline else [])
    for index, deadline in enumerate(upcoming):
        label = "next:" if index == 0 else "then:"
        targets = f" -> {', '.join(deadline.targets)}" if deadline.targets else ""
        lines.append(
            f"{label:<10} {deadline.description}{targets} at {_when(deadline.due_at)} "
            f"({_relative(deadline.due_at)})"
        )
    lines += _action_lines(incident)
    if incident.policy_warning:
        lines.append(f"WARNING:   {incident.policy_warning}")
    if incident.aftercare_workflow_id and incident.aftercare_workflow_id.startswith(REVIEW_WORKFLOW_PREFIX):
        lines.append(
            f"post-mortem review: {incident.aftercare_workflow_id} (and duties after resolution; "
            f"warroom postmortem complete {incident.incident_id} --items FILE.yaml)"
        )
    elif incident.aftercare_workflow_id:  # incidents resolved before the review existed
        lines.append(f"aftercare: {incident.aftercare_workflow_id} (duties after resolution)")
    counts = ", ".join(
        f"{count} {kind}" for kind, count in sorted(incident.event_counts.items()) if kind in COUNTED
    )
    lines.append(
        f"activity:  {incident.alert_count} alerts ({incident.repeated_alerts} repeats dropped)"
        + (f", {counts}" if counts else "")
        + (f"; run {incident.runs} of this occurrence" if incident.runs > 1 else "")
    )
    recent = incident.timeline[-RECENT_EVENTS:]
    total = max(incident.timeline_total, len(incident.timeline))
    lines.append(f"timeline (last {len(recent)} of {total} events):")
    lines += [
        f"  {_when(event.at)}  {event.kind.value:<17} {event.actor:<12} {event.summary}" for event in recent
    ]
    return "\n".join(lines)


def _action_lines(incident: IncidentStatus) -> list[str]:
    """Pending approvals first, each with the command that decides it; then the other actions, briefly."""
    lines: list[str] = []
    if incident.automation_halted:
        lines.append(
            f"HALTED:    automation {incident.automation_halted} (warroom resume {incident.incident_id} --by YOU)"
        )
    if incident.recovery:
        lines.append(f"recovery:  {incident.recovery}")
    pending = [action for action in incident.actions if action.state is ActionState.AWAITING_APPROVAL]
    for action in pending:
        approved = [a.by for a in action.approvals if a.decision == "approved"]
        so_far = f", approved so far by {', '.join(approved)}" if approved else ""
        lines.append(
            f"APPROVE?   {action.id} {action.name} ({action.adapter}, {action.risk}) requested by "
            f"{action.requested_by}{so_far}"
        )
        lines.append(f"           warroom approve {incident.incident_id} {action.id} --by YOU")
        lines.append(
            f'           warroom reject {incident.incident_id} {action.id} --by YOU --reason "why not"'
        )
    others = [action for action in incident.actions if action.state is not ActionState.AWAITING_APPROVAL]
    if others:
        lines.append("actions:   " + "; ".join(f"{a.id} {a.name} {a.state.value}" for a in others))
    return lines


def render_table(executions: Iterable[WorkflowExecution]) -> str:
    header = ("ID", "PHASE", "SEVERITY", "SERVICE", "STARTED (UTC)")
    rows = [
        (
            execution.id,
            execution.typed_search_attributes.get(INCIDENT_PHASE) or "-",
            execution.typed_search_attributes.get(INCIDENT_SEVERITY) or "-",
            execution.typed_search_attributes.get(INCIDENT_SERVICE) or "-",
            execution.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )
        for execution in executions
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _relative(moment: datetime) -> str:
    seconds = int((moment - datetime.now(UTC)).total_seconds())
    minutes, rest = divmod(abs(seconds), 60)
    span = f"{minutes}m {rest}s" if minutes else f"{rest}s"
    return f"in {span}" if seconds >= 0 else f"{span} overdue"
