"""Slack's request signature and the button payload, without a server: Slack's own documented example, and
every way a request can fail (missing, wrong secret, tampered body, stale, from the future, no secret set)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from starlette.datastructures import Headers

from intake.errors import IntakeError
from intake.slack_interactivity import read_button_press
from intake.slack_signature import require_slack_signature, slack_signature

# The example of Slack's "Verifying requests from Slack" page: secret, timestamp, body and the signature Slack
# sent. Matching it proves the base string (`v0:<timestamp>:<body>`) and the encoding are Slack's.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = float(DOC_TIMESTAMP) + 10


def headers(signature: str | None = DOC_SIGNATURE, timestamp: str | None = DOC_TIMESTAMP) -> Headers:
    values = {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": timestamp}
    return Headers({name: value for name, value in values.items() if value is not None})


def refusal(**changes: object) -> IntakeError:
    arguments: dict[str, object] = {
        "headers": headers(), "raw": DOC_BODY, "secret": SecretStr(DOC_SECRET), "now": NOW,
    } | changes  # fmt: skip
    with pytest.raises(IntakeError) as refused:
        require_slack_signature(**arguments)  # type: ignore[arg-type]
    return refused.value


def test_slacks_documented_example_signs_and_verifies() -> None:
    assert slack_signature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    require_slack_signature(headers(), DOC_BODY, SecretStr(DOC_SECRET), now=NOW)


@pytest.mark.parametrize(
    ("changes", "status", "field", "words"),
    [
        ({"secret": SecretStr("another-apps-secret")}, 401, "X-Slack-Signature", "does not match"),
        ({"raw": DOC_BODY.replace(b"roadrunner", b"coyote")}, 401, "X-Slack-Signature", "does not match"),
        ({"headers": headers(signature=None)}, 401, "X-Slack-Signature", "missing"),
        ({"headers": headers(timestamp=None)}, 401, "X-Slack-Request-Timestamp", "missing"),
        ({"headers": headers(timestamp="yesterday")}, 401, "X-Slack-Request-Timestamp", "Unix time"),
        ({"now": NOW + 301}, 401, "X-Slack-Request-Timestamp", "replayed"),
        ({"now": NOW - 400}, 401, "X-Slack-Request-Timestamp", "replayed"),  # a timestamp from the future
        ({"secret": None}, 403, "X-Slack-Signature", "WARROOM_INTAKE_SLACK_SIGNING_SECRET"),
    ],
    ids=["wrong-secret", "tampered-body", "no-signature", "no-timestamp", "bad-timestamp", "stale", "future",
         "not-configured"],
)  # fmt: skip
def test_a_request_not_signed_by_slack_within_five_minutes_is_refused_naming_the_header(
    changes: dict[str, object], status: int, field: str, words: str
) -> None:
    error = refusal(**changes)

    assert (error.status, error.problems[0][0]) == (status, field)
    assert words in error.problems[0][1]
    assert DOC_SECRET not in str(error.response().body) and "a2114d57" not in str(error.response().body)


def test_a_timestamp_four_minutes_old_is_still_fresh() -> None:
    require_slack_signature(headers(), DOC_BODY, SecretStr(DOC_SECRET), now=float(DOC_TIMESTAMP) + 240)


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(action_id: str = "warroom_approve", value: str | None = None) -> dict[str, object]:
    action = {"action_id": action_id, "type": "button", "action_ts": "1764545000.1234", "block_id": "b"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "team_id": "T1"},
        "team": {"id": "T1", "domain": "acme"},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.com/actions/T1/1/xyz",
        "actions": [action],
        "a_field_slack_adds_later": {"anything": True},
    }


def test_an_approve_click_names_the_command_the_target_and_a_click_id() -> None:
    value = '{"incident_id":"incident-db-down","action_id":"a2"}'

    press = read_button_press(form(block_actions(value=value)))

    assert press is not None
    assert (press.command, press.target.incident_id, press.target.action_id) == (
        "approve_action", "incident-db-down", "a2",
    )  # fmt: skip
    assert press.slack_user_id == "U0ALICE" and press.click_id == "slack/U0ALICE/1764545000.1234"
    reject = read_button_press(form(block_actions("warroom_reject", value)))
    assert reject is not None and reject.command == "reject_action"


def test_another_buttons_click_is_ignored_not_refused() -> None:
    assert read_button_press(form(block_actions("open_dashboard", "x"))) is None
    assert read_button_press(form({**block_actions(), "type": "view_submission"})) is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"payload=%7Bnot-json", "payload"),
        (b"token=abc", "payload"),
        (b"\xff\xfe", "body"),
        (form({"type": "block_actions", "actions": []}), "payload.user"),
        (form(block_actions()), "payload.actions.0.value"),
        (form(block_actions(value='{"incident_id": "rm -rf", "action_id": "a1"}')), "payload.actions.0.value.incident_id"),
        (form(block_actions(value='{"incident_id": "incident-x", "action_id": "a1", "by": "eve"}')), "payload.actions.0.value.by"),
    ],
    ids=["bad-json", "no-payload", "not-utf8", "no-user", "no-value", "not-an-incident", "smuggled-approver"],
)  # fmt: skip
def test_a_malformed_payload_is_refused_naming_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(IntakeError) as refused:
        read_button_press(raw)

    assert refused.value.problems[0][0] == field and 400 <= refused.value.status < 500
