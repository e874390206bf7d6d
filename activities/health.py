"""check_health: the recovery gate for a service, as the policy defines it."""

from __future__ import annotations

from temporalio import activity

from adapters.health.http import check_http_health
from config.settings import Settings
from workflows.messages import HealthCheckRequest, HealthCheckResult
from workflows.policy import Policy


class HealthActivities:
    """Health checks come from the worker's current policy: they say how to check, not what to decide."""

    def __init__(self, settings: Settings, policy: Policy | None = None) -> None:
        self._settings = settings
        self._policy = policy

    @activity.defn(name="check_health")
    async def check_health(self, request: HealthCheckRequest) -> HealthCheckResult:
        policy = self._policy or _current_policy(self._settings)
        url = policy.health_checks.get(request.service or "")
        if url is None:
            return HealthCheckResult(
                healthy=True,
                checked=False,
                detail=f"no health check configured for service '{request.service}'; gate passed unchecked",
            )
        return await check_http_health(url)


def _current_policy(settings: Settings) -> Policy:
    from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file

    return load_policy_file(settings.policy_file or DEFAULT_POLICY_FILE)
