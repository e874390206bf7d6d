"""Microsoft Teams webhook (Workflows / incoming webhook) carrying an Adaptive Card.

Teams webhooks cannot dedupe either: not idempotent, an ambiguous timeout is reported, not retried."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.notify.http import HttpChannel, HttpRequest, json_bytes
from adapters.notify.templates import teams_escape
from workflows.messages.notifications import Notification

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


class TeamsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str


class TeamsChannel(HttpChannel):
    def __init__(self, name: str, options: TeamsOptions, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.options = options

    def card(self, notification: Notification) -> dict[str, Any]:
        severity = notification.severity.value if notification.severity else "SEV-?"
        major = severity in ("SEV-1", "SEV-2")
        facts = [
            {"title": "Severity", "value": severity},
            {"title": "Service", "value": teams_escape(notification.service or "-")},
            {"title": "Paged", "value": teams_escape(", ".join(notification.recipients) or "nobody named")},
            {"title": "Incident", "value": teams_escape(notification.incident_id)},
        ]
        context = self.templates.context(notification)
        return {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": teams_escape(notification.subject),
                    "weight": "Bolder",
                    "size": "Large",
                    "wrap": True,
                    "color": "Attention" if major else "Warning" if severity == "SEV-3" else "Default",
                },
                {"type": "FactSet", "facts": facts},
                {"type": "TextBlock", "text": self.templates.text(notification, "teams"), "wrap": True},
            ],
            "actions": [
                {"type": "Action.OpenUrl", "title": f"Link {index}", "url": link}
                for index, link in enumerate(context["links"], start=1)
            ],
        }

    def build(self, notification: Notification) -> HttpRequest:
        payload = {
            "type": "message",
            "attachments": [
                {"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": self.card(notification)}
            ],
        }
        return HttpRequest(
            "POST",
            self.secrets.expand(self.options.webhook_url),
            json_bytes(payload),
            {"Content-Type": "application/json"},
        )
