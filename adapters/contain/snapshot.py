"""A diagnostic snapshot: GET each configured URL and keep the answers as one JSON file under the data dir.

Changes nothing on the system (nothing to undo), so policies run it unasked. The file name is the action's
idempotency key (hashed), so a retry overwrites the same snapshot instead of adding another.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from adapters.contain.base import ActionContext, ContainmentError, param
from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult

MAX_BODY_CHARS = 100_000
OPERATIONS = ("snapshot", "diagnostic_snapshot", "collect")


class SnapshotAdapter:
    def __init__(
        self, name: str, *, urls: dict[str, str], directory: Path, request_timeout: float = 10.0
    ) -> None:
        self.name = name
        self.urls = urls
        self.directory = directory
        self.request_timeout = request_timeout

    async def _get(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            response = await client.get(url)
        except httpx.HTTPError as error:
            return {"error": f"{type(error).__name__}: {error}"}
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:MAX_BODY_CHARS]
        return {"status": response.status_code, "body": body}

    async def act(self, request: ContainmentRequest, context: ActionContext) -> ContainmentResult:
        if request.operation not in OPERATIONS:
            raise ContainmentError(
                f"{self.name}: unknown operation '{request.operation}' (one of {', '.join(OPERATIONS)})"
            )
        wanted = param(request, "names", list) if "names" in request.params else list(self.urls)
        unknown = [name for name in wanted if name not in self.urls]
        if unknown:
            raise ContainmentError(
                f"{self.name}: unknown snapshot source(s) {unknown} (one of {list(self.urls)})"
            )
        taken: dict[str, Any] = {}
        async with httpx.AsyncClient(timeout=self.request_timeout, follow_redirects=False) as client:
            for name in wanted:
                taken[name] = await self._get(client, self.urls[name])
                context.heartbeat(f"snapshot {name}")
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:16]
        folder = self.directory / _safe(request.incident_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_safe(request.action_id)}-{digest}.json"
        document = {
            "taken_at": datetime.now(UTC).isoformat(),
            "key": request.idempotency_key,
            "sources": taken,
        }
        path.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
        failed = [name for name, answer in taken.items() if "error" in answer]
        summary = f"snapshot of {len(taken)} source(s) in {path}" + (
            f"; unreachable: {failed}" if failed else ""
        )
        return ContainmentResult(
            outcome=ContainmentOutcome.SUCCEEDED,
            detail=summary,
            observed={"path": str(path), "sources": list(taken)},
        )


def _safe(text: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in text)[:120]
