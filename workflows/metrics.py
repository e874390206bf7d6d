"""warroom's own metrics, named once: the worker-side series (workflows and activities) and their helpers.

Workflow code records through `workflow.metric_meter()`, which the SDK silences while a workflow replays, so
a counter moves once per real event however often a history is replayed (cache eviction, a new worker).
Activities record through `activity.metric_meter()`. Both end up on the worker's Prometheus endpoint beside
the SDK's `temporal_*` series (workers/metrics.py). The intake's series live in intake/metrics.py.

Most incident metrics are derived from the timeline (DESIGN rule 7): `observe_incident_event` is hooked into
the incident domain's `record`, so no phase of IncidentWorkflow has to remember to count. The approval and
action-item helpers are called by the workflows that own those events. docs/metrics.md lists every series.
"""

from __future__ import annotations

from temporalio import activity, workflow
from temporalio.common import MetricMeter

with workflow.unsafe.imports_passed_through():
    from workflows.incident.domain import SYSTEM
    from workflows.incident.state import IncidentState
    from workflows.messages.status import EventKind, TimelineEvent

# ------------------------------------------------------------------ names (counters get `_total` on export)

INCIDENTS_OPENED = "warroom_incidents_opened"
INCIDENTS_RESOLVED = "warroom_incidents_resolved"
ESCALATIONS = "warroom_escalations"
PAGES_SENT = "warroom_pages_sent"
PAGES_FAILED = "warroom_pages_failed"
PAGES_UNDELIVERED = "warroom_pages_undelivered"
TIME_TO_ACK = "warroom_time_to_ack_seconds"
TIME_TO_RESOLVE = "warroom_time_to_resolve_seconds"
APPROVALS_REQUESTED = "warroom_approvals_requested"
APPROVALS_DECIDED = "warroom_approvals_decided"
ACTION_ITEMS_OPENED = "warroom_action_items_opened"
ACTION_ITEMS_CLOSED = "warroom_action_items_closed"
ACTION_ITEMS_OVERDUE = "warroom_action_items_overdue"
HEARTBEAT_SILENCES = "warroom_heartbeat_silences"
HEARTBEAT_RESUMPTIONS = "warroom_heartbeat_resumptions"

# Seconds. A page is acked within minutes or escalates; a resolve takes minutes to days.
TIME_TO_ACK_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
TIME_TO_RESOLVE_BUCKETS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800)
HISTOGRAM_BUCKETS: dict[str, tuple[float, ...]] = {
    TIME_TO_ACK: TIME_TO_ACK_BUCKETS,
    TIME_TO_RESOLVE: TIME_TO_RESOLVE_BUCKETS,
}

DESCRIPTIONS = {
    INCIDENTS_OPENED: "incidents classified, by severity and the source that opened them",
    INCIDENTS_RESOLVED: "incidents resolved, by severity",
    ESCALATIONS: "escalation pages and human escalation requests, by level and who asked",
    PAGES_SENT: "notification attempts a channel accepted, by channel and kind",
    PAGES_FAILED: "notification attempts a channel failed, by channel, kind and error type",
    PAGES_UNDELIVERED: "notifications that failed on every channel of their route, by kind",
    TIME_TO_ACK: "seconds from an incident opening to its first acknowledgement, by severity",
    TIME_TO_RESOLVE: "seconds from an incident opening to its resolution, by severity",
    APPROVALS_REQUESTED: "containment actions that need an approval, by runbook action",
    APPROVALS_DECIDED: "approvals decided, by runbook action and outcome (granted, refused, timed_out)",
    ACTION_ITEMS_OPENED: "post-mortem action items opened, by team",
    ACTION_ITEMS_CLOSED: "post-mortem action items closed, by team",
    ACTION_ITEMS_OVERDUE: "post-mortem action items that passed their due date open, by team",
    HEARTBEAT_SILENCES: "alerting-pipeline heartbeats that went silent (the dead-man's switch paged), by source",
    HEARTBEAT_RESUMPTIONS: "silent alerting-pipeline heartbeats that came back, by source",
}


def _count(meter: MetricMeter, name: str, labels: dict[str, str], value: int = 1) -> None:
    meter.create_counter(name, DESCRIPTIONS[name]).add(value, labels)


def _seconds(meter: MetricMeter, name: str, labels: dict[str, str], seconds: float) -> None:
    meter.create_histogram_float(name, DESCRIPTIONS[name], "s").record(max(seconds, 0.0), labels)


# ------------------------------------------------------------------ incidents (workflow code)


