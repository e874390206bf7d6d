"""Slack's request signature: proof that a request comes from Slack (our Slack app), unchanged and fresh.

Slack signs `v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's signing secret (HMAC-SHA256, hex) and
sends `X-Slack-Signature: v0=<hex>`. The timestamp must be within 5 minutes of now, so a captured request
cannot be replayed later; within the window a replay repeats the same command id, which the incident ignores.
The comparison is constant-time, and no answer says anything about the expected value.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from pydantic import SecretStr
from starlette.datastructures import Headers

from intake.errors import IntakeError

SIGNATURE = "X-Slack-Signature"
TIMESTAMP = "X-Slack-Request-Timestamp"
VERSION = "v0"
MAX_AGE_SECONDS = 300


def slack_signature(secret: str, timestamp: str, raw: bytes) -> str:
    """The `X-Slack-Signature` value Slack sends for this body and timestamp."""
    base = f"{VERSION}:{timestamp}:".encode() + raw
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def require_slack_signature(
    headers: Headers, raw: bytes, secret: SecretStr | None, now: float | None = None
) -> None:
    """Raise a 401/403 `IntakeError` unless the request is signed by Slack within the last 5 minutes."""
    if secret is None:
        raise IntakeError(
            403, SIGNATURE, "the intake has no Slack signing secret (WARROOM_INTAKE_SLACK_SIGNING_SECRET)"
        )
    signature = headers.get(SIGNATURE)
    timestamp = headers.get(TIMESTAMP)
    if not signature:
        raise IntakeError(401, SIGNATURE, "missing; only Slack's signed requests are accepted here")
    if not timestamp:
        raise IntakeError(401, TIMESTAMP, "missing; Slack sends it with every signed request")
    if not timestamp.isdigit():
        raise IntakeError(401, TIMESTAMP, "not a Unix time in seconds")
    # Freshness first: an old request is refused whatever its signature, and says why.
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > MAX_AGE_SECONDS:
        raise IntakeError(
            401, TIMESTAMP, f"more than {MAX_AGE_SECONDS} s away from now (a replayed or delayed request)"
        )
    expected = slack_signature(secret.get_secret_value(), timestamp, raw)
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise IntakeError(401, SIGNATURE, "does not match the body and timestamp (wrong signing secret?)")
