"""Worker-side configuration: channels file, secret references, redaction, rate limits, templates override."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.notify.rate_limit import RateLimited, TokenBucket
from adapters.notify.templates import Templates
from config.channels import ChannelConfigError, load_channels, parse_channels
from config.secrets import MissingSecretError, SecretSource
from workflows.messages.common import Severity
from workflows.messages.notifications import Notification, NotificationKind


def test_channels_file_keeps_secret_references_unresolved_and_console_always_exists(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  chat:\n    type: slack\n    webhook_url: ${SLACK_URL}\n    rate_per_minute: 5\n"
    )

    config = load_channels({"WARROOM_CHANNELS": str(path)})

    assert config.channels["chat"].options == {"webhook_url": "${SLACK_URL}"}
    assert config.channels["chat"].rate_per_minute == 5
    assert config.channels["console"].type == "console"


def test_a_bad_channels_file_names_the_channel_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  chat:\n    type: carrier-pigeon\n")
    with pytest.raises(ChannelConfigError, match="channel 'chat': unknown type 'carrier-pigeon'"):
        load_channels({"WARROOM_CHANNELS": str(path)})


def test_secrets_come_from_the_environment_first_then_the_secrets_file(tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("# rotated weekly\nTOKEN=from-file-token\nOTHER='quoted-value'\n")
    source = SecretSource({"TOKEN": "from-env-token", "WARROOM_SECRETS_FILE": str(secrets_file)})

    assert source.expand("Bearer ${TOKEN} ${OTHER}") == "Bearer from-env-token quoted-value"
    assert source.redact("failed with from-env-token at quoted-value") == "failed with *** at ***"
    with pytest.raises(MissingSecretError, match=r"\$\{NOPE\}"):
        source.expand("${NOPE}")


async def test_token_bucket_allows_a_burst_then_waits_then_refuses_long_waits() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(
        rate_per_minute=60, burst=3, max_wait_seconds=1.5, clock=lambda: now[0], sleep=fake_sleep
    )
    for _ in range(3):
        await bucket.acquire()
    assert slept == []
    await bucket.acquire()  # the 4th waits for one token (1 s at 1/s)
    assert slept == [pytest.approx(1.0)]

    storm = TokenBucket(
        rate_per_minute=6, burst=1, max_wait_seconds=5, clock=lambda: now[0], sleep=fake_sleep
    )
    await storm.acquire()
    with pytest.raises(RateLimited) as limited:
        await storm.acquire()  # next token in 10 s: too long to hold an activity slot
    assert limited.value.wait_seconds == pytest.approx(10.0)


async def test_the_token_bucket_bound_includes_the_wait_behind_other_senders() -> None:
    """Two senders at once, one token a second: the second waits 1 s behind the first, then would need 1 s
    more. 2 s in all is above the 1.5 s bound, so it becomes a Temporal retry instead of a longer wait."""
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        await asyncio.sleep(0)  # the other sender arrives (and queues for the lock) while this one waits
        now[0] += seconds

    bucket = TokenBucket(
        rate_per_minute=60, burst=1, max_wait_seconds=1.5, clock=lambda: now[0], sleep=fake_sleep
    )
    await bucket.acquire()
    first, second = await asyncio.gather(bucket.acquire(), bucket.acquire(), return_exceptions=True)
    assert first is None
    assert isinstance(second, RateLimited) and second.wait_seconds == pytest.approx(1.0)


def test_a_channel_answer_timeout_longer_than_a_notify_attempt_allows_is_refused_with_both_numbers() -> None:
    slow = {"channels": {"chat": {"type": "slack", "webhook_url": "${SLACK}", "timeout_seconds": 25}}}
    with pytest.raises(ChannelConfigError) as error:
        parse_channels(slow, "channels.yaml")
    assert str(error.value).startswith(
        "channels.yaml: channel 'chat': timeout_seconds 25 s is above the 20 s a notify attempt leaves for the "
        "answer (its 30 s timeout less 5 s of rate-limit wait and 5 s headroom)"
    )
    smtp = {"type": "email", "host": "127.0.0.1", "sender": "warroom@example.com", "timeout": 21}
    with pytest.raises(ChannelConfigError, match="channel 'mail': timeout 21 s is above the 20 s"):
        parse_channels({"channels": {"mail": smtp}}, "channels.yaml")
    fits = {"type": "slack", "webhook_url": "${SLACK}", "timeout_seconds": 20}
    assert parse_channels({"channels": {"chat": fits}}).channels["chat"].timeout_seconds == 20


def test_a_worker_templates_directory_overrides_one_kind_and_still_escapes(tmp_path: Path) -> None:
    (tmp_path / "page.txt.j2").write_text("CUSTOM {{ subject }} / {{ facts.get('impact') }}")
    note = Notification(
        idempotency_key="k", incident_id="incident-1", kind=NotificationKind.PAGE, channel="c",
        recipients=[], severity=Severity.SEV2, service="s", subject="<!here>", body="b",
        facts={"impact": "half"},
    )  # fmt: skip
    templates = Templates(tmp_path)

    assert templates.text(note, "slack") == "CUSTOM &lt;!here&gt; / half"
    resolution = note.model_copy(update={"kind": NotificationKind.RESOLUTION})
    assert templates.text(resolution).startswith("[RESOLVED]")  # the built-in for kinds not overridden


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_template_and_sev1_carries_impact_commander_bridge_and_next_update(
    kind: NotificationKind,
) -> None:
    note = Notification(
        idempotency_key="k", incident_id="incident-1", kind=kind, channel="c", recipients=["alice"],
        severity=Severity.SEV1, service="checkout", subject="checkout down", body="details",
        facts={"impact": "all users", "incident_commander": "carol", "bridge": "https://meet.example/1",
               "next_update_at": "12:30 UTC"},
    )  # fmt: skip
    text = Templates().text(note)
    assert "checkout down" in text
    if kind in (NotificationKind.PAGE, NotificationKind.ESCALATION, NotificationKind.STATUS_UPDATE,
                NotificationKind.ACKNOWLEDGEMENT):  # fmt: skip
        for fact in ("Impact: all users", "Incident commander: carol", "Bridge: https://meet.example/1",
                     "Next update: 12:30 UTC"):  # fmt: skip
            assert fact in text
    sev4 = Templates().text(note.model_copy(update={"severity": Severity.SEV4}))
    assert "Incident commander" not in sev4  # a SEV-4 message stays short


def test_a_watched_secret_is_redacted_even_before_it_was_used() -> None:
    source = SecretSource({"HOOK_KEY": "never-sent-yet-123"})
    source.watch(["${HOOK_KEY}", "https://example.com/plain"])

    assert source.redact("echo: never-sent-yet-123") == "echo: ***"
