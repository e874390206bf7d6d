"""What every notification channel implements."""

from __future__ import annotations

from typing import Protocol

from workflows.messages import DeliveryResult, Notification


class Notifier(Protocol):
    async def send(self, notification: Notification) -> DeliveryResult:
        """Deliver once; pass `notification.idempotency_key` on where the channel can dedupe."""
        ...
