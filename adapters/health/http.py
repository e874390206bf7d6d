"""A health gate: an HTTP GET whose 2xx answer means healthy."""

from __future__ import annotations

import httpx

from workflows.messages.activities import HealthCheckResult

TIMEOUT_SECONDS = 10.0


async def check_http_health(url: str) -> HealthCheckResult:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.get(url)
    except httpx.HTTPError as error:
        return HealthCheckResult(healthy=False, checked=True, detail=f"{url}: {type(error).__name__} {error}")
    healthy = 200 <= response.status_code < 300
    verdict = "healthy" if healthy else "unhealthy"
    return HealthCheckResult(
        healthy=healthy, checked=True, detail=f"{url} answered {response.status_code}: {verdict}"
    )
