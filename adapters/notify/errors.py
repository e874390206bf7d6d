"""How a channel's answer becomes a Temporal outcome: retry (5xx, 429, not sent), refuse (4xx), or unknown."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from adapters.notify.rate_limit import RateLimited, TokenBucket

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


async def take_send_slot(channel: str, limiter: TokenBucket | None) -> None:
    """Wait for the channel's rate limit; if the wait would be too long, ask Temporal to retry later."""
    if limiter is None:
        return
    try:
        await limiter.acquire()
    except RateLimited as limited:
        raise retryable(channel, str(limited), retry_after=limited.wait_seconds) from None
