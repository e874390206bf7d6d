"""Deliver one notification, from workflow code: each route group tries its channels in fallback order.

Per channel, the notify activity retries with backoff (5xx, timeouts on deduping channels); a refusal (4xx),
exhausted retries or a spent `routing.delivery_budget` move to the next channel of that group, so one channel
that keeps answering "later" cannot hold a page past its budget (a provider's Retry-After is capped at the
retry policy's maximum interval by the activity). An unknown delivery (a non-deduping channel
that timed out after sending) stops the chain: a second channel would likely double the message. Nothing
here raises: a channel that stays down is a recorded failure, never a failed incident.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, RetryState, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from workflows.durations import format_duration
    from workflows.messages.activities import ActivityName
    from workflows.messages.notifications import ChannelAttempt, DeliveryResult, Notification
    from workflows.routing import BROADCAST_LABEL, RouteGroup, Routing

# One attempt's limit. A channel's own answer timeout must fit inside it (config/channels.py refuses one that
# does not): an attempt timed out by Temporal is retried while its HTTP call may still deliver.
NOTIFY_TIMEOUT = timedelta(seconds=30)


def retry_policy(routing: Routing) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=routing.retry_initial_seconds),
        maximum_interval=timedelta(seconds=routing.retry_maximum_seconds),
        maximum_attempts=routing.retry_maximum_attempts,
        non_retryable_error_types=["ChannelRefused", "UnknownChannel"],
    )


def _attempt_of(failure: BaseException | None) -> int:
    """The attempt number the notify activity put in its failure's details (1 when it is not there)."""
    details = getattr(failure, "details", None) or [1]
    return details[0] if isinstance(details[0], int) else 1


def _failure(error: ActivityError, retry: RetryPolicy, budget: timedelta) -> tuple[str, int]:
    """The channel's own message and how many attempts it took, as far as the history tells."""
    cause = error.cause or error
    spent = f"delivery budget of {format_duration(budget)} spent"
    if isinstance(cause, ActivityTimeout) and cause.type is TimeoutType.SCHEDULE_TO_CLOSE:
        last = cause.cause  # the last finished attempt's own failure, when there was one
        message = getattr(last, "message", None)
        if message is None:
            return f"{spent}: no answer", 1
        return f"{spent}: {message}", _attempt_of(last)  # attempts that answered; one may have been under way
    message = getattr(cause, "message", None) or str(cause)
    if error.retry_state is RetryState.TIMEOUT:  # the next retry would not start within the budget
        return f"{spent}: {message}", _attempt_of(cause)
    if error.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return f"gave up after {retry.maximum_attempts} attempts: {message}", retry.maximum_attempts
    if error.retry_state is RetryState.NON_RETRYABLE_FAILURE:
        attempt = _attempt_of(cause)
        if attempt > 1:
            return f"refused on attempt {attempt}, not retried: {message}", attempt
        return f"refused, not retried: {message}", 1
    return f"{message} ({error.retry_state.name.lower() if error.retry_state else 'failed'})", 1


async def _deliver_group(
    draft: Notification, group: RouteGroup, retry: RetryPolicy, budget: timedelta
) -> list[ChannelAttempt]:
    tried: list[ChannelAttempt] = []
    label = f"/{group.label}" if group.label else ""
    broadcast = group.label.startswith(BROADCAST_LABEL)
    for channel in group.channels:
        notification = draft.model_copy(
            update={
                "channel": channel,
                "recipients": group.names,
                "contacts": group.recipients,
                "idempotency_key": f"{draft.idempotency_key}{label}/{channel}",
            }
        )
        try:
            result = await workflow.execute_activity(
                ActivityName.NOTIFY,
                notification,
                result_type=DeliveryResult,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                schedule_to_close_timeout=budget,
                retry_policy=retry,
            )
        except ActivityError as error:
            detail, attempts = _failure(error, retry, budget)
            tried.append(ChannelAttempt(channel=channel, recipients=group.names, outcome="failed",
                                        detail=detail, attempts=attempts, broadcast=broadcast))  # fmt: skip
            continue
        outcome = "sent" if result.delivered else result.outcome
        attempts = result.tried[-1].attempts if result.tried else 1
        tried.append(ChannelAttempt(channel=channel, recipients=group.names, outcome=outcome,
                                    detail=result.detail, attempts=attempts, broadcast=broadcast))  # fmt: skip
        if outcome in ("sent", "unknown"):
            break
    return tried


def _describe(attempts: list[ChannelAttempt]) -> str:
    who = ", ".join(attempts[0].recipients) or "broadcast"
    steps = []
    for attempt in attempts:
        retries = f" after {attempt.attempts} attempts" if attempt.attempts > 1 else ""
        steps.append(f"{attempt.channel} {attempt.outcome}{retries} ({attempt.detail})")
    return f"{who}: " + " -> fell back to ".join(steps)


def summarize(draft: Notification, step: str, groups: list[list[ChannelAttempt]]) -> DeliveryResult:
    finals = [group[-1] for group in groups if group]
    if all(final.outcome == "sent" for final in finals):
        outcome = "sent"
    elif any(final.outcome == "failed" for final in finals):
        outcome = "failed"
    else:
        outcome = "unknown"
    return DeliveryResult(
        channel=", ".join(dict.fromkeys(final.channel for final in finals)),
        recipients=draft.recipients,
        delivered=outcome == "sent",
        detail="; ".join(_describe(group) for group in groups if group),
        outcome=outcome,
        step=step,
        kind=draft.kind,
        tried=[attempt for group in groups for attempt in group],
    )


async def deliver(
    draft: Notification, step: str, groups: list[RouteGroup], routing: Routing
) -> DeliveryResult:
    """Send `draft` to every group at once (one person's retries never delay another's page)."""
    retry = retry_policy(routing)
    budget = routing.delivery_budget
    results = await asyncio.gather(*(_deliver_group(draft, group, retry, budget) for group in groups))
    return summarize(draft, step, list(results))
