"""warroom's own generic JSON format, for every sender without a dedicated route. One alert per request.

Dedup key: the sender's `dedup_key`, verbatim. Unknown fields are an error (this is warroom's contract, not
a foreign sender's), so a typo is answered with a 422 that names it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from intake.formats.fields import stable_hash
from workflows.messages.alerts import Alert, AlertStatus, Impact
from workflows.messages.common import Contract


class GenericAlert(Contract):
    """POST /v1/alerts/generic"""

    dedup_key: str = Field(min_length=1, max_length=400, description="same key = same incident")
    status: AlertStatus = AlertStatus.FIRING
    service: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=2000)
    severity: str | None = Field(default=None, max_length=64, description="e.g. critical, warning")
    source: str = Field(default="generic", min_length=1, max_length=64)
    fingerprint: str | None = Field(default=None, max_length=400, description="alert within the incident")
    event_id: str | None = Field(default=None, max_length=400, description="default: hash of the body")
    labels: dict[str, str] = Field(default_factory=dict, max_length=200)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=200)
    links: list[str] = Field(default_factory=list, max_length=50)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    impact: Impact = Field(default_factory=Impact)


def to_alerts(body: GenericAlert) -> list[Alert]:
    return [
        Alert(
            source=body.source,
            dedup_key=body.dedup_key,
            event_id=body.event_id or stable_hash("generic", body.model_dump(mode="json")),
            fingerprint=body.fingerprint,
            status=body.status,
            service=body.service,
            summary=body.summary,
            severity_hint=body.severity,
            labels=body.labels,
            annotations=body.annotations,
            links=body.links,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            impact=body.impact,
        )
    ]
