"""Generic webhook: a JSON body signed with HMAC-SHA256 and an `Idempotency-Key` the receiver dedupes on.

Signature: `X-Warroom-Signature: sha256=<hex of HMAC(key, "<X-Warroom-Timestamp>." + body)>`. The timestamp
lets a receiver refuse replays; the body is canonical JSON, identical on every retry."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.notify.http import HttpChannel, HttpRequest, json_bytes
from workflows.messages.notifications import Notification

SIGNATURE_HEADER = "X-Warroom-Signature"
TIMESTAMP_HEADER = "X-Warroom-Timestamp"


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    hmac_key: str | None = None


def signature(key: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel(HttpChannel):
    idempotent = True

    def __init__(self, name: str, options: WebhookOptions, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.options = options

    def payload(self, notification: Notification) -> dict[str, Any]:
        return {
            "idempotency_key": notification.idempotency_key,
            "incident_id": notification.incident_id,
            "kind": notification.kind.value,
            "severity": notification.severity.value if notification.severity else None,
            "service": notification.service,
            "subject": notification.subject,
            "text": self.templates.text(notification, "plain"),
            "recipients": [contact.model_dump(mode="json") for contact in notification.contacts]
            or [{"name": name} for name in notification.recipients],
            "facts": notification.facts,
            "links": notification.links,
        }

    def build(self, notification: Notification) -> HttpRequest:
        body = json_bytes(self.payload(notification))
        headers = {"Content-Type": "application/json", "Idempotency-Key": notification.idempotency_key}
        if self.options.hmac_key:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = signature(self.secrets.expand(self.options.hmac_key), timestamp, body)
        return HttpRequest("POST", self.secrets.expand(self.options.url), body, headers)
