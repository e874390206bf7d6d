"""A drill scenario: a script in time. Alerts in their senders' own formats, simulated responders, scripted
commands and the end of the drill. Field names are typed by people in YAML, so unknown ones are refused.

Offsets (`at`) count from the drill's start; a responder's `acknowledges_after` counts from that responder's
first page, so the same people behave the same way under another policy (`--compare`).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.durations import NonNegativeDuration, PositiveDuration, format_duration
from workflows.messages.action_items import PostmortemComplete
from workflows.messages.commands import (
    Acknowledge,
    AddNote,
    AssignRole,
    Escalate,
    Mitigate,
    PostUpdate,
    Reclassify,
    RecordRegulatoryNotification,
    Resolve,
    Snooze,
)
from workflows.roster import Weekday

SENDER_FORMATS = ("alertmanager", "grafana", "datadog", "pagerduty", "cloudwatch", "generic")
HUMAN = ConfigDict(extra="forbid")


class Start(BaseModel):
    """When the drill's clock starts (UTC): the next such moment, so rotations and business hours are those of
    the night rehearsed, whatever day the drill runs."""

    model_config = HUMAN
    day: Weekday = "mon"
    at: time = time(10, 0)

    def start_time(self) -> time:
        return self.at


class AlertStep(BaseModel):
    """One delivery from a sender, as its webhook body (YAML or JSON), handed to the real intake route."""

    model_config = HUMAN
    at: NonNegativeDuration
    id: str | None = Field(default=None, description="a name the script's commands can target")
    format: Literal["alertmanager", "grafana", "datadog", "pagerduty", "cloudwatch", "generic"]
    body: dict[str, Any]
    service: str | None = Field(default=None, description="cloudwatch only: the subscription's ?service=")


class Decision(BaseModel):
    """A responder's answer to an approval request for a containment action (issue 9's approvals)."""

    model_config = HUMAN
    action: str = Field(min_length=1, description="the action's name, as the incident's status lists it")
    decision: Literal["approve", "reject"]
    after: NonNegativeDuration = Field(description="after the action asked for approval")
    reason: str | None = Field(default=None, max_length=2000, description="required to reject")


class Responder(BaseModel):
    """How one person behaves when paged. Absent from the list, or without `acknowledges_after`: never answers."""

    model_config = HUMAN
    acknowledges_after: NonNegativeDuration | None = Field(
        default=None, description="after this person's first page (or escalation) of the incident"
    )
    note: str | None = None
    decides: list[Decision] = Field(
        default_factory=list, description="containment actions this person approves or rejects when asked"
    )


class _Scripted(BaseModel):
    """What every scripted command has beside the command's own fields."""

    at: NonNegativeDuration
    incident: str | None = Field(
        default=None, description="the `id` of the alert whose incident it targets (default: the first)"
    )


class AcknowledgeStep(_Scripted, Acknowledge):
    do: Literal["acknowledge"]


class AddNoteStep(_Scripted, AddNote):
    do: Literal["add_note"]


class ReclassifyStep(_Scripted, Reclassify):
    do: Literal["reclassify"]


class MitigateStep(_Scripted, Mitigate):
    do: Literal["mitigate"]


class ResolveStep(_Scripted, Resolve):
    do: Literal["resolve"]


class AssignRoleStep(_Scripted, AssignRole):
    do: Literal["assign_role"]


class EscalateStep(_Scripted, Escalate):
    do: Literal["escalate"]


class SnoozeStep(_Scripted, Snooze):
    do: Literal["snooze"]


class PostUpdateStep(_Scripted, PostUpdate):
    do: Literal["post_update"]


class RegulatoryStep(_Scripted, RecordRegulatoryNotification):
    do: Literal["record_regulatory_notification"]


class PostmortemCompleteStep(_Scripted, PostmortemComplete):
    """Close the post-mortem review (sent to the incident's review workflow, after resolution)."""

    do: Literal["postmortem_complete"]


class _ActionStep(_Scripted):
    """Approvals are the workflow's (issue 9): the drill names the action, the workflow knows it by its id.
    Fields mirror issue 9's ApproveAction / RejectAction, with `action` (a name) for `action_id`."""

    model_config = HUMAN
    by: str = Field(min_length=1, max_length=200)
    action: str = Field(min_length=1, description="the action's name; the drill finds its id in the status")


