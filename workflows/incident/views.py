"""Views of one state: the status query, the duty engine's facts, the facts templates read.

Functions of `IncidentState`, never copies kept beside it, so no view can drift from the state.
"""

from __future__ import annotations

from datetime import datetime

from workflows.escalation import EscalationFacts
from workflows.incident.state import IncidentState
from workflows.incident.wording import ack_hint
from workflows.messages.alerts import Impact
from workflows.messages.status import ActionView, Deadline, IncidentResult, IncidentStatus
from workflows.policy import Policy

# The status query shows this many recent events: a burst of signals between two archive calls must not
# make a query result near the 2 MB limit.
RECENT_SHOWN = 120


def duty_facts(state: IncidentState) -> EscalationFacts:
    severity, started = state.severity, state.lifecycle.response_started_at
    assert severity is not None and started is not None, "duties start with the response"
    response, cause = state.response, state.cause
    return EscalationFacts(
        severity=severity,
        impact=cause.impact,
        response_started_at=started,
        acknowledged=state.is_acknowledged,
        acknowledged_at=response.acknowledged_at,
        resolved_at=state.lifecycle.resolved_at,
        engaged_levels=response.engaged_levels,
        teams=cause.teams,
        cross_team_since=cause.cross_team_since,
        last_update_at=state.communications.last_update_at,
        snoozed_until=response.snoozed_until,
        regulatory_since=state.regulatory.since,
        regulatory_done=state.regulatory.notified_by is not None,
        manual_requests=response.manual_requests,
        posted_updates={update.index: (update.at, update.audience) for update in state.communications.unsent},
        done=set(response.duties_done),
        failed=response.duties_failed,
        status_slots_done=status_slots_done(state),
    )


def cadence_tag(state: IncidentState) -> str:
    """The anchor of the status-update cadence, as the duty engine names its slots."""
    anchor = state.communications.last_update_at or state.lifecycle.response_started_at
    return anchor.isoformat() if anchor else ""


def status_slots_done(state: IncidentState) -> int:
    tag, slots = state.response.status_cadence
    return slots if tag == cadence_tag(state) else 0


def status_view(state: IncidentState, upcoming: list[Deadline]) -> IncidentStatus:
    lifecycle, response, timeline = state.lifecycle, state.response, state.timeline
    return IncidentStatus(
        incident_id=state.incident_id,
        phase=lifecycle.phase,
        service=state.cause.service,
        summary=state.cause.summary,
        severity=state.severity,
        classification=lifecycle.classification,
        escalation_level=max(response.engaged_levels, default=0),
        roles=response.roles,
        paged=response.paged,
        acknowledged_by=response.acknowledged_by,
        acknowledged_at=response.acknowledged_at,
        acknowledged_by_alerts=response.acknowledged_by_alerts,
        mitigated_at=lifecycle.mitigated_at,
        resolved_by=lifecycle.resolved_by,
        next_deadline=upcoming[0] if upcoming else None,
        upcoming=upcoming,
        snoozed_until=response.snoozed_until,
        regulatory_deadline=regulatory_deadline(state),
        regulatory_notified_by=state.regulatory.notified_by,
        alert_count=state.cause.alert_count,
        repeated_alerts=state.cause.repeated_alerts,
        occurrence=state.occurrence,
        runs=state.runs,
        timeline=timeline.recent[-RECENT_SHOWN:],
        timeline_total=timeline.next_seq,
        event_counts={kind.value: count for kind, count in timeline.counts.items()},
        deliveries=state.deliveries,
        policy_warning=state.policy_warning,
        aftercare_workflow_id=lifecycle.aftercare_workflow_id,
        actions=action_views(state),
        automation_halted=halt_view(state),
        recovery=recovery_view(state),
    )


def halt_view(state: IncidentState) -> str | None:
    containment = state.containment
    return f"by {containment.halted_by}: {containment.halt_reason}" if containment.halted else None


