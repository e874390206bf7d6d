"""`warroom intake` and the intake inside `warroom run`: configuration from the environment, the token
file of the embedded stack, and the process loop. The service itself lives in intake/."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from config.policy_file import PolicyError
from config.secrets import MissingSecretError, SecretSource
from config.settings import Settings
from intake.config import IntakeConfig
from intake.server import IntakeStartError
from intake.service import serve_intake
from intake.slack_approvals import SlackPeople
from workers.client import connect
from workers.connect_errors import describe_connect_failure
from workers.slack_people import RosterSlackPeople
from workflows.messages.validation import describe_validation_error

TOKEN_FILE = "intake-token"
SLACK_SECRET = "WARROOM_INTAKE_SLACK_SIGNING_SECRET"
PROBE_TIMEOUT = timedelta(seconds=10)
# An error names the variable the user set, not the field it became.
SETTING_VARIABLES = {
    "port": "WARROOM_INTAKE_ADDRESS (port)",
    "max_body_bytes": "WARROOM_INTAKE_MAX_BODY_BYTES",
    "max_in_flight": "WARROOM_INTAKE_MAX_IN_FLIGHT",
    "correlation_window": "WARROOM_INTAKE_CORRELATION_WINDOW",
    "repeat_window": "WARROOM_INTAKE_REPEAT_WINDOW",
}


class IntakeConfigError(Exception):
    """A setting the user must fix before the intake can serve."""


def stack_token(data_dir: Path) -> tuple[SecretStr, Path]:
    """`warroom run` without WARROOM_INTAKE_TOKEN: a random token kept in a 0600 file under the data dir
    (never printed: the banner names the file)."""
    path = data_dir / TOKEN_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
    return SecretStr(path.read_text().strip()), path


def intake_config_from_env() -> IntakeConfig:
    """The WARROOM_INTAKE_* settings; a bad value is a message naming the variable, not a traceback."""
    try:
        config = IntakeConfig.from_env()
    except ValidationError as error:
        problems = describe_validation_error(error, rename=SETTING_VARIABLES)
        raise IntakeConfigError(f"bad WARROOM_INTAKE_* setting ({problems}); see docs/intake.md") from None
    if config.slack_signing_secret is None:  # like channel secrets, it may live in WARROOM_SECRETS_FILE
        try:
            secret = SecretSource().lookup(SLACK_SECRET)
        except MissingSecretError:
            return config
        config = config.model_copy(update={"slack_signing_secret": SecretStr(secret)})
    return config


def slack_people(settings: Settings, config: IntakeConfig) -> SlackPeople | None:
    """Who a Slack member is, from the policy's roster: only when Slack approvals are set up."""
    if config.slack_signing_secret is None:
        return None
    try:
        return RosterSlackPeople(settings.policy_file)
    except PolicyError as error:
        raise IntakeConfigError(f"Slack approvals need the roster: {error}") from None


def stack_intake_config(settings: Settings) -> tuple[IntakeConfig, str]:
    """The embedded stack's intake settings and how to find its token."""
    config = intake_config_from_env()
    if config.tokens:
        return config, "token: $WARROOM_INTAKE_TOKEN"
    token, path = stack_token(settings.data_dir)
    return config.model_copy(update={"tokens": (token,)}), f"token in {path}"


async def warn_if_unreachable(client: Client, settings: Settings, announce: Callable[[str], None]) -> None:
    """One look at Temporal after start: the intake keeps serving (503 until Temporal answers), but a wrong
    address or TLS setting is said at once, with the setting to fix, instead of only as 503s to senders."""
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=PROBE_TIMEOUT)
    except (RuntimeError, RPCError) as error:
        reason = describe_connect_failure(error, settings.connection)
        announce(
            f"warning: Temporal at {settings.temporal_address} does not answer yet ({reason}); "
            f"alerts get 503 + Retry-After until it does"
        )


async def run_intake(
    settings: Settings, stop_wait: Callable[[], Awaitable[Any]], announce: Callable[[str], None]
) -> None:
    """Serve the intake until `stop_wait()` returns. Connects lazily: with Temporal down the intake still
    answers, with 503 + Retry-After, so senders keep their alerts and retry."""
    config = intake_config_from_env()
    if not config.tokens:
        raise IntakeConfigError("set WARROOM_INTAKE_TOKEN (every sender must present a token)")
    people = slack_people(settings, config)
    client = await connect(settings, lazy=True)
    try:
        async with serve_intake(client, settings.task_queue, config, people) as url:
            announce(
                f"intake on {url} -> Temporal {settings.temporal_address}, task queue {settings.task_queue}"
            )
            probe = asyncio.create_task(warn_if_unreachable(client, settings, announce))
            await stop_wait()
            probe.cancel()
    except IntakeStartError as error:
        raise IntakeConfigError(str(error)) from None
    announce("intake stopped.")
