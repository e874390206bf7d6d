"""run_containment_action: resolve the adapter the request names, act once per idempotency key, heartbeat,
and on cancellation (a halt) undo through the adapter's journal of steps.

Results and failures land in workflow history, so every message is passed through the secrets' redaction.
A refusal (unknown adapter, bad parameter, a 4xx) is a FAILED result, not an exception: the workflow records
the reason and Temporal does not retry what cannot succeed. Transient trouble (HAProxy or an endpoint
unreachable) raises a retryable error, and the retry is safe because every adapter sets state rather than
toggling it, or hands the key to the system. A completed key's first result is answered again without
acting (the journal under the data dir), which is what makes a worker killed mid-action harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.contain.base import ActionContext, ContainmentAdapter, ContainmentError
from adapters.contain.journal import ActionJournal
from workflows.messages.activities import ActivityName
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult

HEARTBEAT_SECONDS = 1.0


class ContainmentActivities:
    def __init__(
        self,
        adapters: Mapping[str, ContainmentAdapter],
        journal: ActionJournal,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.adapters = dict(adapters)
        self.journal = journal
        self.redact = redact

    @activity.defn(name=ActivityName.CONTAIN.value)
    async def run_containment_action(self, request: ContainmentRequest) -> ContainmentResult:
        key = request.idempotency_key
        earlier = self.journal.completed(key)
        if earlier is not None:
            activity.logger.info("containment %s already completed under key %s", request.action_id, key)
            return earlier.model_copy(update={"detail": f"already done under this key: {earlier.detail}"})
        adapter = self.adapters.get(request.adapter)
        if adapter is None:
            known = ", ".join(sorted(self.adapters)) or "none (set WARROOM_CONTAINMENT)"
            return self._finish(
                key, _failed(f"unknown adapter '{request.adapter}' (this worker has: {known})")
            )
        activity.logger.info(
            "containment %s: %s/%s (attempt %d, key %s)",
            request.action_id,
            request.adapter,
            request.operation,
            activity.info().attempt,
            key,
        )
        context = ActionContext(
            heartbeat=activity.heartbeat,
            remembered=self.journal.remembered(key),
            remember_hook=lambda remembered: self.journal.remember(key, remembered),
        )
        return self._finish(key, await self._act(adapter, request, context))

    async def _act(
        self, adapter: ContainmentAdapter, request: ContainmentRequest, context: ActionContext
    ) -> ContainmentResult:
        ticker = asyncio.create_task(_keep_heartbeating(context))
        try:
            return await adapter.act(request, context)
        except asyncio.CancelledError:
            # A halt: the workflow waits for this answer (WAIT_CANCELLATION_COMPLETED), so put things back
            # and say what could not be; the undo itself must not be cut short by the same cancellation.
            activity.logger.info(
                "containment %s cancelled: undoing %d step(s)", request.action_id, len(context.steps)
            )
            return await asyncio.shield(context.undo_all())
        except ContainmentError as error:
            message = self.redact(str(error))
            if error.retryable:
                raise ApplicationError(message, type="ContainmentUnavailable") from None
            return _failed(message, context)
        except Exception as error:
            raise ApplicationError(
                self.redact(f"{request.adapter}: {type(error).__name__}: {error}"), type="ContainmentError"
            ) from None
        finally:
            ticker.cancel()
            with suppress(asyncio.CancelledError):
                await ticker

    def _finish(self, key: str, result: ContainmentResult) -> ContainmentResult:
        result = result.model_copy(update={"detail": self.redact(result.detail)})
        self.journal.complete(key, result)
        return result


def _failed(reason: str, context: ActionContext | None = None) -> ContainmentResult:
    if context is None or not context.steps:
        return ContainmentResult(outcome=ContainmentOutcome.FAILED, detail=reason)
    done = "; ".join(step.description for step in context.steps)
    return ContainmentResult(outcome=ContainmentOutcome.PARTIAL, detail=f"{reason}; left done: {done}")


async def _keep_heartbeating(context: ActionContext) -> Any:
    """Heartbeats between the adapter's own, so a single slow call still lets a cancellation through."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        context.heartbeat()
