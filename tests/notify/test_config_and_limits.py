"""Worker-side configuration: channels file, secret references, redaction, rate limits, templates override."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.notify.rate_limit import RateLimited, TokenBucket
from adapters.notify.templates import Templates
from config.channels import ChannelConfigError, load_channels
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
