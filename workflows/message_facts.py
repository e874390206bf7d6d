"""The facts a message template needs, read from the incident's state (pure: `now` is passed in).

SEV-1/SEV-2 messages must carry impact, incident commander, bridge and next update time, so these are
computed for every notification; callers of `_notify` may add or override any of them."""

from __future__ import annotations

from datetime import datetime

from workflows.messages.alerts import Impact
from workflows.policy import Policy
from workflows.state import IncidentState


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
    if state.resolved_at:
        return "resolved"
    if state.mitigated_at:
        return "monitoring"
    return "identified" if state.is_acknowledged else "investigating"


def incident_facts(state: IncidentState, policy: Policy, now: datetime) -> dict[str, str]:
    facts = {
        "impact": describe_impact(state.impact),
        "incident_commander": state.roles.get("incident_commander") or state.acknowledged_by or "",
        "bridge": policy.routing.bridge or "",
        "ack_hint": (
            f"Acknowledge: warroom ack {state.incident_id} --by <you> "
            f'(or signal \'acknowledge\' with {{"by": "<you>"}})'
        ),
        "status_page_status": page_status(state),
        "acknowledged_by": state.acknowledged_by or "",
        "resolved_by": state.resolved_by or "",
        "postmortem_path": state.postmortem_path or "",
    }
    anchor = state.last_update_at or state.response_started_at
    if state.severity and anchor and not state.resolved_at:
        cadence = policy.status_updates.every.get(state.severity)
        if cadence:
            facts["next_update_at"] = f"{anchor + cadence:%Y-%m-%d %H:%M} UTC"
    return {name: value for name, value in facts.items() if value}
