"""Amazon SNS over HTTP/S: signature verification (SignatureVersion 1 = SHA1, 2 = SHA256, RSA PKCS#1 v1.5)
and subscription confirmation, talking only to a genuine `sns.<region>.amazonaws.com` host over https.

The certificate fetcher and the confirmer are injectable: tests pass a locally generated certificate and
record confirmations instead of reaching the internet. Both defaults refuse any URL that is not a genuine
SNS host, whatever the (signed or unsigned) message says.

A certificate that cannot be fetched *right now* (connection error, timeout, 5xx) is a 503, not a 403: SNS
retries only 5xx answers, so a 403 for a transient failure would lose the alarm. A certificate that was
fetched and does not verify the signature stays 403.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import Field

from intake.errors import IntakeError, RetryLater
from intake.formats.fields import SenderModel

_GENUINE_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
FETCH_TIMEOUT = 5.0
# A signed message stays valid forever; refusing old ones bounds what a captured message can replay.
MAX_MESSAGE_AGE = timedelta(hours=1)

CertificateFetcher = Callable[[str], Awaitable[bytes]]
Confirmer = Callable[[str], Awaitable[None]]


class SnsMessage(SenderModel):
    Type: Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]
    MessageId: str = Field(min_length=1, max_length=200)
    TopicArn: str = Field(min_length=1, max_length=500)
    Subject: str | None = None
    Message: str = Field(max_length=262144)
    Timestamp: str = Field(min_length=1, max_length=64)
    SignatureVersion: Literal["1", "2"]
    Signature: str = Field(min_length=1, max_length=4096)
    SigningCertURL: str = Field(min_length=1, max_length=2000)
    SubscribeURL: str | None = Field(default=None, max_length=4000)
    Token: str | None = Field(default=None, max_length=4000)
    UnsubscribeURL: str | None = Field(default=None, max_length=4000)


def is_genuine_sns_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.port in (None, 443)
        and bool(_GENUINE_HOST.match(parts.hostname or ""))
    )


def string_to_sign(message: SnsMessage) -> bytes:
    """AWS's canonical form: selected keys in byte order, each as 'Key\\nValue\\n'."""
    if message.Type == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    fields = message.model_dump()
    return "".join(f"{key}\n{fields[key]}\n" for key in keys if fields.get(key) is not None).encode()


class SnsUnreachable(RetryLater):
    """SNS's host failed in a way that may pass (no connection, timeout, 429, 5xx): the sender retries."""


async def download(url: str, wait_seconds: float = FETCH_TIMEOUT) -> bytes:
    """GET `url`. A transient failure raises SnsUnreachable; any other non-2xx raises httpx.HTTPStatusError."""
    try:
        async with httpx.AsyncClient(timeout=wait_seconds, follow_redirects=False) as http:
            response = await http.get(url)
    except httpx.TransportError as error:  # refused, reset, DNS, every kind of timeout
        raise SnsUnreachable(f"SNS host unreachable ({type(error).__name__})") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise SnsUnreachable(f"SNS host answered {response.status_code}")
    response.raise_for_status()
    return response.content


async def fetch_certificate(url: str) -> bytes:
    if not is_genuine_sns_url(url):
        raise IntakeError(403, "SigningCertURL", "not a genuine SNS host of AWS")
    return await download(url)


async def confirm_subscription(url: str) -> None:
    if not is_genuine_sns_url(url):
        raise IntakeError(403, "SubscribeURL", "not a genuine SNS host of AWS")
    try:
        await download(url)
    except httpx.HTTPStatusError as error:  # SNS refused the token (expired, already used): not retryable
        raise IntakeError(
            400, "SubscribeURL", f"SNS refused the confirmation ({error.response.status_code})"
        ) from None


def _require_fresh(timestamp: str) -> None:
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise IntakeError(400, "Timestamp", "not an ISO 8601 time") from None
    if sent.tzinfo is None or abs(datetime.now(UTC) - sent) > MAX_MESSAGE_AGE:
        raise IntakeError(403, "Timestamp", f"more than {MAX_MESSAGE_AGE} away from now (replayed?)")


class SnsVerifier:
    def __init__(
        self, fetch: CertificateFetcher = fetch_certificate, confirm: Confirmer = confirm_subscription
    ) -> None:
        self._fetch = fetch
        self.confirm = confirm
        self._keys: dict[str, rsa.RSAPublicKey] = {}

    async def verify(self, message: SnsMessage) -> None:
        """Raise 403 unless the message is signed by the certificate at a genuine SNS URL (SnsUnreachable
        when that certificate cannot be fetched right now)."""
        if not message.SigningCertURL.endswith(".pem") or not is_genuine_sns_url(message.SigningCertURL):
            raise IntakeError(403, "SigningCertURL", "not a .pem on a genuine SNS host of AWS")
        try:
            signature = base64.b64decode(message.Signature, validate=True)
        except binascii.Error:
            raise IntakeError(403, "Signature", "not base64") from None
        key = await self._public_key(message.SigningCertURL)
        algorithm = hashes.SHA1() if message.SignatureVersion == "1" else hashes.SHA256()
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise IntakeError(403, "Signature", "does not verify against the SNS certificate") from None
        _require_fresh(message.Timestamp)

    async def _public_key(self, url: str) -> rsa.RSAPublicKey:
        if url not in self._keys:
            try:
                certificate = x509.load_pem_x509_certificate(await self._fetch(url))
            except (IntakeError, RetryLater):  # a failed fetch is not cached: the retry fetches again
                raise
            except (httpx.HTTPError, ValueError):
                raise IntakeError(403, "SigningCertURL", "certificate could not be loaded") from None
            key = certificate.public_key()
            if not isinstance(key, rsa.RSAPublicKey) or certificate.not_valid_after_utc < datetime.now(UTC):
                raise IntakeError(403, "SigningCertURL", "not a valid RSA certificate")
            self._keys[url] = key
        return self._keys[url]