def observe_incident_event(event: TimelineEvent, state: IncidentState) -> None:
    """Count what a timeline event means for the dashboards. Called for every event the domain records, so
    the common ones (an alert, a note) leave at once: an alert storm records thousands."""
    if event.kind not in _COUNTED_KINDS:
        return
    meter = workflow.metric_meter()
    severity = state.severity.value if state.severity else "unclassified"
    opened_at = state.lifecycle.opened_at
    if event.kind is EventKind.CLASSIFIED:
        _count(meter, INCIDENTS_OPENED, {"severity": severity, "source": incident_source(state)})
    elif event.kind is EventKind.ACKNOWLEDGED and state.acknowledged_by_person_at == event.at:
        _seconds(meter, TIME_TO_ACK, {"severity": severity}, (event.at - opened_at).total_seconds())
    elif event.kind is EventKind.RESOLVED and state.severity is not None:
        _count(meter, INCIDENTS_RESOLVED, {"severity": severity})
        _seconds(meter, TIME_TO_RESOLVE, {"severity": severity}, (event.at - opened_at).total_seconds())
    elif event.kind is EventKind.ESCALATED:
        level = event.details.get("level")
        by = "policy" if event.actor == SYSTEM else "human"
        _count(meter, ESCALATIONS, {"level": str(level) if level else "unknown", "by": by})
    elif event.kind is EventKind.DELIVERY and event.details.get("outcome") == "failed":
        _count(meter, PAGES_UNDELIVERED, {"kind": str(event.details.get("notification", "unknown"))})
    elif event.kind in (EventKind.ACTION, EventKind.APPROVAL):
        _observe_approval(event, state)


def _observe_approval(event: TimelineEvent, state: IncidentState) -> None:
    """Approvals of containment actions, from the events the containment domain records (issue 9)."""
    details = event.details
    action = next((a for a in state.containment.actions if a.id == details.get("action_id")), None)
    if action is None:
        return
    if event.kind is EventKind.ACTION and details.get("approval") == "timed_out":
        approval_timed_out(action.name)
    elif event.kind is EventKind.ACTION and details.get("state") == "awaiting_approval":
        approval_requested(action.name)  # proposed, and the runbook says it needs an approval
    elif details.get("decision") == "rejected":
        approval_refused(action.name)
    elif details.get("decision") == "approved" and action.state.value != "awaiting_approval":
        approval_granted(action.name)  # the last approval it needed (a two-person rule asks for two)


_COUNTED_KINDS = frozenset(
    {
        EventKind.CLASSIFIED,
        EventKind.ACKNOWLEDGED,
        EventKind.RESOLVED,
        EventKind.ESCALATED,
        EventKind.DELIVERY,
        EventKind.ACTION,
        EventKind.APPROVAL,
    }
)


def incident_source(state: IncidentState) -> str:
    """`declared`, or the source of the first alert still firing (alertmanager, grafana, ...)."""
    if state.cause.declared_by:
        return "declared"
    firing = state.cause.alerts.firing
    return firing[0].partition(":")[0] if firing else "alert"


# ------------------------------------------------------------------ approvals (workflow code, issue 9)
# Called by `observe_incident_event`, which reads them off the containment domain's timeline events.


def approval_requested(action: str) -> None:
    _count(workflow.metric_meter(), APPROVALS_REQUESTED, {"action": action})


def approval_granted(action: str) -> None:
    _count(workflow.metric_meter(), APPROVALS_DECIDED, {"action": action, "outcome": "granted"})


def approval_refused(action: str) -> None:
    _count(workflow.metric_meter(), APPROVALS_DECIDED, {"action": action, "outcome": "refused"})


def approval_timed_out(action: str) -> None:
    _count(workflow.metric_meter(), APPROVALS_DECIDED, {"action": action, "outcome": "timed_out"})


# ------------------------------------------------------------------ action items (workflow code, issue 10)
# Counters, not a gauge: each workflow knows only itself. Open now = opened - closed; the dashboard sums them.


def action_item_opened(team: str) -> None:
    _count(workflow.metric_meter(), ACTION_ITEMS_OPENED, {"team": team})


def action_item_closed(team: str) -> None:
    _count(workflow.metric_meter(), ACTION_ITEMS_CLOSED, {"team": team})


def action_item_overdue(team: str) -> None:
    _count(workflow.metric_meter(), ACTION_ITEMS_OVERDUE, {"team": team})


# ------------------------------------------------------------------ the dead-man's switch (workflow code)


def heartbeat_silent(source: str) -> None:
    _count(workflow.metric_meter(), HEARTBEAT_SILENCES, {"source": source})


def heartbeat_resumed(source: str) -> None:
    _count(workflow.metric_meter(), HEARTBEAT_RESUMPTIONS, {"source": source})


# ------------------------------------------------------------------ pages (activity code)


def page_sent(channel: str, kind: str) -> None:
    _count(activity.metric_meter(), PAGES_SENT, {"channel": channel, "kind": kind})


def page_failed(channel: str, kind: str, error_type: str) -> None:
    _count(activity.metric_meter(), PAGES_FAILED, {"channel": channel, "kind": kind, "error": error_type})
