"""Read incidents and action items from Temporal: visibility for the list and the measures, the `status`
query for what only the incident knows (pages, escalation level, alert sources, approvals). No database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecution
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError

from workers.reports.aggregate import ActionItemRecord, IncidentRecord
from workflows.messages.common import Severity
from workflows.messages.status import EventKind, IncidentStatus
from workflows.postmortem_facts import approval_waits, is_page
from workflows.search_attributes import (
    INCIDENT_FALSE_POSITIVE,
    INCIDENT_MTTA,
    INCIDENT_MTTR,
    INCIDENT_SERVICE,
    INCIDENT_SEVERITY,
)

INCIDENT_WORKFLOW_TYPE = "IncidentWorkflow"
QUERY_TIMEOUT = timedelta(seconds=5)
MAX_INCIDENTS = 2000  # a report over more reads visibility only for the rest (counted as not queried)
QUERIED_AT_ONCE = 8
# The action-item workflows (issue 10's other half) register these; a namespace without them has no items.
ACTION_ITEM_ATTRIBUTES = ("ActionItemStatus", "ActionItemOwner", "ActionItemDue", "ActionItemPriority")
# Running items only: a done or cancelled item's workflow has completed.
ACTION_ITEMS_QUERY = "WorkflowType = 'ActionItemWorkflow' AND ExecutionStatus = 'Running'"
ACTION_ITEM_STATUS = SearchAttributeKey.for_keyword("ActionItemStatus")
ACTION_ITEM_OWNER = SearchAttributeKey.for_keyword("ActionItemOwner")
ACTION_ITEM_PRIORITY = SearchAttributeKey.for_keyword("ActionItemPriority")
ACTION_ITEM_DUE = SearchAttributeKey.for_datetime("ActionItemDue")


def quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def incidents_query(since: datetime, service: str | None) -> str:
    clauses = [f"WorkflowType = '{INCIDENT_WORKFLOW_TYPE}'", f"StartTime >= '{since.isoformat()}'"]
    if service:
        clauses.append(f"{INCIDENT_SERVICE.name} = {quoted(service)}")
    return " AND ".join(clauses)


async def retention(client: Client) -> timedelta | None:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    ttl = described.config.workflow_execution_retention_ttl
    return timedelta(seconds=ttl.seconds) if ttl.seconds else None


async def read_incidents(client: Client, since: datetime, service: str | None) -> list[IncidentRecord]:
    executions = [
        execution
        async for execution in client.list_workflows(incidents_query(since, service), limit=MAX_INCIDENTS)
    ]
    gate = asyncio.Semaphore(QUERIED_AT_ONCE)

    async def one(execution: WorkflowExecution, query: bool) -> tuple[IncidentRecord, int]:
        async with gate:
            status = await _status(client, execution) if query else None
        return record_of(execution, status), (status.runs if status else 0)

    records = await asyncio.gather(
        *(one(execution, index < MAX_INCIDENTS) for index, execution in enumerate(executions))
    )
    return one_per_occurrence(records)


def one_per_occurrence(records: list[tuple[IncidentRecord, int]]) -> list[IncidentRecord]:
    """A long incident's runs (continue-as-new) are one occurrence: keep its latest run, from its first start."""
    chosen: dict[str, tuple[IncidentRecord, int]] = {}
    first_start: dict[str, datetime] = {}
    for record, runs in records:
        key = record.occurrence
        first_start[key] = min(first_start.get(key, record.started_at), record.started_at)
        if key not in chosen or runs > chosen[key][1]:
            chosen[key] = (record, runs)
    return [
        IncidentRecord(**{**record.__dict__, "started_at": first_start[key]})
        for key, (record, _) in chosen.items()
    ]


async def _status(client: Client, execution: WorkflowExecution) -> IncidentStatus | None:
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    try:
        status: IncidentStatus = await handle.query(
            "status", result_type=IncidentStatus, rpc_timeout=QUERY_TIMEOUT
        )
    except Exception:  # no worker, a failed run, a query error: the record keeps what visibility knows
        return None
    return status


def record_of(execution: WorkflowExecution, status: IncidentStatus | None) -> IncidentRecord:
    attributes = execution.typed_search_attributes
    severity = attributes.get(INCIDENT_SEVERITY)
    sources: dict[str, int] = {}
    waits: list[float] = []
    if status is not None:
        for event in status.timeline:
            if event.kind is EventKind.ALERT and not event.details.get("recurrence"):
                sources[event.actor] = sources.get(event.actor, 0) + 1
        resolved = next((event.at for event in status.timeline if event.kind is EventKind.RESOLVED), None)
        waits = [
            w.waited_seconds for w in approval_waits(status.actions, resolved) if w.waited_seconds is not None
        ]
    return IncidentRecord(
        workflow_id=execution.id,
        occurrence=(status.occurrence if status and status.occurrence else execution.run_id or execution.id),
        service=attributes.get(INCIDENT_SERVICE) or (status.service if status else None),
        severity=Severity(severity) if severity in set(Severity) else None,
        started_at=execution.start_time,
        mtta_seconds=attributes.get(INCIDENT_MTTA),
        mttr_seconds=attributes.get(INCIDENT_MTTR),
        false_positive=bool(attributes.get(INCIDENT_FALSE_POSITIVE)),
        pages=pages_of(status) if status else 0,
        escalation_level=status.escalation_level if status else 0,
        alert_sources=sources,
        approval_waits=waits,
        queried=status is not None,
    )


async def read_action_items(client: Client) -> tuple[list[ActionItemRecord] | None, str | None]:
    """The items, or None and why not: a namespace without the ActionItem* attributes has no item workflows."""
    registered = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = [name for name in ACTION_ITEM_ATTRIBUTES if name not in registered.custom_attributes]
    if missing:
        return None, (
            f"search attribute(s) {', '.join(missing)} are not registered in namespace '{client.namespace}': "
            "no action-item workflows can be found, so action items count as zero"
        )
    due_is_datetime = (
        registered.custom_attributes["ActionItemDue"] == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
    )
    items = []
    try:
        async for execution in client.list_workflows(ACTION_ITEMS_QUERY, limit=MAX_INCIDENTS):
            items.append(_item_of(execution.typed_search_attributes, due_is_datetime))
    except RPCError as error:
        return None, f"action items could not be listed: {error.message}"
    return items, None


def _item_of(attributes: Any, due_is_datetime: bool) -> ActionItemRecord:
    due = attributes.get(ACTION_ITEM_DUE) if due_is_datetime else None
    return ActionItemRecord(
        owner=attributes.get(ACTION_ITEM_OWNER),
        priority=attributes.get(ACTION_ITEM_PRIORITY),
        status=attributes.get(ACTION_ITEM_STATUS),
        due=due,
    )


def pages_of(status: IncidentStatus) -> int:
    """Pages sent: the first page and every escalation page. Exact from the timeline when the status still
    carries all of it; for a long incident (older events archived) from the per-kind counts, which also count a
    human's `escalate` request."""
    if status.timeline_total <= len(status.timeline):
        return sum(1 for event in status.timeline if is_page(event))
    return status.event_counts.get(EventKind.PAGED.value, 0) + status.event_counts.get(
        EventKind.ESCALATED.value, 0
    )
