"""How a channel's answer becomes a Temporal outcome: retry (5xx, 429, not sent), refuse (4xx), or unknown."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

MESSAGE_LIMIT = 300


class AmbiguousDelivery(Exception):
    """The request went out but no answer came back: it may have been delivered."""


def retryable(channel: str, reason: str, retry_after: float | None = None) -> ApplicationError:
    return ApplicationError(
        f"{channel}: {reason[:MESSAGE_LIMIT]}",
        type="ChannelUnavailable",
        next_retry_delay=timedelta(seconds=retry_after) if retry_after else None,
    )


def refused(channel: str, reason: str) -> ApplicationError:
    """The channel said no (4xx, bad address, missing secret): retrying cannot help; fall back instead."""
    return ApplicationError(f"{channel}: {reason[:MESSAGE_LIMIT]}", type="ChannelRefused", non_retryable=True)
