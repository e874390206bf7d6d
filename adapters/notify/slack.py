"""Slack incoming webhook with Block Kit: severity colour, summary, who is paged, ack/approve hints, and
Approve / Reject buttons on an approval request (their clicks come back to the intake's Slack route).

Slack webhooks cannot dedupe, so this channel is not idempotent: see `HttpChannel` for what that means."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.notify.http import HttpChannel, HttpRequest, json_bytes
from adapters.notify.slack_buttons import approval_buttons
from adapters.notify.templates import severity_colour, slack_escape
from workflows.messages.notifications import Notification

TEXT_LIMIT = 2900  # a section block holds 3000 characters


class SlackOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str


def _who(notification: Notification) -> str:
    mentions = {
        c.name: f"<@{slack_escape(c.slack_user_id)}>" for c in notification.contacts if c.slack_user_id
    }
    names = [mentions.get(name, slack_escape(name)) for name in notification.recipients]
    return ", ".join(names) or "nobody named"


class SlackChannel(HttpChannel):
    def __init__(self, name: str, options: SlackOptions, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.options = options

    def payload(self, notification: Notification) -> dict[str, Any]:
        severity = notification.severity.value if notification.severity else "SEV-?"
        text = self.templates.text(notification, "slack")
        facts = notification.facts
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": notification.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:TEXT_LIMIT]}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Severity*\n{severity}"},
                    {"type": "mrkdwn", "text": f"*Service*\n{slack_escape(notification.service or '-')}"},
                    {"type": "mrkdwn", "text": f"*Paged*\n{_who(notification)}"},
                    {"type": "mrkdwn", "text": f"*Incident*\n{slack_escape(notification.incident_id)}"},
                ],
            },
        ]
        hints = [facts[key] for key in ("ack_hint", "approve_hint") if facts.get(key)]
        if hints:
            elements = [{"type": "mrkdwn", "text": slack_escape(hint)} for hint in hints]
            blocks.append({"type": "context", "elements": elements})
        if (buttons := approval_buttons(notification)) is not None:
            blocks.append(buttons)
        return {
            # The subject already carries the severity tag (workflows/incident/wording.py): never add it twice.
            "text": slack_escape(notification.subject),
            "attachments": [{"color": severity_colour(notification.severity), "blocks": blocks}],
        }

    def build(self, notification: Notification) -> HttpRequest:
        return HttpRequest(
            "POST",
            self.secrets.expand(self.options.webhook_url),
            json_bytes(self.payload(notification)),
            {"Content-Type": "application/json"},
        )
