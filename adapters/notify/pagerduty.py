"""PagerDuty Events API v2: hand a page to an existing pager. trigger / acknowledge / resolve.

`dedup_key` is the incident's workflow id: stable across retries (PagerDuty drops the duplicate), across
escalations (they update the same PagerDuty alert) and across trigger -> acknowledge -> resolve, which is
how PagerDuty ties those events together. The routing key is a secret; the base URL is configurable."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.notify.http import HttpChannel, HttpRequest, json_bytes
from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind

DEFAULT_BASE_URL = "https://events.pagerduty.com"
ACTIONS = {
    NotificationKind.PAGE: "trigger",
    NotificationKind.ESCALATION: "trigger",
    NotificationKind.ACKNOWLEDGEMENT: "acknowledge",
    NotificationKind.RESOLUTION: "resolve",
}
PD_SEVERITY = {"SEV-1": "critical", "SEV-2": "error", "SEV-3": "warning", "SEV-4": "info"}


class PagerDutyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    routing_key: str
    base_url: str = DEFAULT_BASE_URL
    source: str = "warroom"


class PagerDutyChannel(HttpChannel):
    idempotent = True

    def __init__(self, name: str, options: PagerDutyOptions, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.options = options

    def event(self, notification: Notification, action: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "routing_key": self.secrets.expand(self.options.routing_key),
            "event_action": action,
            "dedup_key": notification.incident_id,
        }
        if action == "trigger":
            severity = notification.severity.value if notification.severity else "SEV-3"
            event["payload"] = {
                "summary": notification.subject[:1024],
                "source": self.options.source,
                "severity": PD_SEVERITY.get(severity, "warning"),
                "component": notification.service,
                "custom_details": {
                    "incident_id": notification.incident_id,
                    "idempotency_key": notification.idempotency_key,
                    "paged": notification.recipients,
                    "text": self.templates.text(notification, "plain"),
                    **notification.facts,
                },
            }
            event["links"] = [{"href": link} for link in self.templates.context(notification)["links"]]
        return event

    def build(self, notification: Notification) -> HttpRequest:
        action = ACTIONS[notification.kind]
        url = f"{self.options.base_url.rstrip('/')}/v2/enqueue"
        body = json_bytes(self.event(notification, action))
        return HttpRequest("POST", url, body, {"Content-Type": "application/json"})

    async def send(self, notification: Notification) -> DeliveryResult:
        if notification.kind not in ACTIONS:
            return DeliveryResult(
                channel=self.name,
                recipients=notification.recipients,
                delivered=True,
                detail=f"{self.name}: nothing to send to PagerDuty for a {notification.kind.value}",
            )
        result = await super().send(notification)
        action = ACTIONS[notification.kind]
        return result.model_copy(
            update={"detail": f"{result.detail}; {action} dedup_key={notification.incident_id}"}
        )
