"""notify: pick the channel's adapter and deliver. Thin on purpose; channels live in adapters/notify."""

from __future__ import annotations

from collections.abc import Mapping

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.notify.base import Notifier
from workflows.messages import DeliveryResult, Notification


class NotifyActivities:
    def __init__(self, notifiers: Mapping[str, Notifier]) -> None:
        self._notifiers = dict(notifiers)

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> DeliveryResult:
        notifier = self._notifiers.get(notification.channel)
        if notifier is None:
            known = ", ".join(sorted(self._notifiers)) or "none"
            raise ApplicationError(
                f"unknown channel '{notification.channel}' (this worker knows: {known})",
                type="UnknownChannel",
                non_retryable=True,
            )
        activity.logger.info(
            "notify %s via %s to %s",
            notification.kind.value,
            notification.channel,
            ", ".join(notification.recipients),
        )
        return await notifier.send(notification)