class ApproveStep(_ActionStep):
    do: Literal["approve_action"]
    reason: str | None = Field(default=None, max_length=2000)


class RejectStep(_ActionStep):
    do: Literal["reject_action"]
    reason: str = Field(min_length=1, max_length=2000)


class ProposeStep(_Scripted):
    """A human proposes a containment action of the incident's runbook (issue 9's ProposeAction)."""

    model_config = HUMAN
    do: Literal["propose_action"]
    by: str = Field(min_length=1, max_length=200)
    action: str = Field(min_length=1, max_length=100, description="an action of the incident's runbook")
    params: dict[str, Any] = Field(default_factory=dict, description="merged over the runbook's params")
    reason: str | None = Field(default=None, max_length=2000)


# The commands a drill sends that the workflow may not have yet (issue 9 adds them to IncidentWorkflow).
APPROVAL_COMMANDS = ("propose_action", "approve_action", "reject_action")

ScriptedCommand = Annotated[
    AcknowledgeStep | AddNoteStep | ReclassifyStep | MitigateStep | ResolveStep | AssignRoleStep
    | EscalateStep | SnoozeStep | PostUpdateStep | RegulatoryStep | PostmortemCompleteStep | ProposeStep
    | ApproveStep | RejectStep,
    Field(discriminator="do"),
]  # fmt: skip


class Scenario(BaseModel):
    model_config = HUMAN
    name: str = Field(min_length=1)
    description: str = ""
    start: Start = Field(default_factory=Start)
    until: PositiveDuration = Field(
        default=timedelta(days=4), description="the drill stops here even if incidents are still open"
    )
    alerts: list[AlertStep] = Field(min_length=1)
    responders: dict[str, Responder] = Field(default_factory=dict)
    script: list[ScriptedCommand] = Field(default_factory=list)

    def command_payload(self, step: _Scripted) -> dict[str, Any]:
        """The command as the workflow's signal takes it: the step without the script's own fields."""
        return step.model_dump(mode="json", exclude={"at", "incident", "do"}, exclude_none=True)


COMMANDS = {
    "acknowledge", "add_note", "reclassify", "mitigate", "resolve", "assign_role", "escalate", "snooze",
    "post_update", "record_regulatory_notification", "postmortem_complete", *APPROVAL_COMMANDS,
}  # fmt: skip
# Sent to the review workflow that follows resolution, not to the incident.
REVIEW_COMMANDS = {"postmortem_complete"}
Location = tuple[int | str, ...]


def commands_used(scenario: Scenario) -> set[str]:
    used: set[str] = {step.do for step in scenario.script}
    if any(responder.decides for responder in scenario.responders.values()):
        used |= {"approve_action", "reject_action"}
    return used


def script_problems(scenario: Scenario) -> list[tuple[Location, str]]:
    """What the schema cannot see: a step aimed at an alert id that does not exist, a step after the end,
    a rejection without its reason."""
    problems: list[tuple[Location, str]] = []
    for person, responder in scenario.responders.items():
        for index, decision in enumerate(responder.decides):
            if decision.decision == "reject" and not decision.reason:
                problems.append((("responders", person, "decides", index, "reason"), "required to reject"))
    ids = {alert.id for alert in scenario.alerts if alert.id}
    for index, step in enumerate(scenario.script):
        if step.incident is not None and step.incident not in ids:
            known = ", ".join(sorted(ids)) or "none"
            problems.append(
                (("script", index, "incident"), f"no alert has the id '{step.incident}' ({known})")
            )
    offsets = [("alerts", index, step.at) for index, step in enumerate(scenario.alerts)]
    offsets += [("script", index, step.at) for index, step in enumerate(scenario.script)]
    for field, index, at in offsets:
        if at > scenario.until:
            problems.append(
                    ((field, index, "at"), f"{format_duration(at)} is after `until` "
                     f"({format_duration(scenario.until)}): it would never run")
                )  # fmt: skip
    return problems
