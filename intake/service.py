"""The intake as a running service on an existing Temporal client: what `warroom run` and `warroom intake`
start. The caller owns the client and the process (signals, shutdown order)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from intake.app import create_app
from intake.config import IntakeConfig
from intake.handoff import Handoff
from intake.server import serving
from intake.slack_approvals import SlackApprovals, SlackPeople


@asynccontextmanager
async def serve_intake(
    client: Client, task_queue: str, config: IntakeConfig, slack_people: SlackPeople | None = None
) -> AsyncIterator[str]:
    """Serve until the block exits; yields the base URL. `slack_people` (who a Slack member is in the roster)
    turns on Approve / Reject from Slack, together with the Slack signing secret."""
    handoff = Handoff(client, task_queue, config.correlation_window, repeat_window=config.repeat_window)
    slack = SlackApprovals(slack_people) if slack_people is not None else None
    async with serving(create_app(config, handoff, slack=slack), config.host, config.port) as url:
        yield url
