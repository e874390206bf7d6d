"""What every notification channel implements, and what the worker hands it (secrets, limits, templates)."""

from __future__ import annotations

from typing import Protocol

from workflows.messages.notifications import DeliveryResult, Notification


class Notifier(Protocol):
    async def send(self, notification: Notification) -> DeliveryResult:
        """Deliver once; pass `notification.idempotency_key` on where the channel can dedupe.

        Raise a retryable `ApplicationError` when it is safe to try again (nothing was delivered, or the
        channel dedupes), a non-retryable one for a refusal (4xx), and return `outcome="unknown"` when a
        channel that cannot dedupe may have delivered (a timeout after the request went out)."""
        ...


class Secrets(Protocol):
    """Resolves `${NAME}` references at send time and scrubs resolved values out of messages."""

    def expand(self, text: str) -> str: ...

    def redact(self, text: str) -> str: ...


class NoSecrets:
    """For channels configured with literal values (tests, the CLI's own console)."""

    def expand(self, text: str) -> str:
        return text

    def redact(self, text: str) -> str:
        return text
