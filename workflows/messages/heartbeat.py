"""The dead-man's switch contract: the heartbeat the intake hands over, and what the switch reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from workflows.messages.common import Contract

SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
EVENTS_KEPT = 20


def switch_workflow_id(source: str) -> str:
    return f"deadman-{source}"


class Heartbeat(Contract):
    """One sign of life from an alerting pipeline. The `heartbeat` signal payload."""

    source: str = Field(
        pattern=SOURCE_PATTERN, description="which pipeline: alertmanager, prometheus-eu, ..."
    )
    via: Literal["watchdog", "heartbeat", "manual"] = "heartbeat"


class SwitchInput(Contract):
    source: str = Field(pattern=SOURCE_PATTERN)


class SwitchEvent(Contract):
    at: datetime
    kind: Literal["armed", "silent", "resumed", "notified", "rejected"]
    summary: str


class SwitchState(Contract):
    """Everything the switch carries across continue-as-new; bounded."""

    source: str
    armed_at: datetime
    last_beat_at: datetime | None = None
    beats: int = 0
    silent_since: datetime | None = None
    silences: int = 0
    events: list[SwitchEvent] = Field(default_factory=list, description=f"the last {EVENTS_KEPT} events")


class SwitchStatus(Contract):
    source: str
    silent: bool
    last_beat_at: datetime | None
    silent_since: datetime | None
    page_due_at: datetime | None = Field(description="when the switch pages if no heartbeat arrives before")
    beats: int
    silences: int
    events: list[SwitchEvent]
