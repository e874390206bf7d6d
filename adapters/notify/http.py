"""The common shape of the HTTP channels: rate limit, one request, and the answer turned into an outcome.

Exactly-once in effect: a channel that dedupes (`idempotent = True`: webhook, PagerDuty, status page) is
retried after any failure, carrying the same key. One that cannot (Slack, Teams) is retried only when the
request provably did not arrive (connection refused, 5xx, 429); a timeout after the request went out is
reported as an unknown delivery instead of risking a duplicate page.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.notify.base import NoSecrets, Secrets
from adapters.notify.errors import AmbiguousDelivery, refused, retryable, take_send_slot
from adapters.notify.rate_limit import TokenBucket
from adapters.notify.templates import Templates
from workflows.messages.notifications import DeliveryResult, Notification

# httpx logs every request URL at INFO; webhook URLs are secrets (Slack's carries its token in the path).
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

DEFAULT_TIMEOUT = 10.0


@dataclass
class HttpRequest:
    method: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class HttpChannel:
    """Subclasses build the request; this class sends it and classifies the answer."""

    idempotent = False

    def __init__(
        self,
        name: str,
        templates: Templates | None = None,
        secrets: Secrets | None = None,
        limiter: TokenBucket | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.templates = templates or Templates()
        self.secrets: Secrets = secrets or NoSecrets()
        self._limiter = limiter
        self._timeout = timeout

    def redact(self, text: str) -> str:
        return self.secrets.redact(text)

    def build(self, notification: Notification) -> HttpRequest:
        raise NotImplementedError

    def accepted(self, notification: Notification, response: httpx.Response) -> str:
        """The detail recorded for a 2xx answer."""
        return f"{self.name}: accepted (HTTP {response.status_code})"

    async def send(self, notification: Notification) -> DeliveryResult:
        await take_send_slot(self.name, self._limiter)
        try:
            request = self.build(notification)
        except LookupError as missing:  # a ${SECRET} the worker does not have: a configuration error
            raise refused(self.name, str(missing)) from None
        try:
            response = await self._exchange(request)
        except AmbiguousDelivery as unknown:
            return DeliveryResult(
                channel=self.name,
                recipients=notification.recipients,
                delivered=False,
                outcome="unknown",
                detail=f"{self.name}: delivery unknown ({unknown}); not retried, the channel cannot dedupe",
            )
        return DeliveryResult(
            channel=self.name,
            recipients=notification.recipients,
            delivered=True,
            detail=self.accepted(notification, response),
        )

    async def _exchange(self, request: HttpRequest) -> httpx.Response:
        """One request within `timeout` in all. httpx's timeouts are per phase (connect, write, each read), so
        without the overall deadline an exchange could outlast the notify activity and be retried while it may
        still deliver. Connecting gets half of it, so an unreachable host is a clean "not sent"."""
        timeouts = httpx.Timeout(self._timeout, connect=self._timeout / 2)
        try:
            async with asyncio.timeout(self._timeout), httpx.AsyncClient(timeout=timeouts) as client:
                response = await client.request(
                    request.method, request.url, content=request.body, headers=request.headers
                )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise retryable(self.name, f"not sent: {type(error).__name__}") from None
        except (httpx.TimeoutException, TimeoutError):  # sent, maybe arrived, no answer in time
            raise self._no_answer(f"no answer within {self._timeout:g} s") from None
        except httpx.TransportError as error:  # dropped connection after sending: it may have arrived
            raise self._no_answer(f"{type(error).__name__} after the request was sent") from None
        return self._check(response)

    def _no_answer(self, what: str) -> Exception:
        if self.idempotent:
            return retryable(self.name, f"{what}; retrying with the same key")
        return AmbiguousDelivery(what)

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        reason = self.redact(f"HTTP {response.status_code}: {response.text.strip()[:200]}")
        if response.status_code == 429 or response.status_code >= 500:
            raise retryable(self.name, reason, retry_after=_retry_after(response))
        raise refused(self.name, reason)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def recipients_line(notification: Notification) -> str:
    return ", ".join(notification.recipients) or "nobody named"


def json_bytes(payload: Any) -> bytes:
    """Canonical JSON (sorted keys): a retry sends byte-for-byte the same body, so its signature matches."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
