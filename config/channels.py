"""The worker's notification channels: a YAML file named by `WARROOM_CHANNELS`.

```yaml
channels:
  oncall-slack:
    type: slack
    webhook_url: ${SLACK_WEBHOOK_URL}     # a secret reference, resolved at send time
    rate_per_minute: 20
```

Each channel has a name (what the policy refers to), a `type` (console, slack, teams, email, pagerduty,
webhook, statuspage), non-secret options, and `${NAME}` references for secrets. The file itself may be
committed: it holds no secret values. `console` is always available, even without a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workflows.delivery import NOTIFY_TIMEOUT
from workflows.messages.validation import describe_validation_error

CHANNELS_VARIABLE = "WARROOM_CHANNELS"
TEMPLATES_VARIABLE = "WARROOM_TEMPLATES_DIR"
CHANNEL_TYPES = ("console", "slack", "teams", "email", "pagerduty", "webhook", "statuspage")

ENVIRONMENT_VARIABLES = {
    CHANNELS_VARIABLE: "YAML file of notification channels (default: only `console`)",
    "WARROOM_SECRETS_FILE": "NAME=value file for ${NAME} secret references not set in the environment",
    TEMPLATES_VARIABLE: "directory whose <kind>.txt.j2 / email.html.j2 override the built-in templates",
}


# A notify attempt has NOTIFY_TIMEOUT in all (Temporal then times it out and tries again, possibly while the
# first HTTP call still delivers: a Slack post twice). Inside it a send may wait for the channel's rate limit,
# then for the channel's answer; what is left is headroom for templates, secrets and the activity itself.
RATE_LIMIT_WAIT_SECONDS = 5.0
HEADROOM_SECONDS = 5.0
LONGEST_ANSWER_SECONDS = NOTIFY_TIMEOUT.total_seconds() - RATE_LIMIT_WAIT_SECONDS - HEADROOM_SECONDS


class ChannelConfigError(ValueError):
    """A channels file a human must fix; the message names the file, the channel and the field."""


class ChannelConfig(BaseModel):
    """One channel. Options other than the common ones are validated by the channel's adapter."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    rate_per_minute: float = Field(default=60, gt=0, description="token bucket refill rate")
    burst: int = Field(default=10, ge=1, description="messages allowed at once before the rate applies")
    timeout_seconds: float = Field(default=10, gt=0, description="how long to wait for the channel's answer")

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ChannelsConfig(BaseModel):
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    templates_dir: Path | None = None


def answer_timeout_problem(channel: ChannelConfig) -> str | None:
    """Why the channel's answer timeout does not fit in one notify attempt, or None.

    Refused rather than adjusted: the workflow sets the activity's timeout from the pinned policy, which knows
    channels only by name, so the worker's channels must fit the attempt rather than the other way round."""
    field, seconds = "timeout_seconds", channel.timeout_seconds
    if channel.type == "email" and isinstance(channel.options.get("timeout"), int | float):
        field, seconds = "timeout", float(channel.options["timeout"])  # e-mail's own SMTP timeout
    if seconds <= LONGEST_ANSWER_SECONDS:
        return None
    return (
        f"{field} {seconds:g} s is above the {LONGEST_ANSWER_SECONDS:g} s a notify attempt leaves for the "
        f"answer (its {NOTIFY_TIMEOUT.total_seconds():g} s timeout less {RATE_LIMIT_WAIT_SECONDS:g} s of "
        f"rate-limit wait and {HEADROOM_SECONDS:g} s headroom): a slower answer would be sent again while the "
        f"first may still arrive; use at most {LONGEST_ANSWER_SECONDS:g}"
    )


def parse_channels(raw: Mapping[str, Any], source: str = "channels") -> ChannelsConfig:
    entries = raw.get("channels") or {}
    if not isinstance(entries, Mapping):
        raise ChannelConfigError(f"{source}: 'channels' must be a mapping of name -> channel")
    channels: dict[str, ChannelConfig] = {}
    for name, entry in entries.items():
        if not isinstance(entry, Mapping):
            raise ChannelConfigError(f"{source}: channel '{name}' must be a mapping with a 'type'")
        try:
            channel = ChannelConfig.model_validate({**entry, "name": str(name)})
        except ValidationError as error:
            problems = describe_validation_error(error, limit=None)
            raise ChannelConfigError(f"{source}: channel '{name}': {problems}") from None
        if problem := answer_timeout_problem(channel):
            raise ChannelConfigError(f"{source}: channel '{name}': {problem}")
        if channel.type not in CHANNEL_TYPES:
            raise ChannelConfigError(
                f"{source}: channel '{name}': unknown type '{channel.type}' "
                f"(one of {', '.join(CHANNEL_TYPES)})"
            )
        channels[str(name)] = channel
    channels.setdefault("console", ChannelConfig(name="console", type="console"))
    templates = raw.get("templates_dir")
    return ChannelsConfig(channels=channels, templates_dir=Path(templates) if templates else None)


def load_channels(environ: Mapping[str, str] | None = None) -> ChannelsConfig:
    """The channels of this worker: the file in `WARROOM_CHANNELS`, else only `console`."""
    env = os.environ if environ is None else environ
    path = env.get(CHANNELS_VARIABLE)
    config = ChannelsConfig()
    if path:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ChannelConfigError(f"{path}: cannot read channels file: {error}") from None
        if not isinstance(raw, Mapping):
            raise ChannelConfigError(f"{path}: expected a mapping with a 'channels' key")
        config = parse_channels(raw, path)
    else:
        config = parse_channels({})
    if env.get(TEMPLATES_VARIABLE):
        config = config.model_copy(update={"templates_dir": Path(env[TEMPLATES_VARIABLE])})
    return config
