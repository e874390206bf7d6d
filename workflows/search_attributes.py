"""Search attributes that turn the Temporal Web UI into an incident console (registered by `warroom run`, the
tests and the compose setup). Action items carry their own, so `warroom action-items list` and the Web UI find
them by owner, status, due date, priority, incident and tracking link."""

from typing import Any

from temporalio.common import SearchAttributeKey

INCIDENT_PHASE = SearchAttributeKey.for_keyword("IncidentPhase")
INCIDENT_SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
INCIDENT_SERVICE = SearchAttributeKey.for_keyword("IncidentService")

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
    ACTION_ITEM_STATUS,
    ACTION_ITEM_OWNER,
    ACTION_ITEM_DUE,
    ACTION_ITEM_PRIORITY,
    ACTION_ITEM_INCIDENT,
    ACTION_ITEM_LINK,
]
