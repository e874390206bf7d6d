"""The drill's only channel: every channel name the policy uses is answered by a recorder, so a drill can never
reach a real person, whatever channels the user's environment configures (WARROOM_CHANNELS is not read)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio import activity

from adapters.notify.base import Notifier
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
from workflows.policy import Policy

RECORDED = "recorded by the drill; nobody was contacted"


class RecordedNotification(BaseModel):
    """One message the incident sent, as the channel received it, at the drill's (skipped) time."""

    at: datetime
    incident_id: str
    channel: str
    kind: NotificationKind
    recipients: list[str]
    subject: str
    step: str


class Recorder:
    def __init__(self) -> None:
        self.notifications: list[RecordedNotification] = []

    def channels(self, policy: Policy) -> dict[str, Notifier]:
        return {name: RecordingChannel(name, self) for name in sorted(channel_names(policy))}


class RecordingChannel:
    def __init__(self, name: str, recorder: Recorder) -> None:
        self.name = name
        self._recorder = recorder

    async def send(self, notification: Notification) -> DeliveryResult:
        # The activity's scheduled time is the server's clock: skipped time, not the wall clock.
        at = activity.info().current_attempt_scheduled_time
        key, occurrence = notification.idempotency_key, notification.occurrence
        # `<occurrence>/<step>/<channel>`; the occurrence carries the dedup key, which may hold slashes.
        step = key[len(occurrence) + 1 :] if occurrence and key.startswith(occurrence + "/") else key
        self._recorder.notifications.append(
            RecordedNotification(
                at=at, incident_id=notification.incident_id, channel=self.name, kind=notification.kind,
                recipients=list(notification.recipients), subject=notification.subject,
                step=step,
            )
        )  # fmt: skip
        return DeliveryResult(
            channel=self.name, recipients=notification.recipients, delivered=True, detail=RECORDED
        )


def channel_names(policy: Policy) -> set[str]:
    """Every channel a notification of this policy can be routed to (workflows/routing.py's sources)."""
    routing = policy.routing
    names = {policy.page_channel, "console", *routing.default_channels}
    for rule in [*routing.rules, *routing.broadcasts]:
        names.update(rule.channels)
    for person in policy.roster.people.values():
        names.update(person.channels)
    return names
