"""Temporal failures as one line a person can act on: which server, which incident or item, and the likely
fix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from workers.cli.errors import CliError
from workers.connect_errors import describe_connect_failure

T = TypeVar("T")


def run_against_temporal(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run one async operation; an RPC failure nobody translated becomes a message naming the server."""

    async def guarded() -> T:
        try:
            return await work()
        except RPCError as error:
            raise rpc_failure(error, settings) from None

    return asyncio.run(guarded())


def is_missing_workflow(error: RPCError) -> bool:
    """NOT_FOUND also means an unknown namespace; only a missing workflow is 'no such incident'."""
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" not in error.message.lower()


@dataclass(frozen=True)
class Subject:
    """What a workflow is to the person at the CLI, and the commands that find and show one."""

    noun: str
    listing: str
    showing: str

    def show(self, workflow_id: str) -> str:
        return f"{self.showing} {workflow_id}"


INCIDENT = Subject("incident", "warroom list", "warroom status")
ACTION_ITEM = Subject("action item", "warroom action-items list", "warroom action-items show")


def not_found(workflow_id: str, subject: Subject = INCIDENT) -> CliError:
    return CliError(f"no {subject.noun} '{workflow_id}' (try `{subject.listing}`)")


def already_closed(workflow_id: str, how: str, subject: Subject = INCIDENT) -> CliError:
    return CliError(
        f"{subject.noun} '{workflow_id}' is already closed ({how}); it takes no more commands. "
        f"See `{subject.show(workflow_id)}`"
    )


def no_worker_answered(workflow_id: str, what: str, seconds: float) -> CliError:
    return CliError(
        f"no worker answered the {what} of '{workflow_id}' within {seconds:.0f} s: is a warroom worker "
        f"running (`warroom run` or `warroom worker`) on the incident's task queue?"
    )


def unreachable(settings: Settings, reason: str) -> CliError:
    return CliError(
        f"cannot reach Temporal at {settings.temporal_address}: {reason}. Is `warroom run` running? "
        f"(set --address or WARROOM_TEMPORAL_ADDRESS to use another server)"
    )


def rpc_failure(error: RPCError, settings: Settings) -> CliError:
    if error.status is RPCStatusCode.UNAVAILABLE:
        return unreachable(settings, describe_connect_failure(error, settings.connection))
    if error.status is RPCStatusCode.NOT_FOUND:
        return CliError(f"{error.message} (namespace '{settings.namespace}' at {settings.temporal_address})")
    return CliError(
        f"Temporal at {settings.temporal_address} refused the request: {error.message} ({error.status.name})"
    )
