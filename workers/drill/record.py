"""What a drill run produced: plain data the scorecard, the comparison and the reports are computed from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from workers.drill.recording import RecordedNotification
from workflows.messages.action_items import ReviewView
from workflows.messages.status import IncidentResult, IncidentStatus, TimelineEvent
from workflows.policy import Policy


class AlertDelivery(BaseModel):
    """One scenario alert step at the intake door and what it answered."""

    sent_at: datetime = Field(description="when the scenario's sender sent it (the drill's clock)")
    at: datetime = Field(description="when the intake answered")
    step: str
    format: str
    answer: dict[str, object]


class IncidentRecord(BaseModel):
    incident_id: str
    status: IncidentStatus = Field(description="the last status the incident (or its aftercare) answered")
    events: list[TimelineEvent] = Field(description="the whole timeline: archive and state, in order")
    result: IncidentResult | None = Field(default=None, description="None when the drill ended first")
    review: ReviewView | None = Field(default=None, description="the post-mortem review after resolution")


class DrillRun(BaseModel):
    scenario: str
    policy_name: str
    policy_file: str
    policy: Policy
    started_at: datetime
    ended_at: datetime
    deliveries: list[AlertDelivery] = Field(default_factory=list)
    incidents: list[IncidentRecord] = Field(default_factory=list)
    notifications: list[RecordedNotification] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list, description="what the simulated people did, in order")
