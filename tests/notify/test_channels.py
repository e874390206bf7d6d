"""Each channel against its real local receiver: bodies, headers, signatures, idempotency keys, escaping."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import io
import json
import threading
import time
from collections.abc import Iterator

import pytest
from temporalio.exceptions import ApplicationError
from werkzeug import Response

from adapters.notify.console import ConsoleNotifier
from tests.notify.conftest import Mailbox, Receiver, notifiers_for
from workflows.messages.common import Severity
from workflows.messages.notifications import Notification, NotificationKind, Recipient

HOSTILE = (
    '<!channel> <https://evil.example|click> *bold* [x](https://evil.example) <script>alert(1)</script> & "'
)


def notification(kind: NotificationKind = NotificationKind.PAGE, **changes: object) -> Notification:
    base = Notification(
        idempotency_key="incident-t1/page/0/chan",
        incident_id="incident-t1",
        kind=kind,
        channel="chan",
        recipients=["alice", "oncall-primary"],
        contacts=[Recipient(name="alice", email="alice@example.com", slack_user_id="U123")],
        severity=Severity.SEV1,
        service="checkout",
        subject=f"[SEV-1] checkout: {HOSTILE}",
        body="Escalation level 1 (on-call).",
        facts={
            "impact": "all users; $2,000,000/h at risk",
            "incident_commander": "carol",
            "bridge": "https://meet.example/warroom",
            "next_update_at": "2026-11-27 00:30 UTC",
            "ack_hint": "Acknowledge: warroom ack incident-t1 --by <you>",
        },
        links=["https://grafana.example/d/1", "javascript:alert(1)"],
    )
    return base.model_copy(update=changes)


async def test_slack_posts_block_kit_with_severity_colour_mentions_and_escaped_summary(
    receiver: Receiver,
) -> None:
    notifier = notifiers_for({"chan": {"type": "slack", "webhook_url": receiver.url("/services/T1/B1/xyz")}})[
        "chan"
    ]

    result = await notifier.send(notification())

    assert result.delivered
    [request] = receiver.requests
    assert request.path == "/services/T1/B1/xyz" and request.headers["Content-Type"] == "application/json"
    payload = request.json()
    attachment = payload["attachments"][0]
    assert attachment["color"] == "#D00000"
    blocks = attachment["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": notification().subject[:150]},
    }
    text = blocks[1]["text"]["text"]
    for fact in ("Impact: all users", "Incident commander: carol", "Bridge: https://meet.example/warroom",
                 "Next update: 2026-11-27 00:30 UTC"):  # fmt: skip
        assert fact in text
    # Hostile text stays data: Slack's control characters are escaped everywhere mrkdwn is parsed (the
    # header is plain_text, which Slack never parses, so it may keep the raw characters).
    mrkdwn = json.dumps([payload["text"], blocks[1:]])
    assert "<!channel>" not in mrkdwn and "<https://evil.example|click>" not in mrkdwn
    assert "&lt;!channel&gt;" in text and "&lt;!channel&gt;" in payload["text"]
    fields = [field["text"] for field in blocks[2]["fields"]]
    assert "*Severity*\nSEV-1" in fields and "*Paged*\n<@U123>, oncall-primary" in fields
    assert "warroom ack incident-t1 --by &lt;you&gt;" in blocks[3]["elements"][0]["text"]
    assert "javascript:" not in text


async def test_teams_posts_an_adaptive_card_with_facts_and_escaped_markdown(receiver: Receiver) -> None:
    notifier = notifiers_for({"chan": {"type": "teams", "webhook_url": receiver.url("/webhookb2/abc")}})[
        "chan"
    ]

    await notifier.send(notification())

    [request] = receiver.requests
    attachment = request.json()["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["color"] == "Attention"
    assert {"title": "Severity", "value": "SEV-1"} in card["body"][1]["facts"]
    title = card["body"][0]["text"]
    assert r"\[x\](https://evil.example)" in title and r"\*bold\*" in title  # no forged link or emphasis
    assert "Incident commander: carol" in card["body"][2]["text"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Link 1", "url": "https://grafana.example/d/1"}
    ]


async def test_webhook_signs_the_body_and_carries_the_idempotency_key(receiver: Receiver) -> None:
    channels = {"chan": {"type": "webhook", "url": receiver.url("/hook"), "hmac_key": "${HOOK_KEY}"}}
    notifier = notifiers_for(channels, {"HOOK_KEY": "hmac-key-42"})["chan"]

    await notifier.send(notification())

    [request] = receiver.requests
    assert request.headers["Idempotency-Key"] == "incident-t1/page/0/chan"
    timestamp = request.headers["X-Warroom-Timestamp"]
    expected = hmac.new(b"hmac-key-42", timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Warroom-Signature"] == f"sha256={expected}"
    body = request.json()
    assert body["idempotency_key"] == "incident-t1/page/0/chan" and body["kind"] == "page"
    assert body["recipients"][0] == {"name": "alice", "email": "alice@example.com", "slack_user_id": "U123",
                                     "phone": None}  # fmt: skip
    assert body["subject"].endswith(HOSTILE)  # JSON keeps hostile text as a string value


async def test_pagerduty_triggers_acknowledges_and_resolves_one_alert_by_dedup_key(
    receiver: Receiver,
) -> None:
    channels = {"chan": {"type": "pagerduty", "routing_key": "${PD_KEY}", "base_url": receiver.url("/")}}
    notifier = notifiers_for(channels, {"PD_KEY": "R0UTINGKEY"})["chan"]

    for kind in (NotificationKind.PAGE, NotificationKind.ACKNOWLEDGEMENT, NotificationKind.RESOLUTION):
        await notifier.send(notification(kind))
    skipped = await notifier.send(notification(NotificationKind.STATUS_UPDATE))

    events = [request.json() for request in receiver.requests]
    assert [request.path for request in receiver.requests] == ["/v2/enqueue"] * 3
    assert [event["event_action"] for event in events] == ["trigger", "acknowledge", "resolve"]
    assert {event["dedup_key"] for event in events} == {"incident-t1"}
    assert {event["routing_key"] for event in events} == {"R0UTINGKEY"}
    trigger = events[0]["payload"]
    assert trigger["severity"] == "critical" and trigger["component"] == "checkout"
    assert trigger["custom_details"]["idempotency_key"] == "incident-t1/page/0/chan"
    assert events[0]["links"] == [{"href": "https://grafana.example/d/1"}]
    assert skipped.delivered and "nothing to send" in skipped.detail


async def test_status_page_upserts_the_public_incident_with_customer_wording(receiver: Receiver) -> None:
    channels = {"chan": {"type": "statuspage", "base_url": receiver.url("/v1"), "page_id": "pg1",
                         "api_key": "${SP_KEY}"}}  # fmt: skip
    notifier = notifiers_for(channels, {"SP_KEY": "sp-key-1"})["chan"]

    await notifier.send(notification(NotificationKind.PAGE, facts={"status_page_status": "investigating"}))
    await notifier.send(
        notification(NotificationKind.STATUS_UPDATE, facts={"status_page_status": "monitoring"})
    )
    await notifier.send(notification(NotificationKind.RESOLUTION, facts={}))

    assert [(r.method, r.path) for r in receiver.requests] == [
        ("PUT", "/v1/pages/pg1/incidents/incident-t1")
    ] * 3
    assert [r.json()["incident"]["status"] for r in receiver.requests] == [
        "investigating",
        "monitoring",
        "resolved",
    ]
    first = receiver.requests[0]
    assert first.headers["Authorization"] == "OAuth sp-key-1"
    assert first.headers["Idempotency-Key"] == "incident-t1/page/0/chan"
    incident = first.json()["incident"]
    assert incident["impact_override"] == "critical" and incident["name"] == "checkout disruption"
    assert (
        "carol" not in incident["body"] and "meet.example" not in incident["body"]
    )  # internal facts stay in


async def test_email_over_starttls_with_auth_sends_plain_and_escaped_html(mailbox: Mailbox) -> None:
    channels = {"chan": {"type": "email", "host": mailbox.host, "port": mailbox.port, "security": "starttls",
                         "username": mailbox.username, "password": "${SMTP_PASSWORD}",
                         "sender": "warroom@example.com", "to": ["incidents@example.com"],
                         "ca_file": str(mailbox.ca_file)}}  # fmt: skip
    notifier = notifiers_for(channels, {"SMTP_PASSWORD": mailbox.password})["chan"]

    result = await notifier.send(notification())

    assert result.delivered
    [received] = mailbox.messages
    assert received["tls"] and received["authenticated"]
    assert received["to"] == ["alice@example.com", "incidents@example.com"]
    message = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert message["Message-ID"].endswith("@warroom>")
    assert message["X-Warroom-Idempotency-Key"] == "incident-t1/page/0/chan"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Incident commander: carol" in plain and "<script>alert(1)</script>" in plain
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "border-left: 6px solid #D00000" in html


async def test_email_with_a_wrong_password_is_refused_not_retried(mailbox: Mailbox) -> None:
    channels = {"chan": {"type": "email", "host": mailbox.host, "port": mailbox.port, "username": "warroom",
                         "password": "${SMTP_PASSWORD}", "sender": "w@example.com",
                         "ca_file": str(mailbox.ca_file)}}  # fmt: skip
    notifier = notifiers_for(channels, {"SMTP_PASSWORD": "wrong-password"})["chan"]

    with pytest.raises(ApplicationError) as refused:
        await notifier.send(notification())

    assert refused.value.non_retryable and "SMTP 535" in refused.value.message
    assert mailbox.messages == []


@pytest.mark.parametrize("channel_type", ["slack", "webhook"])
async def test_a_4xx_is_non_retryable_with_the_channels_message(
    receiver: Receiver, channel_type: str
) -> None:
    url_option = "webhook_url" if channel_type == "slack" else "url"
    notifier = notifiers_for({"chan": {"type": channel_type, url_option: receiver.url("/x")}})["chan"]
    receiver.answer((400, "invalid_payload"))

    with pytest.raises(ApplicationError) as refused:
        await notifier.send(notification())

    assert refused.value.non_retryable and refused.value.message == "chan: HTTP 400: invalid_payload"


async def test_a_5xx_or_429_is_retryable_and_429_passes_on_retry_after(receiver: Receiver) -> None:
    notifier = notifiers_for({"chan": {"type": "slack", "webhook_url": receiver.url("/x")}})["chan"]
    receiver.answer((503, "try later"))
    with pytest.raises(ApplicationError) as unavailable:
        await notifier.send(notification())
    assert not unavailable.value.non_retryable and "HTTP 503" in unavailable.value.message

    receiver.answer((429, "rate_limited"))
    receiver.server.clear_all_handlers()
    receiver.server.expect_request("/x").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "7"}
    )
    with pytest.raises(ApplicationError) as limited:
        await notifier.send(notification())
    assert limited.value.next_retry_delay is not None and limited.value.next_retry_delay.total_seconds() == 7


async def test_slack_timeout_after_sending_is_an_unknown_delivery_not_a_retry(receiver: Receiver) -> None:
    """Slack cannot dedupe: a lost answer must not turn into a second page. (The receiver answers after the
    adapter's 0.2 s timeout; that is the condition under test, not a speed assertion.)"""
    released = threading.Event()
    receiver.on_request = lambda _: released.wait(5)
    channels = {"chan": {"type": "slack", "webhook_url": receiver.url("/x"), "timeout_seconds": 0.2}}
    notifier = notifiers_for(channels)["chan"]

    try:
        result = await notifier.send(notification())
    finally:
        released.set()

    assert result.outcome == "unknown" and not result.delivered
    assert "delivery unknown" in result.detail and "not retried" in result.detail


async def test_a_channel_timeout_bounds_the_whole_exchange_not_each_read(receiver: Receiver) -> None:
    """A receiver that dribbles its answer, a chunk every 0.1 s for 1 s: no single read waits 0.3 s, so only a
    bound on the whole exchange stops it. The pause is the condition under test, not a speed assertion."""

    def dribble() -> Iterator[bytes]:
        for _ in range(10):
            time.sleep(0.1)
            yield b"."

    receiver.server.clear_all_handlers()
    receiver.server.expect_request("/x").respond_with_handler(lambda _: Response(dribble(), status=200))
    channels = {"chan": {"type": "slack", "webhook_url": receiver.url("/x"), "timeout_seconds": 0.3}}

    result = await notifiers_for(channels)["chan"].send(notification())

    assert result.outcome == "unknown" and not result.delivered
    assert result.detail.startswith("chan: delivery unknown (no answer within 0.3 s)")


async def test_webhook_timeout_is_retried_because_the_receiver_dedupes(receiver: Receiver) -> None:
    released = threading.Event()
    receiver.on_request = lambda _: released.wait(5)
    channels = {"chan": {"type": "webhook", "url": receiver.url("/x"), "timeout_seconds": 0.2}}
    notifier = notifiers_for(channels)["chan"]

    try:
        with pytest.raises(ApplicationError) as no_answer:
            await notifier.send(notification())
    finally:
        released.set()

    assert not no_answer.value.non_retryable and "same key" in no_answer.value.message


async def test_a_missing_secret_is_a_configuration_error_naming_the_variable(receiver: Receiver) -> None:
    notifier = notifiers_for({"chan": {"type": "slack", "webhook_url": "${NOT_SET_ANYWHERE}"}})["chan"]

    with pytest.raises(ApplicationError) as refused:
        await notifier.send(notification())

    assert refused.value.non_retryable and "${NOT_SET_ANYWHERE}" in refused.value.message


async def test_an_exhausted_rate_limit_becomes_a_retry_after_the_wait_without_sending(
    receiver: Receiver,
) -> None:
    channels = {"chan": {"type": "webhook", "url": receiver.url("/x"), "rate_per_minute": 1, "burst": 1}}
    notifier = notifiers_for(channels)["chan"]

    await notifier.send(notification())
    with pytest.raises(ApplicationError) as limited:
        await notifier.send(notification())

    assert len(receiver.requests) == 1  # the storm stopped in the worker, not at the channel
    assert not limited.value.non_retryable and "rate limit" in limited.value.message
    assert limited.value.next_retry_delay is not None and limited.value.next_retry_delay.total_seconds() > 50


async def test_email_over_implicit_tls(tls_mailbox: Mailbox) -> None:
    box = tls_mailbox
    channels = {"chan": {"type": "email", "host": box.host, "port": box.port, "security": "ssl",
                         "username": box.username, "password": "${SMTP_PASSWORD}",
                         "sender": "warroom@example.com", "ca_file": str(box.ca_file)}}  # fmt: skip
    notifier = notifiers_for(channels, {"SMTP_PASSWORD": tls_mailbox.password})["chan"]

    await notifier.send(notification())

    [received] = tls_mailbox.messages
    assert received["tls"] and received["authenticated"] and received["to"] == ["alice@example.com"]


async def test_console_shows_terminal_control_characters_instead_of_obeying_them() -> None:
    console = io.StringIO()
    hostile = notification(subject="db down\x1b[2J\x1b[Hall clear", body="line\x07bell")

    await ConsoleNotifier(console).send(hostile)

    assert (
        "\x1b" not in console.getvalue()
        and "\\x1b[2J" in console.getvalue()
        and "\\x07" in console.getvalue()
    )


async def test_an_email_subject_cannot_inject_headers(mailbox: Mailbox) -> None:
    box = mailbox
    channels = {"chan": {"type": "email", "host": box.host, "port": box.port, "username": box.username,
                         "password": "${SMTP_PASSWORD}", "sender": "w@example.com",
                         "ca_file": str(box.ca_file)}}  # fmt: skip
    notifier = notifiers_for(channels, {"SMTP_PASSWORD": box.password})["chan"]

    await notifier.send(notification(subject="down\r\nBcc: attacker@example.com"))

    message = email.message_from_bytes(mailbox.messages[0]["content"], policy=email.policy.default)
    assert message["Bcc"] is None and mailbox.messages[0]["to"] == ["alice@example.com"]
    assert message["Subject"] == "down Bcc: attacker@example.com"


async def test_a_slack_page_says_its_severity_once_and_does_not_repeat_its_subject(
    receiver: Receiver,
) -> None:
    """Review: the fallback text read `[SEV-1] [SEV-1] checkout: ...` and the page body repeated the subject."""
    notifier = notifiers_for({"chan": {"type": "slack", "webhook_url": receiver.url("/hook")}})["chan"]
    page = notification(subject="[SEV-1] checkout: payments failing", body="Why you: page level 1 (on-call).")
    assert (await notifier.send(page)).delivered
    payload = receiver.requests[0].json()
    assert payload["text"] == "[SEV-1] checkout: payments failing"
    section = payload["attachments"][0]["blocks"][1]["text"]["text"]
    assert section.count("payments failing") == 1 and "[SEV-1] [SEV-1]" not in section
