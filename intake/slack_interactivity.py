"""Reading Slack's interactivity request: a form body `payload=<JSON>` of type `block_actions` (a button was
clicked) into the one thing warroom acts on, a `ButtonPress` on an Approve or Reject button.

Slack adds fields over time, so its wire models ignore unknown fields; warroom's own button value is strict.
Another app button on the same Slack app (a link button, a future menu) is not an error: it is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake.body import parse_json
from intake.errors import IntakeError
from intake.routes import validated
from workflows.messages.approval_buttons import COMMAND_OF_BUTTON, ApprovalButtonValue


class _SlackWire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SlackUser(_SlackWire):
    id: str = Field(min_length=1, max_length=64, description="the member id, e.g. U024BE7LH")
    username: str | None = Field(default=None, max_length=200)


class SlackTeam(_SlackWire):
    id: str = Field(min_length=1, max_length=64)


class SlackAction(_SlackWire):
    action_id: str = Field(max_length=255)
    type: str | None = None
    value: str | None = Field(default=None, max_length=2000)
    action_ts: str | None = Field(default=None, max_length=64)


class BlockActions(_SlackWire):
    """Slack's `block_actions` interaction payload (the fields warroom reads)."""

    type: str
    user: SlackUser
    team: SlackTeam | None = None
    actions: list[SlackAction] = Field(default_factory=list)
    response_url: str | None = Field(default=None, max_length=2000)
    trigger_id: str | None = Field(default=None, max_length=200)


@dataclass(frozen=True)
class ButtonPress:
    """A verified Slack user clicked Approve or Reject on one action of one incident."""

    slack_user_id: str
    slack_user_name: str | None
    command: str  # approve_action / reject_action
    target: ApprovalButtonValue
    response_url: str | None
    click_id: str  # unique per click: the command id, so a replayed request is a no-op in the incident


def form_payload(raw: bytes) -> str:
    """The `payload` field of an `application/x-www-form-urlencoded` body."""
    try:
        fields = parse_qs(raw.decode("utf-8"), strict_parsing=True, max_num_fields=50)
    except UnicodeDecodeError:
        raise IntakeError(400, "body", "not UTF-8") from None
    except ValueError:
        raise IntakeError(400, "body", "not a form (application/x-www-form-urlencoded)") from None
    values = fields.get("payload", [])
    if len(values) != 1:
        raise IntakeError(400, "payload", "missing; Slack sends one form field 'payload' with the JSON")
    return values[0]


def read_button_press(raw: bytes) -> ButtonPress | None:
    """The press of a warroom button, or None for an interaction warroom does not handle."""
    document = parse_json(form_payload(raw).encode(), "payload")
    payload = validated(BlockActions, document, "payload")
    if payload.type != "block_actions":
        return None
    for index, action in enumerate(payload.actions):
        command = COMMAND_OF_BUTTON.get(action.action_id)
        if command is None:
            continue
        where = f"payload.actions.{index}.value"
        if not action.value:
            raise IntakeError(422, where, "missing; warroom's buttons carry the incident and action ids")
        try:
            target = ApprovalButtonValue.model_validate_json(action.value)
        except ValidationError as error:
            raise IntakeError.invalid(error, where) from None
        return ButtonPress(
            slack_user_id=payload.user.id,
            slack_user_name=payload.user.username,
            command=command,
            target=target,
            response_url=payload.response_url,
            click_id=f"slack/{payload.user.id}/{action.action_ts or payload.trigger_id or target.action_id}",
        )
    return None