def recovery_view(state: IncidentState) -> str | None:
    recovery = state.containment.recovery
    if recovery.status == "idle":
        return None
    detail = f" ({recovery.detail})" if recovery.status == "stalled" and recovery.detail else ""
    overridden = f" by {recovery.overridden_by}: {recovery.override_reason}" if recovery.overridden_by else ""
    return f"{recovery.status}{overridden}{detail}, traffic at {recovery.percent}%"


def action_views(state: IncidentState) -> list[ActionView]:
    return [
        ActionView(
            id=action.id,
            name=action.name,
            adapter=action.adapter or "human",
            risk=action.risk,
            state=action.state,
            requested_by=action.requested_by,
            requested_at=action.requested_at,
            approvals=action.approvals,
            result=action.result,
        )
        for action in state.containment.actions
    ]


def regulatory_deadline(state: IncidentState) -> datetime | None:
    if state.regulatory.since is None or state.policy is None:
        return None
    return state.regulatory.since + state.policy.regulatory.deadline


def result_view(state: IncidentState) -> IncidentResult:
    opened = state.lifecycle.opened_at

    def seconds_since_open(moment: datetime | None) -> float | None:
        return (moment - opened).total_seconds() if moment else None

    return IncidentResult(
        incident_id=state.incident_id,
        severity=state.severity,
        acknowledged_by=state.response.acknowledged_by,
        resolved_by=state.lifecycle.resolved_by,
        postmortem_path=state.lifecycle.postmortem_path,
        time_to_acknowledge_seconds=seconds_since_open(state.acknowledged_by_person_at),
        time_to_resolve_seconds=seconds_since_open(state.lifecycle.resolved_at),
        occurrence=state.occurrence,
        aftercare_workflow_id=state.lifecycle.aftercare_workflow_id,
        next_occurrence=bool(state.recurrences),
    )


def describe_impact(impact: Impact) -> str:
    parts: list[str] = []
    if impact.user_scope:
        parts.append(f"{impact.user_scope.replace('_', ' ')} users")
    if impact.users_affected is not None:
        parts.append(f"{impact.users_affected:,} users affected")
    if impact.revenue_per_hour is not None:
        parts.append(f"${impact.revenue_per_hour:,.0f}/h at risk")
    if impact.regions:
        parts.append(f"regions {', '.join(impact.regions)}")
    if impact.function:
        parts.append(f"{impact.function} function")
    flags = [("security breach", impact.security_breach), ("data corruption", impact.data_corruption),
             ("regulatory exposure", impact.regulatory)]  # fmt: skip
    parts += [name for name, present in flags if present]
    return "; ".join(parts)


def page_status(state: IncidentState) -> str:
    if state.is_resolved:
        return "resolved"
    if state.lifecycle.mitigated_at:
        return "monitoring"
    return "identified" if state.is_acknowledged else "investigating"


def template_facts(state: IncidentState, policy: Policy) -> dict[str, str]:
    """What message templates read. SEV-1/SEV-2 messages must carry impact, incident commander, bridge and
    the next update time, so these are computed for every notification."""
    response, lifecycle = state.response, state.lifecycle
    acknowledger = response.acknowledged_by if state.acknowledged_by_person_at else None
    facts = {
        "impact": describe_impact(state.cause.impact),
        "incident_commander": response.roles.get("incident_commander") or acknowledger or "",
        "bridge": policy.routing.bridge or "",
        "ack_hint": ack_hint(state.incident_id),
        "status_page_status": page_status(state),
        "acknowledged_by": response.acknowledged_by or "",
        "resolved_by": lifecycle.resolved_by or "",
        "postmortem_path": lifecycle.postmortem_path or "",
    }
    anchor = state.communications.last_update_at or lifecycle.response_started_at
    if state.severity and anchor and not state.is_resolved:
        cadence = policy.status_updates.every.get(state.severity)
        if cadence:
            facts["next_update_at"] = f"{anchor + cadence:%Y-%m-%d %H:%M} UTC"
    return {name: value for name, value in facts.items() if value}
