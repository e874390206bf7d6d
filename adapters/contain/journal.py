"""Completed containment actions by idempotency key, in files under the worker's data dir.

Why files: a worker killed with -9 after acting but before Temporal recorded the result runs the activity
again; the key's file says the action already completed, and its first result is returned instead of
acting twice. Each key also keeps what its first attempt read before acting (`remembered`), so an undo
after a crash restores the original state. Writes are atomic (temp file + rename). Workers sharing a task
queue must share this directory (or rely on the adapters' own idempotency: HAProxy states, the runbook
endpoint's Idempotency-Key).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from workflows.messages.containment import ContainmentResult


class ActionJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str, suffix: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.directory / f"{digest}.{suffix}.json"

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)

    def completed(self, key: str) -> ContainmentResult | None:
        path = self._path(key, "done")
        if not path.exists():
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
        return ContainmentResult.model_validate(document["result"])

    def complete(self, key: str, result: ContainmentResult) -> None:
        self._write(self._path(key, "done"), {"key": key, "result": result.model_dump(mode="json")})

    def remembered(self, key: str) -> dict[str, Any]:
        path = self._path(key, "before")
        if not path.exists():
            return {}
        return dict(json.loads(path.read_text(encoding="utf-8"))["remembered"])

    def remember(self, key: str, remembered: dict[str, Any]) -> None:
        self._write(self._path(key, "before"), {"key": key, "remembered": remembered})

    def attempted(self, key: str) -> bool:
        """An earlier attempt read the system's state (and may have acted) without completing."""
        return self._path(key, "before").exists()
