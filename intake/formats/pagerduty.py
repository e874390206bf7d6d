"""PagerDuty Events API v2 (`trigger` / `acknowledge` / `resolve`), so anything that can page PagerDuty can
page warroom by changing its base URL (also served at PagerDuty's own path, `/v2/enqueue`).

Dedup key: the event's `dedup_key`, verbatim (PagerDuty's own incident key). A `trigger` without one gets
`pd-` + hash of its payload, as PagerDuty would generate one; `acknowledge` and `resolve` require it.
The `routing_key` is the sender's proof (checked against the configured keys) and never leaves this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from intake.formats.fields import SenderModel, clip, impact_from, stable_hash, string_map
from workflows.messages.alerts import Alert, AlertStatus

_STATUS = {
    "trigger": AlertStatus.FIRING,
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "resolve": AlertStatus.RESOLVED,
}


class EventPayload(SenderModel):
    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: str | None = Field(default=None, max_length=255)
    group: str | None = Field(default=None, max_length=255)
    class_: str | None = Field(default=None, alias="class", max_length=255)
    custom_details: dict[str, Any] | None = None


class EventLink(SenderModel):
    href: str = Field(min_length=1, max_length=2000)
    text: str | None = None


class PagerDutyEvent(SenderModel):
    routing_key: str = Field(min_length=1, max_length=200)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    payload: EventPayload | None = None
    links: list[EventLink] = Field(default_factory=list, max_length=50)
    client: str | None = None
    client_url: str | None = None

    @model_validator(mode="after")
    def _required_per_action(self) -> PagerDutyEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("payload is required for event_action 'trigger'")
        if self.event_action != "trigger" and self.dedup_key is None:
            raise ValueError(f"dedup_key is required for event_action '{self.event_action}'")
        return self


def dedup_key_of(event: PagerDutyEvent) -> str:
    if event.dedup_key:
        return event.dedup_key
    assert event.payload is not None
    return f"pd-{stable_hash(event.payload.model_dump(mode='json', by_alias=True), length=20)}"


def to_alerts(event: PagerDutyEvent) -> list[Alert]:
    dedup_key = dedup_key_of(event)
    payload = event.payload
    details = payload.custom_details or {} if payload else {}
    labels = {"severity": payload.severity, "source": payload.source} if payload else {}
    if payload:
        labels |= {k: v for k, v in {"group": payload.group, "class": payload.class_}.items() if v}
    region, listed = details.get("region"), details.get("regions")
    regions = [region] if isinstance(region, str) else []
    regions += [item for item in listed if isinstance(item, str)] if isinstance(listed, list) else []
    return [
        Alert(
            source="pagerduty",
            dedup_key=dedup_key,
            # Everything but the routing key: a repeat is the same event sent again.
            event_id=stable_hash(
                "pagerduty", event.model_dump(mode="json", by_alias=True, exclude={"routing_key"})
            ),
            status=_STATUS[event.event_action],
            service=clip((payload.component or payload.source) if payload else dedup_key, 200),
            summary=clip(payload.summary if payload else f"{event.event_action} {dedup_key}", 2000),
            severity_hint=payload.severity if payload else None,
            labels=string_map(labels),
            annotations=string_map({k: v for k, v in details.items() if isinstance(v, str | int | float)}),
            links=[link.href for link in event.links],
            starts_at=payload.timestamp if payload else None,
            impact=impact_from(details, regions=regions),
        )
    ]
