"""observe_health: the recovery gate after a traffic step. Samples a JSON health endpoint (`error_rate` 0-1,
`latency_ms`) for the soak time and fails the gate at the first sample over a limit: a rollback should not
wait out the rest of the soak. An unreachable or malformed endpoint is an unhealthy sample."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
from temporalio import activity

from workflows.messages.activities import ActivityName
from workflows.messages.containment import HealthObservationRequest, HealthObservationResult

MAX_SAMPLE_INTERVAL = 2.0
MIN_SAMPLES = 3
REQUEST_TIMEOUT = 5.0


async def _sample(client: httpx.AsyncClient, url: str) -> tuple[float, float, str | None]:
    """(error_rate, latency_ms, problem): a failed read counts as every request failing."""
    started = time.monotonic()
    try:
        response = await client.get(url)
        document = response.json()
        error_rate = float(document["error_rate"])
        latency_ms = float(document["latency_ms"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        waited = (time.monotonic() - started) * 1000
        return 1.0, waited, f"{url} unreadable: {type(error).__name__}"
    return error_rate, latency_ms, None


@activity.defn(name=ActivityName.OBSERVE_HEALTH.value)
async def observe_health(request: HealthObservationRequest) -> HealthObservationResult:
    # Evenly spaced samples from the start to the end of the soak, at most MAX_SAMPLE_INTERVAL apart.
    count = max(MIN_SAMPLES, math.ceil(request.soak_seconds / MAX_SAMPLE_INTERVAL) + 1)
    interval = request.soak_seconds / (count - 1)
    worst_error, worst_latency, samples = 0.0, 0.0, 0
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        for index in range(count):
            if index:
                await asyncio.sleep(interval)
            error_rate, latency_ms, problem = await _sample(client, request.url)
            samples += 1
            worst_error, worst_latency = max(worst_error, error_rate), max(worst_latency, latency_ms)
            activity.heartbeat(samples)
            over = []
            if error_rate > request.max_error_rate:
                over.append(f"error rate {error_rate:.1%} > {request.max_error_rate:.1%}")
            if latency_ms > request.max_latency_ms:
                over.append(f"latency {latency_ms:.0f} ms > {request.max_latency_ms:.0f} ms")
            if over or problem:
                return HealthObservationResult(
                    healthy=False,
                    samples=samples,
                    worst_error_rate=worst_error,
                    worst_latency_ms=worst_latency,
                    detail=f"unhealthy at sample {samples}: {problem or ', '.join(over)}",
                )
    return HealthObservationResult(
        healthy=True,
        samples=samples,
        worst_error_rate=worst_error,
        worst_latency_ms=worst_latency,
        detail=f"healthy for {request.soak_seconds:g} s ({samples} samples, worst error rate "
        f"{worst_error:.1%}, worst latency {worst_latency:.0f} ms)",
    )
