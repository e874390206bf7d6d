"""Runbooks and the recovery policy: what warroom may do to a system, who must agree first, and how traffic
comes back. Plain data pinned with the rest of the policy, so an edit never changes a running incident.

Risk classes follow the incident guide: low-risk, reversible actions run on their own (`automatic`); anything
that takes capacity away, changes data or speaks to the outside waits for a human (`approval`); judgement
calls (business trade-offs, legal, media) are tasks for named roles that warroom tracks and never executes
(`human_only`). An action that leaves `risk` out gets the class its operation has in the guide, and an
operation the guide does not name needs approval: the safe side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from workflows.durations import PositiveDuration
from workflows.messages.common import Contract, RoleName

RiskClass = Literal["automatic", "approval", "human_only"]
# The guide's defaults by operation name (adapters name their operations; docs/containment.md lists them).
AUTOMATIC_OPERATIONS = frozenset(
    {"snapshot", "diagnostic_snapshot", "open_circuit", "circuit_breaker", "rate_limit",
     "status_page_investigating"}
)  # fmt: skip
APPROVAL_OPERATIONS = frozenset(
    {"drain", "disable", "disable_server", "set_weight", "shutdown", "maintenance_mode", "rollback",
     "disable_feature", "external_comms", "data_fix", "scale"}
)  # fmt: skip
DEFAULT_APPROVERS = ["role:incident_commander", "role:tech_lead"]


def default_risk(operation: str | None) -> RiskClass:
    if not operation:
        return "human_only"
    return "automatic" if operation in AUTOMATIC_OPERATIONS else "approval"


class Restore(Contract):
    """How recovery undoes an action once the incident is mitigated.

    `traffic`: the action took traffic away; recovery brings it back in the policy's steps with `operation`
    (normally `set_weight`, params merged over the action's and given `percent`), a health gate after each.
    `once`: one call after the traffic is back, e.g. `enable_feature` for a feature disabled in containment."""

    kind: Literal["traffic", "once"]
    operation: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)


class ActionSpec(Contract):
    """One action of a runbook's catalogue."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str | None = Field(default=None, max_length=500)
    adapter: str | None = Field(default=None, max_length=100, description="none for a human-only task")
    operation: str | None = Field(default=None, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict, description="no secrets: the worker adds those")
    risk: RiskClass | None = Field(default=None, description="default: the guide's class of the operation")
    trigger: Literal["response", "manual"] = Field(
        default="response", description="response: proposed when the response starts; manual: on request"
    )
    approvers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_APPROVERS),
        description="who may approve: people, role:X, team:X, rotation:X, function:X",
    )
    escalation: list[list[str]] = Field(
        default_factory=list,
        description="who is asked, round by round, after each approval_timeout; default one round: approvers",
    )
    approval_timeout: PositiveDuration = timedelta(minutes=10)
    two_person: bool = Field(default=False, description="needs a second approver who is not the requester")
    safe_default: Literal["skip", "act"] = Field(
        default="skip", description="what happens when nobody decides in time: normally, do not act"
    )
    owners: list[RoleName] = Field(
        default_factory=lambda: ["incident_commander"],  # type: ignore[arg-type]
        description="human_only: the roles the task is for",
    )
    restore: Restore | None = None

    @model_validator(mode="after")
    def _complete(self) -> ActionSpec:
        if self.risk is None:
            self.risk = default_risk(self.operation)
        if self.risk != "human_only" and not (self.adapter and self.operation):
            raise ValueError(f"action '{self.name}': an {self.risk} action needs an adapter and an operation")
        if self.risk == "approval" and not self.approvers:
            raise ValueError(f"action '{self.name}': an approval action needs approvers")
        return self

    @property
    def risk_class(self) -> RiskClass:
        return self.risk or default_risk(self.operation)

    @property
    def ask_rounds(self) -> list[list[str]]:
        return self.escalation or [self.approvers]

    @property
    def may_approve(self) -> list[str]:
        """Everyone asked at any round may decide, beside the named approvers."""
        references = list(self.approvers)
        for round_ in self.escalation:
            references += [reference for reference in round_ if reference not in references]
        return references


class Runbook(Contract):
    """A service's (or an alert label's) ordered actions: the catalogue `propose_action` picks from."""

    name: str = Field(min_length=1, max_length=100)
    services: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(
        default_factory=dict, description="chosen when an alert of the incident carries all these labels"
    )
    actions: list[ActionSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Runbook:
        names = [action.name for action in self.actions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"runbook '{self.name}': action names must be unique: {', '.join(duplicates)}")
        return self

    def action(self, name: str) -> ActionSpec | None:
        return next((action for action in self.actions if action.name == name), None)


class ContainmentPolicy(Contract):
    runbooks: list[Runbook] = Field(default_factory=list)
    adapters: list[str] = Field(
        default_factory=list,
        description="adapters the worker offers (for `warroom policy check`); empty: any",
    )

    def runbook_for(self, service: str | None, labels: dict[str, str]) -> Runbook | None:
        """The service's runbook first, else the first whose labels all match the incident's alerts."""
        for runbook in self.runbooks:
            if service and service in runbook.services:
                return runbook
        for runbook in self.runbooks:
            if runbook.labels and all(labels.get(key) == value for key, value in runbook.labels.items()):
                return runbook
        return None

    def named(self, name: str | None) -> Runbook | None:
        return next((runbook for runbook in self.runbooks if runbook.name == name), None)


class RecoveryPolicy(Contract):
    """Phased restoration after containment took traffic away."""

    steps: list[int] = Field(default_factory=lambda: [10, 25, 50, 100], min_length=1)
    soak: PositiveDuration = Field(default=timedelta(minutes=5), description="health observed after a step")
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    max_latency_ms: float = Field(default=500, gt=0)
    health_urls: dict[str, str] = Field(
        default_factory=dict,
        description="service -> URL answering JSON error_rate/latency_ms; default: health_checks' URL",
    )
    page_on_failure: list[str] = Field(default_factory=lambda: ["role:tech_lead"])

    @model_validator(mode="after")
    def _rising_to_100(self) -> RecoveryPolicy:
        if any(not 0 < step <= 100 for step in self.steps) or self.steps != sorted(set(self.steps)):
            raise ValueError(f"recovery steps must rise strictly within 1..100, got {self.steps}")
        if self.steps[-1] != 100:
            raise ValueError(f"recovery steps must end at 100 (all traffic back), got {self.steps}")
        return self
