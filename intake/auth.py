"""Who may post: a shared secret on every route (bearer, or basic auth for senders that can only put
credentials in the URL), plus the sender's own proof where it has one. Comparisons are constant-time, and no
answer ever repeats what was presented."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable

from pydantic import SecretStr
from starlette.datastructures import Headers

from intake.errors import IntakeError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="warroom-intake", Basic realm="warroom-intake"'}
GRAFANA_SIGNATURE = "X-Grafana-Alerting-Signature"
GRAFANA_TIMESTAMP = "X-Grafana-Alerting-Signature-Timestamp"
GRAFANA_MAX_SKEW = 300


def presented_secret(headers: Headers) -> str | None:
    """The bearer token, or the basic-auth password (the user name when the password is empty)."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user or None
    return None


def matches(candidate: str, secrets: Iterable[SecretStr]) -> bool:
    found = False
    for secret in secrets:  # no early exit: timing does not tell which secret matched
        found |= hmac.compare_digest(candidate.encode(), secret.get_secret_value().encode())
    return found


def require_token(headers: Headers, tokens: tuple[SecretStr, ...]) -> None:
    if not tokens:
        raise IntakeError(403, "Authorization", "the intake has no token configured (WARROOM_INTAKE_TOKEN)")
    secret = presented_secret(headers)
    if secret is None:
        raise IntakeError(
            401, "Authorization", "missing; send 'Bearer <token>' or basic auth", headers=CHALLENGE
        )
    if not matches(secret, tokens):
        raise IntakeError(403, "Authorization", "the token is not accepted")


def require_grafana_signature(headers: Headers, raw: bytes, secret: SecretStr | None) -> None:
    """Grafana's webhook HMAC: hex SHA-256 of the body, or of '<timestamp>:<body>' with a timestamp header."""
    if secret is None:
        return
    signature = headers.get(GRAFANA_SIGNATURE)
    if not signature:
        raise IntakeError(401, GRAFANA_SIGNATURE, "missing; this intake requires Grafana's HMAC signature")
    timestamp = headers.get(GRAFANA_TIMESTAMP)
    message = f"{timestamp}:".encode() + raw if timestamp else raw
    expected = hmac.new(secret.get_secret_value().encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
        raise IntakeError(403, GRAFANA_SIGNATURE, "does not match the body")
    if timestamp and not (timestamp.isdigit() and abs(time.time() - int(timestamp)) <= GRAFANA_MAX_SKEW):
        raise IntakeError(403, GRAFANA_TIMESTAMP, f"more than {GRAFANA_MAX_SKEW} s away from now (replayed?)")


def require_routing_key(routing_key: str, keys: tuple[SecretStr, ...]) -> None:
    if not keys or not matches(routing_key, keys):
        raise IntakeError(403, "routing_key", "not a configured integration key")


def require_hub_signature(
    headers: Headers, raw: bytes, secret: SecretStr | None, header: str, what: str
) -> None:
    """GitHub's `X-Hub-Signature-256` and Jira's `X-Hub-Signature`: `sha256=` + hex HMAC-SHA256 of the raw body."""
    if secret is None:
        raise IntakeError(403, header, f"the intake has no {what} webhook secret configured")
    signature = headers.get(header)
    if not signature:
        raise IntakeError(401, header, f"missing; this intake requires the {what} webhook's signature")
    expected = "sha256=" + hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
        raise IntakeError(403, header, "does not match the body")


def require_query_secret(presented: str | None, secret: SecretStr | None, what: str) -> None:
    """A shared secret in the webhook URL, for Jira sites that cannot sign (Data Center, app webhooks)."""
    if secret is None:
        raise IntakeError(403, "secret", f"the intake has no {what} webhook secret configured")
    if not presented:
        raise IntakeError(
            401, "X-Hub-Signature", "missing; sign the webhook with its secret (or add ?secret=)"
        )
    if not matches(presented, (secret,)):
        raise IntakeError(403, "secret", "not accepted")
