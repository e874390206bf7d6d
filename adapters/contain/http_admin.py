"""Simple admin endpoints (maintenance mode, rate limit, feature flags) on one or more service instances.

Each configured `setting` is a path that answers GET with its current JSON value and accepts PUT with a new
one. The operation names the setting; `target` names one configured instance (default: all of them); the
other params are the body. Setting a value is idempotent by nature. Undo PUTs back the value read before the
first attempt acted. A bearer `token` (a `${SECRET}` reference) is added by the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from adapters.contain.base import ActionContext, ContainmentError
from adapters.notify.base import Secrets
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult


class HttpAdminAdapter:
    def __init__(
        self,
        name: str,
        *,
        targets: dict[str, str],
        settings: dict[str, str],
        secrets: Secrets,
        token: str | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.targets = targets
        self.settings = settings
        self.secrets = secrets
        self.token = token
        self.request_timeout = request_timeout

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.secrets.expand(self.token)}"} if self.token else {}
        try:
            async with httpx.AsyncClient(timeout=self.request_timeout, follow_redirects=False) as client:
                response = await client.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise ContainmentError(
                f"{self.name}: {method} {url}: {type(error).__name__}", retryable=True
            ) from None
        if response.status_code >= 400:
            raise ContainmentError(
                f"{self.name}: {method} {url} answered {response.status_code} {response.text[:200]}",
                retryable=response.status_code >= 500,
            )
        return response.json()

    def _chosen_targets(self, request: ContainmentRequest) -> dict[str, str]:
        target = request.params.get("target")
        if target is None:
            return self.targets
        if target not in self.targets:
            raise ContainmentError(
                f"{self.name}: unknown target '{target}' (one of {', '.join(self.targets)})"
            )
        return {str(target): self.targets[str(target)]}

    async def act(self, request: ContainmentRequest, context: ActionContext) -> ContainmentResult:
        path = self.settings.get(request.operation)
        if path is None:
            raise ContainmentError(
                f"{self.name}: unknown operation '{request.operation}' (one of {', '.join(self.settings)})"
            )
        body = {name: value for name, value in request.params.items() if name != "target"}
        observed: dict[str, Any] = {}
        for target, base in self._chosen_targets(request).items():
            url = base.rstrip("/") + path
            before = await context.before(f"{target}{path}", self._reader(url))
            await self._call("PUT", url, body)
            context.did(f"{target} {request.operation} {body}", self._put_back(target, url, before))
            observed[target] = await self._call("GET", url)
        return ContainmentResult(
            outcome=ContainmentOutcome.SUCCEEDED,
            detail=f"{self.name} {request.operation}: "
            + "; ".join(f"{t} now {v}" for t, v in observed.items()),
            observed=observed,
        )

    def _reader(self, url: str) -> Callable[[], Awaitable[Any]]:
        async def read() -> Any:
            return await self._call("GET", url)

        return read

    def _put_back(self, target: str, url: str, before: Any) -> Any:
        async def undo() -> str:
            await self._call("PUT", url, before)
            return f"{target} back to {before}"

        return undo
