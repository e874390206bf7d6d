"""How the CLI reaches an incident: connect, read its `status` query, tell a missing incident from a closed one.

Names, not imports of workflows.incident: the CLI stays light (no workflow sandbox, activities, adapters).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from workers.cli.errors import CliError
from workers.cli.temporal_errors import (
    INCIDENT,
    Subject,
    already_closed,
    is_missing_workflow,
    no_worker_answered,
    not_found,
    unreachable,
)
from workers.client import connect
from workers.dev_stack import transport_reason
from workflows.messages.status import IncidentResult, IncidentStatus

INCIDENT_WORKFLOW_TYPE = "IncidentWorkflow"
STATUS_QUERY = "status"
QUERY_TIMEOUT = timedelta(seconds=5)

R = TypeVar("R")


async def connect_to_temporal(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as error:  # how the SDK reports "Failed client connect"
        raise unreachable(settings, transport_reason(error, settings.connection)) from None


async def query_status(handle: WorkflowHandle[Any, Any]) -> IncidentStatus:
    return await _query(handle, STATUS_QUERY, IncidentStatus, "status query")


async def aftercare_of(client: Client, workflow_id: str) -> str | None:
    """The aftercare workflow of a closed incident (its result names it), or None while it runs."""
    handle = client.get_workflow_handle(workflow_id, result_type=IncidentResult)
    try:
        description = await handle.describe()
        if description.status is None or description.status.name == "RUNNING":
            return None
        result = await handle.result()
    except (RPCError, WorkflowFailureError):
        return None  # missing, failed or terminated: the command goes to the incident and says why
    return result.aftercare_workflow_id


async def _query(handle: WorkflowHandle[Any, Any], name: str, result_type: type[R], what: str) -> R:
    try:
        result: R = await handle.query(name, result_type=result_type, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if is_missing_workflow(error):
            raise not_found(handle.id) from None
        if error.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
            raise no_worker_answered(handle.id, what, QUERY_TIMEOUT.total_seconds()) from None
        raise
    except WorkflowQueryFailedError as error:
        raise CliError(f"the {what} of '{handle.id}' failed: {error}") from None
    return result


async def missing_or_closed(handle: WorkflowHandle[Any, Any], subject: Subject = INCIDENT) -> CliError:
    """A command to a closed workflow fails like one to a missing one; tell them apart for the human."""
    try:
        description = await handle.describe()
    except RPCError as error:
        if is_missing_workflow(error):
            return not_found(handle.id, subject)
        raise
    how = description.status.name.lower() if description.status else "closed"
    return already_closed(handle.id, how, subject)
