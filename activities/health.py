"""check_health: the recovery gate, at the URL the incident's pinned policy names for its service."""

from __future__ import annotations

from temporalio import activity

from adapters.health.http import check_http_health
from workflows.messages.activities import HealthCheckRequest, HealthCheckResult


@activity.defn(name="check_health")
async def check_health(request: HealthCheckRequest) -> HealthCheckResult:
    if request.url is None:
        return HealthCheckResult(
            healthy=True,
            checked=False,
            detail=f"no health check configured for service '{request.service}'; gate passed unchecked",
        )
    return await check_http_health(request.url)
