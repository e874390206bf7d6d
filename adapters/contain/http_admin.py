"""Simple admin endpoints (maintenance mode, rate limit, feature flags) on one or more service instances.

Each configured operation is a path that answers GET with its current JSON value and accepts PUT with a new
one: `rate_limit: /admin/rate-limit` sends the request's params as the body, and `{path, body}` builds the
body from a template whose `{name}` parts (keys or string values) are filled from the params, e.g.
`disable_feature: {path: /admin/flags, body: {"{feature}": false}}`. `target` names one configured instance
(default: all of them). Setting a value is idempotent by nature. Undo PUTs back the value read before the
first attempt acted. A bearer `token` (a `${SECRET}` reference) is added by the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.contain.base import ActionContext, ContainmentError
from adapters.notify.base import Secrets
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult


@dataclass(frozen=True)
class AdminOperation:
    path: str
    body: dict[str, Any] | None = None  # a template; None: the params are the body


def _filled(template: Any, params: dict[str, Any], adapter: str) -> Any:
    """The template with `{name}` parts replaced by params (a whole-string `{name}` keeps the param's type)."""
    try:
        if isinstance(template, dict):
            return {
                _filled(key, params, adapter): _filled(value, params, adapter)
                for key, value in template.items()
            }
        if isinstance(template, list):
            return [_filled(item, params, adapter) for item in template]
        if isinstance(template, str):
            whole = template[1:-1] if template.startswith("{") and template.endswith("}") else None
            if whole is not None and whole in params:
                return params[whole]
            return template.format(**params)
    except (KeyError, IndexError) as error:
        raise ContainmentError(f"{adapter}: missing parameter {error}") from None
    return template


class HttpAdminAdapter:
    def __init__(
        self,
        name: str,
        *,
        targets: dict[str, str],
        settings: dict[str, AdminOperation],
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
        operation = self.settings.get(request.operation)
        if operation is None:
            raise ContainmentError(
                f"{self.name}: unknown operation '{request.operation}' (one of {', '.join(self.settings)})"
            )
        params = {name: value for name, value in request.params.items() if name != "target"}
        path = operation.path
        body = params if operation.body is None else _filled(operation.body, params, self.name)
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
