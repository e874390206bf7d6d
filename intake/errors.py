"""Errors a sender can cause, answered as 4xx JSON that names the field and the problem (never the value:
a value may be a secret, such as a routing key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse

from workflows.messages.validation import field_path

MAX_PROBLEMS = 10


class RetryLater(Exception):
    """Something the intake depends on failed for now (Temporal, the SNS certificate host): the answer is
    503 + Retry-After, because every sender retries a 5xx and nothing was accepted."""


class IntakeError(Exception):
    """A request the intake refuses; nothing was started or signalled."""

    def __init__(
        self,
        status: int,
        field: str,
        problem: str,
        headers: Mapping[str, str] | None = None,
        more: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(f"{field}: {problem}")
        self.status = status
        self.problems = [(field, problem), *(more or [])][:MAX_PROBLEMS]
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "status": "rejected",
            "error": f"{self.problems[0][0]}: {self.problems[0][1]}",
            "problems": [{"field": field, "problem": problem} for field, problem in self.problems],
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)

    @classmethod
    def invalid(cls, error: ValidationError, prefix: str = "") -> IntakeError:
        """422 from a pydantic error: location and message only (pydantic's `input` is never echoed). Kept as
        (field, problem) pairs, not `validation_problems` lines: the JSON answer names each field apart."""
        problems = []
        for item in error.errors(include_input=False, include_url=False):
            where = field_path(item["loc"]) if item["loc"] else ""  # the shared path format
            field = ".".join(part for part in (prefix, where) if part) or "body"
            problems.append((field, str(item["msg"])))
        first, *rest = problems or [("body", "invalid")]
        return cls(422, first[0], first[1], more=rest)
