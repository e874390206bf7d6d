"""Plumbing of the analysis tests: a notifier that keeps what it was asked to send, the test policy, an item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio.client import Client, WorkflowHandle

from config.policy_file import load_policy_file
from tests.conftest import TEST_POLICY, polled
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.messages.action_items import ActionItemInput, ActionItemSpec, ActionItemView
from workflows.messages.notifications import DeliveryResult, Notification
from workflows.policy import Policy


@dataclass
class RecordingNotifier:
    """Stands in for the console channel so a test can read who was told what (the notify activity, the
    routing and the delivery code in front of it are the real ones)."""

    sent: list[Notification] = field(default_factory=list)

    async def send(self, notification: Notification) -> DeliveryResult:
        self.sent.append(notification)
        return DeliveryResult(channel=notification.channel, recipients=notification.recipients, delivered=True,
                              detail="recorded")  # fmt: skip


def loaded_test_policy() -> Policy:
    return load_policy_file(TEST_POLICY)


def item_input(now: datetime, policy: Policy | None = None, **spec: object) -> ActionItemInput:
    fields: dict[str, object] = {"title": "Add a replica to the inventory database", "owner": "tom",
                                 "priority": "high"}  # fmt: skip
    fields.update(spec)
    return ActionItemInput(
        item=ActionItemSpec.model_validate(fields), incident_id="incident-inventory-db", occurrence="incident-x@1",
        service="checkout", created_by="fay", created_at=now, policy=policy or loaded_test_policy(),
    )  # fmt: skip


async def start_item(client: Client, task_queue: str, inp: ActionItemInput, item_id: str) -> WorkflowHandle:
    return await client.start_workflow(ActionItemWorkflow.run, inp, id=item_id, task_queue=task_queue)


def reminders(view: ActionItemView, since: datetime) -> list[tuple[str, timedelta, list[str]]]:
    """(reminder id, when after `since`, recipients) of every reminder the item's history records."""
    return [
        (str(event.details["reminder"]), event.at - since, list(event.details["recipients"]))
        for event in view.history
        if "reminder" in event.details
    ]


def at_second(offset: timedelta, expected: timedelta) -> bool:
    """Within the same second: activities take a few real milliseconds on top of the skipped time."""
    return expected <= offset < expected + timedelta(seconds=1)


async def item_when(
    handle: WorkflowHandle[ActionItemWorkflow, ActionItemView],
    predicate: Callable[[ActionItemView], bool],
    seconds: float = 10,
) -> ActionItemView:
    """Poll the item's status until the predicate holds (bounded): signals are asynchronous."""
    return await polled(lambda: handle.query(ActionItemWorkflow.status), predicate, seconds)
