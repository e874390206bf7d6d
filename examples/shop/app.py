"""The demo shop: one instance of a tiny HTTP shop that can be broken on purpose and steered by admin calls.

Run two of them (regions "eu" and "us") behind HAProxy: `python examples/shop/app.py --name eu --port 8101`.

- `GET /` and `GET /order`: the shop's traffic. Each request goes through maintenance mode (503), the rate
  limit (429), then the injected fault (an error every 1/error_rate requests, and latency_ms of delay).
- `GET /health`: JSON with the error rate and mean latency of the requests of the last WINDOW_SECONDS,
  including one synthetic order the health check makes itself (so an idle instance still reports its fault).
  Shed requests (maintenance, rate limit) are reported apart, not as errors: they are decided, not failures.
- Admin (Bearer `SHOP_ADMIN_TOKEN` when that variable is set), GET reads and PUT sets:
  `/admin/maintenance {"enabled": bool}`, `/admin/rate-limit {"per_second": number|null}`,
  `/admin/flags {"recommendations": bool, ...}` (PUT merges), `/admin/fault {"error_rate": 0-1,
  "latency_ms": n, "flag": name|null}` (POST or PUT; DELETE clears; either starts a fresh health window). A
  fault with a `flag` applies only while that feature flag is on: the broken dependency sits behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WINDOW_SECONDS = 5.0
TOKEN_VARIABLE = "SHOP_ADMIN_TOKEN"


@dataclass
class Fault:
    error_rate: float = 0.0
    latency_ms: float = 0.0
    flag: str | None = None


@dataclass
class ShopState:
    name: str
    maintenance: bool = False
    rate_limit: float | None = None
    flags: dict[str, bool] = field(
        default_factory=lambda: {"recommendations": True, "express_checkout": True}
    )
    fault: Fault = field(default_factory=Fault)
    orders: int = 0
    recent: deque[tuple[float, str, float]] = field(default_factory=deque)  # (when, outcome, latency ms)
    _tokens: float = 0.0
    _refilled: float = field(default_factory=time.monotonic)

    def record(self, outcome: str, latency_ms: float) -> None:
        now = time.monotonic()
        self.recent.append((now, outcome, latency_ms))
        while self.recent and self.recent[0][0] < now - WINDOW_SECONDS:
            self.recent.popleft()

    def limit_rate(self, per_second: float | None) -> None:
        """A new limit starts with a full bucket: one second's worth may pass at once."""
        self.rate_limit = per_second
        self._tokens = per_second or 0.0
        self._refilled = time.monotonic()

    def admitted(self) -> bool:
        """A token bucket of `rate_limit` per second (burst: one second's worth)."""
        if self.rate_limit is None:
            return True
        now = time.monotonic()
        self._tokens = min(self.rate_limit, self._tokens + (now - self._refilled) * self.rate_limit)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def faulty(self) -> bool:
        """Deterministic: with error_rate r, order n fails when floor(n*r) moves (every 1/r-th order)."""
        fault = self.fault
        if fault.error_rate <= 0 or (fault.flag and not self.flags.get(fault.flag, False)):
            return False
        return math.floor(self.orders * fault.error_rate) != math.floor((self.orders - 1) * fault.error_rate)

    def delay_seconds(self) -> float:
        if self.fault.flag and not self.flags.get(self.fault.flag, False):
            return 0.0
        return self.fault.latency_ms / 1000

    def health(self) -> dict[str, Any]:
        served = [(outcome, latency) for _, outcome, latency in self.recent if outcome in ("ok", "error")]
        shed = sum(1 for _, outcome, _ in self.recent if outcome == "shed")
        errors = sum(1 for outcome, _ in served if outcome == "error")
        return {
            "instance": self.name,
            "error_rate": round(errors / len(served), 4) if served else 0.0,
            "latency_ms": round(sum(latency for _, latency in served) / len(served), 1) if served else 0.0,
            "requests": len(served),
            "shed": shed,
            "window_seconds": WINDOW_SECONDS,
            "maintenance": self.maintenance,
            "rate_limit": self.rate_limit,
            "flags": dict(self.flags),
            "fault": vars(self.fault).copy(),
        }


