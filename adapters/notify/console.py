"""The embedded default channel: a page is a line on the worker's console, flushed at once."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from workflows.messages.notifications import DeliveryResult, Notification

# Terminal control sequences in a summary (ESC, BEL, CR...) could rewrite what the operator sees: show them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, notification: Notification) -> DeliveryResult:
        stream = self._stream or sys.stdout
        recipients = _visible(", ".join(notification.recipients))
        body = "\n".join(f"    {_visible(line)}" for line in notification.body.splitlines())
        stream.write(
            f"\n>>> {notification.kind.value.upper()} to {recipients}: {_visible(notification.subject)}\n"
            f"{body}\n    (key {notification.idempotency_key})\n"
        )
        stream.flush()
        return DeliveryResult(
            channel="console",
            recipients=notification.recipients,
            delivered=True,
            detail=f"printed to the worker console for {recipients}",
        )
