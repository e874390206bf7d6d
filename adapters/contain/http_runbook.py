"""An automation endpoint (Rundeck, StackStorm, an SSM gateway, a CI job) run as a containment action.

POST `url` with the action as JSON, signed like warroom's webhooks (`X-Warroom-Signature: sha256=<HMAC-SHA256
of "<X-Warroom-Timestamp>." + body>`) and with `Idempotency-Key: <request key>`, so the endpoint runs a job at
most once per key however often a retry or a restarted worker posts it. The answer is JSON with a `status`
(`running`, `succeeded`, `failed`, `cancelled`), and while running a `status_url` (or the configured one, with
`{id}`) that is polled until the job ends, heartbeating. On a halt the configured `cancel_url` is POSTed
(signed) and its answer reported; without one the job is reported as left running (PARTIAL).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from adapters.contain.base import ActionContext, ContainmentError
from adapters.notify.base import Secrets
from adapters.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult

IDEMPOTENCY_HEADER = "Idempotency-Key"
DONE = {"succeeded": ContainmentOutcome.SUCCEEDED, "failed": ContainmentOutcome.FAILED}


class HttpRunbookAdapter:
    def __init__(
        self,
        name: str,
        *,
        url: str,
        secret: str,
        secrets: Secrets,
        status_url: str | None = None,
        cancel_url: str | None = None,
        poll_seconds: float = 2.0,
        timeout_seconds: float = 600.0,
        request_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.secrets = secrets
        self.status_url = status_url
        self.cancel_url = cancel_url
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.request_timeout = request_timeout

    def _headers(self, key: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secrets.expand(self.secret), timestamp, body),
        }

    async def _call(self, method: str, url: str, key: str, document: dict[str, Any] | None) -> dict[str, Any]:
        body = b"" if document is None else json.dumps(document, sort_keys=True).encode()
        try:
            async with httpx.AsyncClient(timeout=self.request_timeout, follow_redirects=False) as client:
                response = await client.request(method, url, content=body, headers=self._headers(key, body))
        except httpx.HTTPError as error:
            raise ContainmentError(
                f"{self.name}: {method} {url}: {type(error).__name__}", retryable=True
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ContainmentError(
                f"{self.name}: {method} {url} answered {response.status_code}", retryable=True
            )
        if response.status_code >= 400:
            raise ContainmentError(
                f"{self.name}: {method} {url} refused: {response.status_code} {response.text[:200]}"
            )
        try:
            answer = response.json()
        except ValueError:
            raise ContainmentError(
                f"{self.name}: {method} {url} answered no JSON: {response.text[:200]}"
            ) from None
        if not isinstance(answer, dict):
            raise ContainmentError(f"{self.name}: {method} {url} answered {answer!r}, expected an object")
        return answer

    async def act(self, request: ContainmentRequest, context: ActionContext) -> ContainmentResult:
        key = request.idempotency_key
        document = {
            "incident_id": request.incident_id,
            "action_id": request.action_id,
            "operation": request.operation,
            "params": request.params,
            "idempotency_key": key,
        }
        url = self.url.replace("{operation}", request.operation)
        answer = await self._call("POST", url, key, document)
        job = str(answer.get("id") or key)
        context.did(f"{self.name} job {job} started", self._cancel(job, key))
        deadline = time.monotonic() + self.timeout_seconds
        status_url: str | None = None
        while (status := str(answer.get("status", "running"))) not in (*DONE, "cancelled"):
            context.heartbeat(f"{self.name} job {job}: {status}")
            if time.monotonic() > deadline:
                raise ContainmentError(
                    f"{self.name}: job {job} still '{status}' after {self.timeout_seconds:g} s"
                )
            await asyncio.sleep(self.poll_seconds)
            status_url = self._status_url(answer, job, status_url)
            answer = await self._call("GET", status_url, key, None)
        outcome = DONE.get(status, ContainmentOutcome.FAILED)
        detail = str(answer.get("detail") or "")
        return ContainmentResult(
            outcome=outcome,
            detail=f"{self.name} job {job} {status}" + (f": {detail}" if detail else ""),
            observed={"job": job, "status": status, **_plain(answer.get("observed"))},
        )

    def _status_url(self, answer: dict[str, Any], job: str, previous: str | None) -> str:
        """The job's own status URL (the last answer that named one), else the configured template."""
        url = answer.get("status_url") or previous or self.status_url
        if not url:
            raise ContainmentError(
                f"{self.name}: job {job} is running but neither the answer nor the config names a status_url"
            )
        return str(url).replace("{id}", job)

    def _cancel(self, job: str, key: str) -> Any:
        if not self.cancel_url:
            return None  # reported as left done: the job runs on

        async def undo() -> str:
            answer = await self._call("POST", str(self.cancel_url).replace("{id}", job), key, {"id": job})
            status = answer.get("status", "cancel requested")
            detail = answer.get("detail")
            return f"{self.name} job {job} {status}" + (f" ({detail})" if detail else "")

        return undo


def _plain(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
