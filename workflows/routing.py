"""Which channels carry a notification, in fallback order. Pure and deterministic: workflow code calls it.

For one recipient (a person or a role such as `oncall-primary`), the chain is, without repeats:
1. the channels of every routing rule that matches (rules in policy order; a rule matches when each of its
   non-empty criteria does: recipient, the team owning the service, severity, kind);
2. the person's own `channels` from the roster (how they like to be reached);
3. `routing.default_channels`, or the policy's `page_channel` when that is empty.
The last entry is the fallback of last resort, so a chain is never empty.

Recipients with the same chain are sent one message together (one group); each group falls back on its own.
Besides, every matching `broadcasts` rule sends its own copy (an incident Slack channel, the status page),
trying that rule's channels in order: a broadcast does not replace paging people.
Channels are names only: the worker maps them to adapters and credentials.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from workflows.durations import PositiveDuration
from workflows.messages.common import Contract, Severity
from workflows.messages.notifications import NotificationKind, Recipient
from workflows.roster import Roster


class RoutingRule(Contract):
    """Send matching notifications over `channels` first. Empty criteria match everything."""

    recipients: list[str] = Field(default_factory=list, description="people or roles, e.g. oncall-primary")
    teams: list[str] = Field(default_factory=list, description="teams owning the incident's service")
    severities: list[Severity] = Field(default_factory=list)
    kinds: list[NotificationKind] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1, description="channel names, tried in order")

    def matches(
        self, recipient: str, team: str | None, severity: Severity | None, kind: NotificationKind
    ) -> bool:
        return (
            (not self.recipients or recipient in self.recipients)
            and (not self.teams or team in self.teams)
            and (not self.severities or severity in self.severities)
            and (not self.kinds or kind in self.kinds)
        )


class Routing(Contract):
    """How notifications travel. Non-secret: channel names, a bridge URL, cadences, retry settings."""

    rules: list[RoutingRule] = Field(default_factory=list)
    broadcasts: list[RoutingRule] = Field(
        default_factory=list,
        description="copies to channels whatever the recipients (status page, #incidents)",
    )
    default_channels: list[str] = Field(
        default_factory=list, description="last-resort chain; empty means [page_channel]"
    )
    bridge: str | None = Field(default=None, description="conference bridge URL shown in SEV-1/SEV-2 pages")
    retry_initial_seconds: float = Field(default=1.0, gt=0, description="first retry backoff per channel")
    retry_maximum_seconds: float = Field(
        default=30.0, gt=0, description="longest backoff per channel, a provider's Retry-After included"
    )
    retry_maximum_attempts: int = Field(default=5, ge=1, description="attempts per channel before fallback")
    delivery_budget: PositiveDuration = Field(
        default=timedelta(seconds=60),
        description="longest one channel may take, its retries included, before the next channel is tried",
    )

    @model_validator(mode="after")
    def _backoff_grows(self) -> Routing:
        # Temporal refuses a retry policy whose maximum interval is below its initial one, and it would refuse
        # it when the first page is scheduled: say so when the policy loads instead.
        if self.retry_maximum_seconds < self.retry_initial_seconds:
            raise ValueError(
                f"retry_maximum_seconds ({self.retry_maximum_seconds:g}) must be at least "
                f"retry_initial_seconds ({self.retry_initial_seconds:g})"
            )
        return self


class RouteGroup(Contract):
    """Recipients who share one chain of channels; `label` tells groups apart in idempotency keys."""

    recipients: list[Recipient]
    channels: list[str]
    label: str = ""

    @property
    def names(self) -> list[str]:
        return [recipient.name for recipient in self.recipients]


def channel_chain(
    routing: Routing,
    roster: Roster,
    page_channel: str,
    recipient: str,
    team: str | None,
    severity: Severity | None,
    kind: NotificationKind,
) -> list[str]:
    """The channels to try for one recipient, in fallback order (never empty, no repeats)."""
    chain: list[str] = []
    for rule in routing.rules:
        if rule.matches(recipient, team, severity, kind):
            chain += rule.channels
    person = roster.people.get(recipient)
    if person is not None:
        chain += person.channels
    chain += routing.default_channels or [page_channel]
    return list(dict.fromkeys(chain))


def recipient_contacts(roster: Roster, name: str) -> Recipient:
    person = roster.people.get(name)
    if person is None:
        return Recipient(name=name)
    return Recipient(name=name, email=person.email, slack_user_id=person.slack_user_id, phone=person.phone)


BROADCAST_LABEL = "broadcast-"


def plan_routes(
    routing: Routing,
    roster: Roster,
    page_channel: str,
    recipients: list[str],
    service: str | None,
    severity: Severity | None,
    kind: NotificationKind,
) -> list[RouteGroup]:
    """Group recipients by chain, in the order recipients were given. No recipients: one anonymous group."""
    team = roster.team_of(service)
    groups: dict[tuple[str, ...], RouteGroup] = {}
    for name in list(dict.fromkeys(recipients)) or [""]:
        chain = channel_chain(routing, roster, page_channel, name, team, severity, kind)
        group = groups.setdefault(tuple(chain), RouteGroup(recipients=[], channels=chain))
        if name:
            group.recipients.append(recipient_contacts(roster, name))
    planned = list(groups.values())
    everyone = [recipient for group in planned for recipient in group.recipients]
    for index, rule in enumerate(routing.broadcasts):
        # A broadcast goes out whoever the recipients are: only team, severity and kind select it.
        if rule.model_copy(update={"recipients": []}).matches("", team, severity, kind):
            label = f"{BROADCAST_LABEL}{index}"
            planned.append(RouteGroup(recipients=everyone, channels=rule.channels, label=label))
    if len(planned) > 1:
        for group in planned:
            group.label = group.label or "+".join(group.names) or "nobody"
    return planned
