"""Status page updates through a generic JSON API shaped like Atlassian Statuspage's incidents.

`PUT {base_url}/pages/{page_id}/incidents/{incident id}` with `{"incident": {"name", "status", "body",
"impact_override", "metadata"}}`: an upsert keyed by warroom's incident id, so a retry or a repeated
update lands on the same public incident. Status: investigating, identified, monitoring, resolved."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from adapters.notify.http import HttpChannel, HttpRequest, json_bytes
from workflows.messages.notifications import Notification, NotificationKind

STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACT = {"SEV-1": "critical", "SEV-2": "major", "SEV-3": "minor", "SEV-4": "none"}


class StatusPageOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    page_id: str
    api_key: str | None = None


def page_status(notification: Notification) -> str:
    """The workflow may say (`facts.status_page_status`); otherwise the kind decides."""
    stated = notification.facts.get("status_page_status")
    if stated in STATUSES:
        return stated
    if notification.kind is NotificationKind.RESOLUTION:
        return "resolved"
    if notification.kind in (NotificationKind.ACKNOWLEDGEMENT, NotificationKind.STATUS_UPDATE):
        return "identified"
    return "investigating"


class StatusPageChannel(HttpChannel):
    idempotent = True

    def __init__(self, name: str, options: StatusPageOptions, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.options = options

    def payload(self, notification: Notification) -> dict[str, Any]:
        severity = notification.severity.value if notification.severity else None
        # The public page gets the customer wording, never the internal page (names, bridge, hints).
        public = notification.model_copy(update={"kind": NotificationKind.CUSTOMER_COMMUNICATION})
        return {
            "incident": {
                "name": f"{notification.service or 'Service'} disruption",
                "status": page_status(notification),
                "body": self.templates.text(public, "plain"),
                "impact_override": IMPACT.get(severity or "", "none"),
                "metadata": {
                    "warroom": {
                        "incident_id": notification.incident_id,
                        "idempotency_key": notification.idempotency_key,
                    }
                },
            }
        }

    def build(self, notification: Notification) -> HttpRequest:
        base = self.options.base_url.rstrip("/")
        page, incident = quote(self.options.page_id, safe=""), quote(notification.incident_id, safe="")
        url = f"{base}/pages/{page}/incidents/{incident}"
        headers = {"Content-Type": "application/json", "Idempotency-Key": notification.idempotency_key}
        if self.options.api_key:
            headers["Authorization"] = f"OAuth {self.secrets.expand(self.options.api_key)}"
        return HttpRequest("PUT", url, json_bytes(self.payload(notification)), headers)
