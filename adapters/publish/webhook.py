"""Publish a post-mortem to a wiki or docs system over a signed webhook.

The body is JSON; `X-Warroom-Signature-256: sha256=<hex>` is HMAC-SHA256 over `<timestamp>.<body>` with a
shared secret, and `X-Warroom-Timestamp` carries that timestamp, so a receiver can refuse forgeries and stale
replays. `Idempotency-Key` is the same on every retry of one occurrence's document. The secret is resolved
by the worker at send time (environment, else the secrets file): it never enters workflow history or logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx

from adapters.publish.document import PublishedDocument

SIGNATURE_HEADER = "X-Warroom-Signature-256"
TIMESTAMP_HEADER = "X-Warroom-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMEOUT = 15.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, received: str) -> bool:
    """What a receiver runs (and the tests do): constant-time comparison of the expected signature."""
    return hmac.compare_digest(signature(secret, timestamp, body), received)


class WebhookPublishError(RuntimeError):
    """The receiver refused or could not be reached; the message never carries the secret."""


class SignedWebhookPublisher:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: Callable[[], str],
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT,
    ) -> None:
        self.url = url
        self._secret = secret  # looked up per send, so a rotated secret is picked up without a restart
        self._clock = clock
        self._timeout = timeout

    def request(self, document: PublishedDocument) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {"incident_id": document.incident_id, "occurrence": document.occurrence,
             "filename": document.filename, "content_type": "text/markdown", "markdown": document.markdown},
            sort_keys=True,
        ).encode()  # fmt: skip
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: document.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret(), timestamp, body),
        }
        return body, headers

    async def publish(self, document: PublishedDocument) -> str:
        body, headers = self.request(document)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookPublishError(f"post-mortem webhook unreachable: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise WebhookPublishError(f"post-mortem webhook answered HTTP {response.status_code}")
        return response.headers.get("Location") or self.url