async def serve_order(state: ShopState) -> Response:
    started = time.monotonic()
    if state.maintenance:
        state.record("shed", 0.0)
        return JSONResponse({"instance": state.name, "error": "down for maintenance"}, status_code=503)
    if not state.admitted():
        state.record("shed", 0.0)
        return JSONResponse({"instance": state.name, "error": "rate limited"}, status_code=429)
    state.orders += 1
    delay = state.delay_seconds()
    if delay:
        await asyncio.sleep(delay)
    latency_ms = (time.monotonic() - started) * 1000
    if state.faulty():
        state.record("error", latency_ms)
        return JSONResponse({"instance": state.name, "error": "order failed"}, status_code=500)
    state.record("ok", latency_ms)
    body: dict[str, Any] = {"instance": state.name, "order": state.orders}
    if state.flags.get("recommendations"):
        body["recommendations"] = ["tea", "mug"]
    return JSONResponse(body)


def build_app(name: str, token: str | None = None) -> Starlette:
    state = ShopState(name=name)

    def authorized(request: Request) -> bool:
        return token is None or request.headers.get("authorization") == f"Bearer {token}"

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            document = await request.json()
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    async def order(request: Request) -> Response:
        return await serve_order(state)

    async def health(request: Request) -> Response:
        await serve_order(state)  # the synthetic order: an idle instance still shows its fault
        return JSONResponse(state.health())

    def admin(handler: Any) -> Any:
        async def guarded(request: Request) -> Response:
            if not authorized(request):
                return JSONResponse({"error": "admin token required"}, status_code=401)
            return await handler(request)

        return guarded

    @admin
    async def maintenance(request: Request) -> Response:
        if request.method == "PUT":
            body = await body_of(request)
            if not isinstance(body.get("enabled"), bool):
                return JSONResponse({"error": "'enabled' must be true or false"}, status_code=422)
            state.maintenance = body["enabled"]
        return JSONResponse({"enabled": state.maintenance})

    @admin
    async def rate_limit(request: Request) -> Response:
        if request.method == "PUT":
            body = await body_of(request)
            if "per_second" not in body:
                return JSONResponse(
                    {"error": "'per_second' is required (a number, or null for none)"}, status_code=422
                )
            value = body["per_second"]
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or value <= 0
            ):
                return JSONResponse(
                    {"error": "'per_second' must be a positive number or null"}, status_code=422
                )
            state.limit_rate(None if value is None else float(value))
        return JSONResponse({"per_second": state.rate_limit})

    @admin
    async def flags(request: Request) -> Response:
        if request.method == "PUT":
            body = await body_of(request)
            if not all(isinstance(value, bool) for value in body.values()):
                return JSONResponse({"error": "every flag must be true or false"}, status_code=422)
            state.flags.update(body)
        return JSONResponse(dict(state.flags))

    @admin
    async def fault(request: Request) -> Response:
        if request.method == "DELETE":
            state.fault = Fault()
        elif request.method in ("POST", "PUT"):
            body = await body_of(request)
            error_rate, latency_ms = body.get("error_rate", 0.0), body.get("latency_ms", 0.0)
            if not isinstance(error_rate, int | float) or not 0 <= error_rate <= 1:
                return JSONResponse({"error": "'error_rate' must be between 0 and 1"}, status_code=422)
            if not isinstance(latency_ms, int | float) or latency_ms < 0:
                return JSONResponse({"error": "'latency_ms' must be 0 or more"}, status_code=422)
            state.fault = Fault(float(error_rate), float(latency_ms), body.get("flag"))
        if request.method != "GET":
            state.recent.clear()  # a new fault (or none) starts a fresh window: health shows it at once
        return JSONResponse(vars(state.fault).copy())

    return Starlette(
        routes=[
            Route("/", order),
            Route("/order", order),
            Route("/health", health),
            Route("/admin/maintenance", maintenance, methods=["GET", "PUT"]),
            Route("/admin/rate-limit", rate_limit, methods=["GET", "PUT"]),
            Route("/admin/flags", flags, methods=["GET", "PUT"]),
            Route("/admin/fault", fault, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="one instance of the warroom demo shop")
    parser.add_argument("--name", required=True, help="instance name, e.g. eu")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    app = build_app(arguments.name, os.environ.get(TOKEN_VARIABLE) or None)
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
