"""The embedded default channel: a page is a line on the worker's console, flushed at once."""

from __future__ import annotations

import sys
from typing import TextIO

from workflows.messages import DeliveryResult, Notification


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, notification: Notification) -> DeliveryResult:
        stream = self._stream or sys.stdout
        recipients = ", ".join(notification.recipients)
        body = "\n".join(f"    {line}" for line in notification.body.splitlines())
        stream.write(
            f"\n>>> {notification.kind.value.upper()} to {recipients}: {notification.subject}\n"
            f"{body}\n    (key {notification.idempotency_key})\n"
        )
        stream.flush()
        return DeliveryResult(
            channel="console",
            recipients=notification.recipients,
            delivered=True,
            detail=f"printed to the worker console for {recipients}",
        )
