"""The CLI's update path: a command answered at once with a `CommandVerdict`, a validator's rejection shown
with its reason and exit 1.

IncidentWorkflow on this branch declares no updates yet (the CLI then signals, as test_commands.py shows), so
these tests steer a stand-in that implements exactly the update contract of issue 8 for `acknowledge` and
nothing else: same name as the signal, the `Acknowledge` model in, a `CommandVerdict` out, a validator that
rejects. It runs on the session dev server under a real worker; the `warroom` process does not know it is
not an incident.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.cli.conftest import Warroom
from workflows.messages.commands import Acknowledge, CommandVerdict


@workflow.defn(sandboxed=False)
class AcknowledgeByUpdate:
    """The update contract for one command; a signal `finish` ends it."""

    def __init__(self) -> None:
        self.acknowledged_by: str | None = None
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.update
    def acknowledge(self, command: Acknowledge) -> CommandVerdict:
        if self.acknowledged_by is not None:
            reason = f"already acknowledged by {self.acknowledged_by}"
            return CommandVerdict(
                command="acknowledge", outcome="ignored", reason=reason, command_id=command.command_id
            )
        self.acknowledged_by = command.by
        return CommandVerdict(
            command="acknowledge", outcome="applied", reason="acknowledged", command_id=command.command_id
        )

    @acknowledge.validator
    def refuse_strangers(self, command: Acknowledge) -> None:
        if command.by == "mallory":
            raise ApplicationError("mallory is not on the roster")

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


@pytest.fixture
async def incident_taking_updates(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A running stand-in under the id `incident-<key>`; yields the key."""
    client: Client = dev_env.client
    task_queue, key = f"updates-{uuid4()}", f"by-update-{uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[AcknowledgeByUpdate]):
        handle = await client.start_workflow(
            AcknowledgeByUpdate.run, id=f"incident-{key}", task_queue=task_queue
        )
        yield key
        await handle.signal(AcknowledgeByUpdate.finish)
        await handle.result()


async def test_an_update_answers_with_the_verdict_at_once(
    warroom: Warroom, incident_taking_updates: str
) -> None:
    first = await warroom("ack", incident_taking_updates, "--by", "bob")
    assert first.code == 0, first.output
    assert first.stdout == "applied: acknowledged\n"

    second = await warroom("ack", incident_taking_updates, "--by", "carol")
    assert second.code == 0, second.output
    assert second.stdout == "ignored: already acknowledged by bob\n"


async def test_a_validator_rejection_exits_1_with_its_reason_and_leaves_no_trace_in_history(
    warroom: Warroom, incident_taking_updates: str, dev_env: WorkflowEnvironment
) -> None:
    refused = await warroom("ack", incident_taking_updates, "--by", "mallory")
    assert refused.code == 1, refused.output
    assert refused.stdout == "rejected: mallory is not on the roster\n"
    assert "Traceback" not in refused.output

    history = await dev_env.client.get_workflow_handle(f"incident-{incident_taking_updates}").fetch_history()
    update_events = [
        event
        for event in history.events
        if event.event_type
        in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        )
    ]
    assert update_events == []


async def test_an_update_to_a_closed_incident_says_it_is_closed(
    warroom: Warroom, dev_env: WorkflowEnvironment
) -> None:
    task_queue, key = f"updates-{uuid4()}", f"closed-{uuid4().hex[:8]}"
    async with Worker(dev_env.client, task_queue=task_queue, workflows=[AcknowledgeByUpdate]):
        handle = await dev_env.client.start_workflow(
            AcknowledgeByUpdate.run, id=f"incident-{key}", task_queue=task_queue
        )
        await handle.signal(AcknowledgeByUpdate.finish)
        await handle.result()
        late = await warroom("ack", key)
    assert late.code == 1, late.output
    assert "already closed (completed)" in late.stderr and "Traceback" not in late.output
