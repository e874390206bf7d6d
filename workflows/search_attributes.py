"""Search attributes that turn the Temporal Web UI into an incident console (registered by `warroom run`, the
tests and the compose setup). Action items carry their own, so `warroom action-items list` and the Web UI find
them by owner, status, due date, priority, incident and tracking link.

The measures (MTTA, MTTR, false positive) are set once known, so `warroom report` and the Web UI can count and
aggregate incidents from visibility alone: `IncidentMttaSeconds > 900 AND IncidentSeverity = "SEV-1"`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

if TYPE_CHECKING:
    from workflows.incident.state import IncidentState

INCIDENT_PHASE = SearchAttributeKey.for_keyword("IncidentPhase")
INCIDENT_SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
INCIDENT_SERVICE = SearchAttributeKey.for_keyword("IncidentService")
INCIDENT_MTTA = SearchAttributeKey.for_float("IncidentMttaSeconds")
INCIDENT_MTTR = SearchAttributeKey.for_float("IncidentMttrSeconds")
INCIDENT_FALSE_POSITIVE = SearchAttributeKey.for_bool("IncidentFalsePositive")

ACTION_ITEM_STATUS = SearchAttributeKey.for_keyword("ActionItemStatus")
ACTION_ITEM_OWNER = SearchAttributeKey.for_keyword("ActionItemOwner")
ACTION_ITEM_DUE = SearchAttributeKey.for_datetime("ActionItemDue")
ACTION_ITEM_PRIORITY = SearchAttributeKey.for_keyword("ActionItemPriority")
ACTION_ITEM_INCIDENT = SearchAttributeKey.for_keyword("ActionItemIncident")
ACTION_ITEM_LINK = SearchAttributeKey.for_keyword("ActionItemLink")

ALL_SEARCH_ATTRIBUTES: list[SearchAttributeKey[Any]] = [
    INCIDENT_PHASE,
    INCIDENT_SEVERITY,
    INCIDENT_SERVICE,
    INCIDENT_MTTA,
    INCIDENT_MTTR,
    INCIDENT_FALSE_POSITIVE,
    ACTION_ITEM_STATUS,
    ACTION_ITEM_OWNER,
    ACTION_ITEM_DUE,
    ACTION_ITEM_PRIORITY,
    ACTION_ITEM_INCIDENT,
    ACTION_ITEM_LINK,
]


def search_measures(state: IncidentState) -> list[SearchAttributeUpdate[Any]]:
    """MTTA and MTTR in seconds from the occurrence's open, and whether it was noise, once each is known."""
    opened = state.lifecycle.opened_at
    updates: list[SearchAttributeUpdate[Any]] = []
    acknowledged_at = state.acknowledged_by_person_at  # the alerts resolving acknowledges nobody's response
    if acknowledged_at is not None:
        updates.append(INCIDENT_MTTA.value_set((acknowledged_at - opened).total_seconds()))
    if state.lifecycle.resolved_at is not None:
        updates.append(INCIDENT_MTTR.value_set((state.lifecycle.resolved_at - opened).total_seconds()))
        request = state.lifecycle.resolve_request
        updates.append(INCIDENT_FALSE_POSITIVE.value_set(bool(request and request.false_positive)))
    return updates
