"""Reading a request body safely: a size limit enforced while streaming, strict JSON, bounded nesting and
no control characters, so a hostile body costs little and always earns a 4xx, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from intake.errors import IntakeError

MAX_DEPTH = 32
# C0 controls other than tab, newline and carriage return, plus DEL: never meaningful in alert text.
_FORBIDDEN = {chr(code) for code in range(32) if chr(code) not in "\t\n\r"} | {"\x7f"}


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise IntakeError(413, "body", f"larger than the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise IntakeError(413, "body", f"larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, field: str = "body") -> Any:
    """Strict JSON (no NaN/Infinity), at most MAX_DEPTH deep, without control characters in any string."""
    if not raw.strip():
        raise IntakeError(400, field, "empty; send a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IntakeError(400, field, f"not UTF-8 (byte {error.start})") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise IntakeError(
            400, field, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except (ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise IntakeError(400, field, reason) from None
    check_shape(document, field)
    return document


def check_shape(document: Any, root: str) -> None:
    """Walk iteratively (no recursion to exhaust): depth limit and control characters, naming the path."""
    stack: list[tuple[Any, str, int]] = [(document, root, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise IntakeError(400, path, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, f"{path}.{key!r}" if _has_control(key) else path)
                stack.append((item, f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{index}", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, path)


def _has_control(text: str) -> bool:
    return any(char in _FORBIDDEN for char in text)


def _check_text(text: str, path: str) -> None:
    if _has_control(text):
        raise IntakeError(400, path, "contains a control character (only tab, newline, CR are allowed)")
