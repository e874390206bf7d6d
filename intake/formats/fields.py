"""What every format derives the same way: event ids, impact from labels, timestamps, wire-model base."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from workflows.messages.alerts import Impact

# Senders add fields between versions: their wire models ignore unknown fields (warroom's own contract,
# the generic format, forbids them).
SENDER_MODEL = ConfigDict(extra="ignore", populate_by_name=True)
MAX_LABEL = 2000


class SenderModel(BaseModel):
    model_config = SENDER_MODEL


def stable_hash(*parts: Any, length: int = 32) -> str:
    """A hash of canonical JSON: the same delivery (any key order) always hashes the same."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def real_time(moment: datetime | None) -> datetime | None:
    """Alertmanager's zero time (0001-01-01T00:00:00Z) means 'not ended': None."""
    return None if moment is None or moment.year <= 1 else moment


_IMPACT_KEYS = (
    "users_affected",
    "user_scope",
    "revenue_per_hour",
    "function",
    "security_breach",
    "data_corruption",
    "regulatory",
    "error_rate",
    "availability",
)


def impact_from(*sources: dict[str, Any], regions: list[str] | None = None) -> Impact:
    """Impact fields from labels/annotations/custom details (later sources win). A value that does not parse
    is left out rather than refused: a typo in one label must not stop a page."""
    found: dict[str, Any] = {}
    for source in sources:
        for key in _IMPACT_KEYS:
            if key in source and source[key] not in (None, ""):
                found[key] = source[key]
    impact = Impact(regions=sorted({region for region in regions or [] if region}))
    for key, value in found.items():
        try:
            impact = Impact.model_validate({**impact.model_dump(), key: value})
        except ValidationError:
            continue
    return impact


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def string_map(values: dict[str, Any] | None, limit: int = MAX_LABEL) -> dict[str, str]:
    return {clip(str(key), 200): clip(str(value), limit) for key, value in (values or {}).items()}
