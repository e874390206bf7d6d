"""What every layer shares: the base contract, severities, phases, roles, the task queue and ids."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

TASK_QUEUE = "warroom"

WORKFLOW_ID_PREFIX = "incident-"


def incident_workflow_id(key: str) -> str:
    """The workflow id of the incident for a dedup key (or an id that already carries the prefix)."""
    return key if key.startswith(WORKFLOW_ID_PREFIX) else f"{WORKFLOW_ID_PREFIX}{key}"


class Severity(StrEnum):
    """SEV-1 is the worst. Values are what humans type ("SEV-2")."""

    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"
    SEV4 = "SEV-4"

    @property
    def rank(self) -> int:
        """1 for SEV-1 ... 4 for SEV-4: lower is more severe."""
        return int(self.value[-1])

    @classmethod
    def most_severe(cls, severities: list[Severity]) -> Severity:
        return min(severities, key=lambda severity: severity.rank)


class Phase(StrEnum):
    """Where an incident is in its life; also the IncidentPhase search attribute."""

    DETECTION = "detection"
    CLASSIFICATION = "classification"
    RESPONSE = "response"
    RECOVERY = "recovery"
    ANALYSIS = "analysis"
    CLOSED = "closed"


RoleName = Literal["incident_commander", "tech_lead", "communications", "business_liaison"]

ROLES: tuple[RoleName, ...] = ("incident_commander", "tech_lead", "communications", "business_liaison")


class Contract(BaseModel):
    """Base for models humans type: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
