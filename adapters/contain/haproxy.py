"""HAProxy through its Runtime API: drain, disable (maint), enable (ready) a server, set its weight.

Every operation sets a state rather than toggling one, so a repeat after a crash changes nothing more; each
reads the server back (`show servers state`) into `observed`. Undo restores the admin state and weight read
before the first attempt acted. `backends` in the worker's configuration limits what a runbook may touch.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from adapters.contain.base import ActionContext, ContainmentError, param
from adapters.contain.haproxy_runtime import HAProxyRuntime, RuntimeApiError, ServerState
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult

OPERATIONS = ("drain", "disable", "enable", "set_weight", "read")
_STATE_OF = {"drain": "drain", "disable": "maint", "enable": "ready"}
DRAIN_POLL_SECONDS = 0.5


class HAProxyAdapter:
    def __init__(self, name: str, runtime: HAProxyRuntime, backends: list[str] | None = None) -> None:
        self.name = name
        self.runtime = runtime
        self.backends = backends

    async def act(self, request: ContainmentRequest, context: ActionContext) -> ContainmentResult:
        if request.operation not in OPERATIONS:
            raise ContainmentError(
                f"{self.name}: unknown operation '{request.operation}' (one of {', '.join(OPERATIONS)})"
            )
        backend, server = param(request, "backend"), param(request, "server")
        if self.backends is not None and backend not in self.backends:
            raise ContainmentError(
                f"{self.name}: backend '{backend}' is not in this worker's allowed backends "
                f"({', '.join(self.backends)})"
            )
        try:
            before = await context.before(f"{backend}/{server}", lambda: self._read(backend, server))
            if request.operation == "read":
                return await self._result(backend, server, "read")
            if request.operation == "set_weight":
                return await self._set_weight(request, context, backend, server, before)
            state = _STATE_OF[request.operation]
            await self.runtime.set_state(backend, server, state)
            context.did(f"{backend}/{server} state {state}", self._restore(backend, server, before))
            if request.operation == "drain":
                await self._wait_drained(request, context, backend, server)
            return await self._result(backend, server, f"{request.operation} {backend}/{server}")
        except RuntimeApiError as error:
            raise ContainmentError(str(error), retryable=True) from None

    async def _read(self, backend: str, server: str) -> dict[str, Any]:
        state = await self.runtime.server_state(backend, server)
        return {"admin": state.admin, "weight": state.weight}

    async def _set_weight(
        self,
        request: ContainmentRequest,
        context: ActionContext,
        backend: str,
        server: str,
        before: dict[str, Any],
    ) -> ContainmentResult:
        if "percent" in request.params:
            percent = param(request, "percent", (int, float))
            if not 0 <= percent <= 100:
                raise ContainmentError(f"{self.name}/set_weight: percent must be 0-100, got {percent}")
            weight = f"{int(percent)}%"  # HAProxy: a percentage of the server's initial weight
        else:
            value = param(request, "weight", int)
            if not 0 <= value <= 256:
                raise ContainmentError(f"{self.name}/set_weight: weight must be 0-256, got {value}")
            weight = str(value)
        await self.runtime.set_weight(backend, server, weight)
        context.did(f"{backend}/{server} weight {weight}", self._restore(backend, server, before))
        # A weight above zero is meant to carry traffic: a drained or disabled server takes none, so a step of
        # phased restoration lifts the drain too (`ready: false` keeps the admin state as it is).
        ready = request.params.get("ready", not weight.startswith("0"))
        if ready is True and (await self.runtime.server_state(backend, server)).admin != "ready":
            await self.runtime.set_state(backend, server, "ready")
            context.did(f"{backend}/{server} state ready", self._restore(backend, server, before))
        return await self._result(backend, server, f"set_weight {backend}/{server} {weight}")

    async def _wait_drained(
        self, request: ContainmentRequest, context: ActionContext, backend: str, server: str
    ) -> None:
        """A drain may wait (`wait_seconds`) for the server's open sessions to finish, heartbeating."""
        wait = (
            float(param(request, "wait_seconds", (int, float))) if "wait_seconds" in request.params else 0.0
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            sessions = await self.runtime.current_sessions(backend, server)
            context.heartbeat(f"{backend}/{server} draining: {sessions} sessions open")
            if sessions == 0:
                return
            await asyncio.sleep(DRAIN_POLL_SECONDS)

    def _restore(self, backend: str, server: str, before: dict[str, Any]) -> Any:
        async def undo() -> str:
            await self.runtime.set_state(backend, server, before["admin"])
            await self.runtime.set_weight(backend, server, str(before["weight"]))
            return f"{backend}/{server} back to {before['admin']}, weight {before['weight']}"

        return undo

    async def _result(self, backend: str, server: str, what: str) -> ContainmentResult:
        state: ServerState = await self.runtime.server_state(backend, server)
        return ContainmentResult(
            outcome=ContainmentOutcome.SUCCEEDED,
            detail=f"{what}: HAProxy reads back {state.admin}, weight {state.weight}/{state.initial_weight}, "
            f"{state.operational}",
            observed=state.as_observed(),
        )
