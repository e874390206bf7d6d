"""A token bucket per channel, in the worker: an alert storm queues behind it instead of getting warroom
rate-limited (or banned) by Slack. Short waits happen in the activity; long ones become a Temporal retry
after the wait, so no activity slot sits idle for minutes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimited(Exception):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"rate limit reached; next message allowed in {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


class TokenBucket:
    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        max_wait_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    async def acquire(self) -> None:
        """Take a token, waiting up to `max_wait_seconds` in all (the wait for the senders ahead included: the
        channel's answer timeout is checked against this bound); beyond it raise RateLimited (no token taken)."""
        started = self._clock()
        async with self._lock:  # one waiter at a time, so waiting senders keep their order
            self._refill()
            if self._tokens < 1:
                wait = (1 - self._tokens) / self._rate
                if self._clock() - started + wait > self._max_wait:
                    raise RateLimited(wait)
                await self._sleep(wait)
                self._refill()
            self._tokens -= 1
