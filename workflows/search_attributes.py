"""Search attributes that turn the Temporal Web UI into an incident console (registered by `warroom run`)."""

from temporalio.common import SearchAttributeKey

INCIDENT_PHASE = SearchAttributeKey.for_keyword("IncidentPhase")
INCIDENT_SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
INCIDENT_SERVICE = SearchAttributeKey.for_keyword("IncidentService")

ALL_SEARCH_ATTRIBUTES = [INCIDENT_PHASE, INCIDENT_SEVERITY, INCIDENT_SERVICE]
