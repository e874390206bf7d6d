"""notify: pick the channel's adapter and deliver. Thin on purpose; channels live in adapters/notify.

Whatever goes back to the workflow (result or failure message) lands in its history, so every message is
scrubbed of secret values first, and an unexpected exception is reduced to a redacted one-liner without
its chained cause (whose text could carry a URL with a token in it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.notify.base import Notifier
from workflows.messages.notifications import ChannelAttempt, DeliveryResult, Notification
from workflows.metrics import page_failed, page_sent


def _redactor(notifier: Notifier) -> Callable[[str], str]:
    redact = getattr(notifier, "redact", None)
    return redact if callable(redact) else (lambda text: text)


# When the workflow's retry policy names no maximum interval (Temporal's default is 100x the initial one).
DEFAULT_LONGEST_RETRY_DELAY = timedelta(seconds=30)


def _capped(delay: timedelta | None) -> timedelta | None:
    """A provider's Retry-After, at most the retry policy's maximum interval.

    Temporal takes `next_retry_delay` as it is, beyond `maximum_interval`: a `Retry-After: 600` would hold the
    page ten minutes before its next try. The delivery budget then decides when to fall back instead."""
    if delay is None:
        return None
    policy = activity.info().retry_policy
    longest = policy.maximum_interval if policy and policy.maximum_interval else DEFAULT_LONGEST_RETRY_DELAY
    return min(delay, longest)


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
        attempt = activity.info().attempt
        activity.logger.info(
            "notify %s via %s to %s (attempt %d, key %s)",
            notification.kind.value,
            notification.channel,
            ", ".join(notification.recipients),
            attempt,
            notification.idempotency_key,
        )
        redact = _redactor(notifier)
        channel, kind = notification.channel, notification.kind.value
        try:
            result = await notifier.send(notification)
        except ApplicationError as error:
            page_failed(channel, kind, error.type or "ApplicationError")
            raise ApplicationError(
                redact(error.message),
                attempt,  # details: lets the workflow say on which attempt a channel refused
                type=error.type,
                non_retryable=error.non_retryable,
                next_retry_delay=_capped(error.next_retry_delay),
            ) from None
        except Exception as error:
            page_failed(channel, kind, "ChannelError")
            raise ApplicationError(
                redact(f"{notification.channel}: {type(error).__name__}: {error}"),
                attempt,
                type="ChannelError",
            ) from None
        detail = redact(result.detail)
        outcome = "sent" if result.delivered else result.outcome
        if outcome == "sent":
            page_sent(channel, kind)
        else:
            page_failed(channel, kind, f"outcome_{outcome}")
        attempt_record = ChannelAttempt(
            channel=notification.channel,
            recipients=notification.recipients,
            outcome=outcome,
            detail=detail,
            attempts=attempt,
        )
        return result.model_copy(update={"detail": detail, "tried": [attempt_record]})
