"""One message to people and what became of it: the notify activity's contract with the adapters."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from workflows.messages.common import Contract, Severity


class NotificationKind(StrEnum):
    """What a message is about; each kind has its own template (adapters/notify/templates/<kind>.txt.j2)."""

    PAGE = "page"
    ESCALATION = "escalation"
    ACKNOWLEDGEMENT = "acknowledgement"
    STATUS_UPDATE = "status_update"
    CUSTOMER_COMMUNICATION = "customer_communication"
    RESOLUTION = "resolution"
    POSTMORTEM_READY = "postmortem_ready"
    APPROVAL_REQUEST = "approval_request"
    REMINDER = "reminder"  # post-mortem review and action-item reminders, and their overdue escalations


class Recipient(Contract):
    """A person or role to reach, with the contacts the roster knows (addresses, not secrets)."""

    name: str
    email: str | None = None
    slack_user_id: str | None = None
    phone: str | None = None


class Notification(Contract):
    """One message to people over one channel.

    `idempotency_key` is `<occurrence>/<step>[/<recipients>]/<channel>`: stable across activity retries and
    worker crashes, different per channel so a fallback is a new message, not a duplicate of the failed one.
    `facts` feed the templates (impact, incident_commander, bridge, next_update_at, ack_hint, ...).
    """

    idempotency_key: str
    incident_id: str
    occurrence: str | None = Field(
        default=None, description="this occurrence of the incident id (PagerDuty's dedup_key uses it)"
    )
    kind: NotificationKind
    channel: str
    recipients: list[str]
    severity: Severity | None
    service: str | None
    subject: str
    body: str
    contacts: list[Recipient] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)


DeliveryOutcome = Literal["sent", "failed", "unknown"]


class ChannelAttempt(Contract):
    """What happened on one channel: sent, failed (with the channel's reason) or unknown (no answer)."""

    channel: str
    recipients: list[str] = Field(default_factory=list)
    outcome: DeliveryOutcome
    detail: str
    attempts: int = Field(default=1, description="activity attempts on this channel (retries + 1)")
    broadcast: bool = Field(default=False, description="a broadcast copy, not the recipients' own message")


class DeliveryResult(Contract):
    """The outcome of one notification, over every channel tried in fallback order."""

    channel: str
    recipients: list[str]
    delivered: bool
    detail: str
    outcome: DeliveryOutcome = "sent"
    step: str | None = None
    kind: NotificationKind | None = None
    tried: list[ChannelAttempt] = Field(default_factory=list, description="channels tried, in order")

    @property
    def fell_back(self) -> bool:
        return len(self.tried) > 1

    @property
    def reached(self) -> list[str]:
        """Recipients whose own message went out (sent, or unknown: it may have), whatever happened to others;
        a broadcast copy reaches a room, not a person."""
        names: list[str] = []
        for attempt in self.tried:
            if attempt.outcome != "failed" and not attempt.broadcast:
                names += [name for name in attempt.recipients if name not in names]
        return names
