"""How the CLI reaches an incident: connect, read its `status` query, tell a missing incident from a closed one.

Names, not imports of workflows.incident: the CLI stays light (no workflow sandbox, activities, adapters).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from workers.cli.errors import CliError
from workers.cli.temporal_errors import (
    closed_incident,
    is_missing_workflow,
    no_incident,
    no_worker_answered,
    unreachable,
)
from workers.client import connect
from workers.dev_stack import transport_reason
from workflows.messages.status import IncidentStatus

INCIDENT_WORKFLOW_TYPE = "IncidentWorkflow"
STATUS_QUERY = "status"
QUERY_TIMEOUT = timedelta(seconds=5)


async def connect_to_temporal(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as error:  # how the SDK reports "Failed client connect"
        raise unreachable(settings, transport_reason(error)) from None


async def query_status(handle: WorkflowHandle[Any, Any]) -> IncidentStatus:
    try:
        result: IncidentStatus = await handle.query(
            STATUS_QUERY, result_type=IncidentStatus, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        if is_missing_workflow(error):
            raise no_incident(handle.id) from None
        if error.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
            raise no_worker_answered(handle.id, "status query", QUERY_TIMEOUT.total_seconds()) from None
        raise
    except WorkflowQueryFailedError as error:
        raise CliError(f"the status query of '{handle.id}' failed: {error}") from None
    return result


async def missing_or_closed(handle: WorkflowHandle[Any, Any]) -> CliError:
    """A command to a closed workflow fails like one to a missing one; tell them apart for the human."""
    try:
        description = await handle.describe()
    except RPCError as error:
        if is_missing_workflow(error):
            return no_incident(handle.id)
        raise
    return closed_incident(handle.id, description.status.name.lower() if description.status else "closed")
