"""Build the worker's notifiers from its channel configuration: one adapter, one token bucket per channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters.notify.base import Notifier, Secrets
from adapters.notify.console import ConsoleNotifier
from adapters.notify.email import EmailChannel, EmailOptions
from adapters.notify.pagerduty import PagerDutyChannel, PagerDutyOptions
from adapters.notify.rate_limit import TokenBucket
from adapters.notify.slack import SlackChannel, SlackOptions
from adapters.notify.statuspage import StatusPageChannel, StatusPageOptions
from adapters.notify.teams import TeamsChannel, TeamsOptions
from adapters.notify.templates import Templates
from adapters.notify.webhook import WebhookChannel, WebhookOptions
from config.channels import RATE_LIMIT_WAIT_SECONDS, ChannelConfig, ChannelConfigError, ChannelsConfig
from config.secrets import SecretSource
from workflows.messages.validation import describe_validation_error

ADAPTERS: dict[str, tuple[type[BaseModel], Callable[..., Notifier]]] = {
    "slack": (SlackOptions, SlackChannel),
    "teams": (TeamsOptions, TeamsChannel),
    "email": (EmailOptions, EmailChannel),
    "pagerduty": (PagerDutyOptions, PagerDutyChannel),
    "webhook": (WebhookOptions, WebhookChannel),
    "statuspage": (StatusPageOptions, StatusPageChannel),
}


def build_notifier(channel: ChannelConfig, templates: Templates, secrets: Secrets) -> Notifier:
    if channel.type == "console":
        return ConsoleNotifier()
    options_model, adapter = ADAPTERS[channel.type]
    try:
        options = options_model.model_validate(channel.options)
    except ValidationError as error:
        problems = describe_validation_error(error, limit=None)
        raise ChannelConfigError(f"channel '{channel.name}' ({channel.type}): {problems}") from None
    limiter = TokenBucket(channel.rate_per_minute, channel.burst, max_wait_seconds=RATE_LIMIT_WAIT_SECONDS)
    kwargs: dict[str, Any] = {"templates": templates, "secrets": secrets, "limiter": limiter}
    if channel.type != "email":  # e-mail has its own `timeout` option (SMTP conversations take longer)
        kwargs["timeout"] = channel.timeout_seconds
    return adapter(channel.name, options, **kwargs)


def build_notifiers(config: ChannelsConfig, secrets: Secrets | None = None) -> dict[str, Notifier]:
    """Every configured channel by name. Secrets are not resolved here but at send time."""
    templates = Templates(config.templates_dir)
    source = secrets or SecretSource()
    if isinstance(source, SecretSource):  # every channel's secrets are scrubbed from every channel's errors
        source.watch(
            [str(value) for channel in config.channels.values() for value in channel.options.values()]
        )
    return {name: build_notifier(channel, templates, source) for name, channel in config.channels.items()}
