"""Intake settings from the environment. Secrets are SecretStr: no repr, log or error shows them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from workflows.durations import parse_duration

DEFAULT_ADDRESS = "127.0.0.1:8480"
DEFAULT_MAX_BODY = 1024 * 1024

ENVIRONMENT_VARIABLES = {
    "WARROOM_INTAKE_TOKEN": "the bearer token (or basic-auth password) every sender must present",
    "WARROOM_INTAKE_TOKENS": "more tokens, comma-separated (e.g. one per sender, for rotation)",
    "WARROOM_INTAKE_ADDRESS": f"host:port the intake listens on (default {DEFAULT_ADDRESS})",
    "WARROOM_INTAKE_MAX_BODY_BYTES": f"largest accepted request body (default {DEFAULT_MAX_BODY})",
    "WARROOM_INTAKE_GRAFANA_HMAC_SECRET": "when set, Grafana requests must carry a valid HMAC signature",
    "WARROOM_INTAKE_GITHUB_WEBHOOK_SECRET": "the secret of the GitHub `issues` webhook (X-Hub-Signature-256) that "
    "completes action items; unset: /trackers/github refuses every request",
    "WARROOM_INTAKE_JIRA_WEBHOOK_SECRET": "the secret of the Jira issue webhook (X-Hub-Signature, or ?secret= "
    "where Jira cannot sign); unset: /trackers/jira refuses every request",
    "WARROOM_INTAKE_PAGERDUTY_ROUTING_KEYS": "accepted PagerDuty routing keys, comma-separated "
    "(default: the intake tokens)",
    "WARROOM_INTAKE_SNS_TOPICS": "accepted SNS topic ARNs, comma-separated (default: any topic)",
    "WARROOM_INTAKE_SLACK_SIGNING_SECRET": "the Slack app's signing secret: turns on Approve / Reject buttons "
    "at /slack/interactivity (also read from WARROOM_SECRETS_FILE)",
    "WARROOM_INTAKE_MAX_IN_FLIGHT": "hand-offs at once; beyond it 503 + Retry-After at once (default 256)",
    "WARROOM_INTAKE_CORRELATION_WINDOW": "join one service's alerts within this (default 5m; 0 = off)",
    "WARROOM_INTAKE_REPEAT_WINDOW": "drop a re-sent alert the incident holds, at the door, within this "
    "(default 6h; 0 = off)",
}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class IntakeConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    tokens: tuple[SecretStr, ...] = ()
    host: str = "127.0.0.1"
    port: int = Field(default=8480, ge=0, le=65535)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY, ge=1024)
    max_in_flight: int = Field(default=256, ge=1)
    grafana_hmac_secret: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    pagerduty_routing_keys: tuple[SecretStr, ...] = ()
    sns_topics: tuple[str, ...] = ()
    slack_signing_secret: SecretStr | None = None
    correlation_window: timedelta = timedelta(minutes=5)
    repeat_window: timedelta = timedelta(hours=6)

    @property
    def routing_keys(self) -> tuple[SecretStr, ...]:
        """One token for all sources is enough to start: it doubles as the PagerDuty routing key."""
        return self.pagerduty_routing_keys or self.tokens

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IntakeConfig:
        env = os.environ if environ is None else environ
        tokens = _split(env.get("WARROOM_INTAKE_TOKEN")) + _split(env.get("WARROOM_INTAKE_TOKENS"))
        host, _, port = env.get("WARROOM_INTAKE_ADDRESS", DEFAULT_ADDRESS).rpartition(":")
        values: dict[str, object] = {
            "tokens": tuple(SecretStr(token) for token in tokens),
            "host": host or "127.0.0.1",
            "port": port,
            "pagerduty_routing_keys": tuple(
                SecretStr(key) for key in _split(env.get("WARROOM_INTAKE_PAGERDUTY_ROUTING_KEYS"))
            ),
            "sns_topics": tuple(_split(env.get("WARROOM_INTAKE_SNS_TOPICS"))),
        }
        if env.get("WARROOM_INTAKE_MAX_IN_FLIGHT"):
            values["max_in_flight"] = env["WARROOM_INTAKE_MAX_IN_FLIGHT"]
        if env.get("WARROOM_INTAKE_MAX_BODY_BYTES"):
            values["max_body_bytes"] = env["WARROOM_INTAKE_MAX_BODY_BYTES"]
        for variable, name in (
            ("WARROOM_INTAKE_GRAFANA_HMAC_SECRET", "grafana_hmac_secret"),
            ("WARROOM_INTAKE_GITHUB_WEBHOOK_SECRET", "github_webhook_secret"),
            ("WARROOM_INTAKE_JIRA_WEBHOOK_SECRET", "jira_webhook_secret"),
            ("WARROOM_INTAKE_SLACK_SIGNING_SECRET", "slack_signing_secret"),
        ):
            if env.get(variable):
                values[name] = SecretStr(env[variable])
        for variable, name in (
            ("WARROOM_INTAKE_CORRELATION_WINDOW", "correlation_window"),
            ("WARROOM_INTAKE_REPEAT_WINDOW", "repeat_window"),
        ):
            if window := env.get(variable):
                values[name] = parse_duration(window if window != "0" else "0s")
        return cls.model_validate(values)
