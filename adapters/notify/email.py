"""E-mail over SMTP (aiosmtplib: async, never blocks the worker): STARTTLS or implicit TLS, optional AUTH,
a plain-text part and an HTML part (autoescaped).

The Message-ID is derived from the idempotency key, so if a retry after a lost answer does deliver twice,
mail clients that thread or dedupe by Message-ID show it once."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field

from adapters.notify.base import NoSecrets, Secrets
from adapters.notify.errors import refused, retryable, take_send_slot
from adapters.notify.rate_limit import TokenBucket
from adapters.notify.templates import Templates
from workflows.messages.notifications import DeliveryResult, Notification


class EmailOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str
    to: list[str] = Field(default_factory=list, description="always copied, besides recipients' addresses")
    ca_file: str | None = Field(default=None, description="CA bundle to trust (a private or test CA)")
    timeout: float = 20.0


def message_id(idempotency_key: str) -> str:
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@warroom>"


class EmailChannel:
    def __init__(
        self,
        name: str,
        options: EmailOptions,
        templates: Templates | None = None,
        secrets: Secrets | None = None,
        limiter: TokenBucket | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.templates = templates or Templates()
        self.secrets: Secrets = secrets or NoSecrets()
        self._limiter = limiter

    def redact(self, text: str) -> str:
        return self.secrets.redact(text)

    def addresses(self, notification: Notification) -> list[str]:
        found = [contact.email for contact in notification.contacts if contact.email]
        return list(dict.fromkeys([*found, *self.options.to]))

    def message(self, notification: Notification, to: list[str]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = " ".join(notification.subject.split())[:200]  # no CR/LF: no header injection
        message["From"] = self.options.sender
        message["To"] = ", ".join(to)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(notification.idempotency_key)
        message["X-Warroom-Idempotency-Key"] = notification.idempotency_key
        message.set_content(self.templates.text(notification, "plain"))
        message.add_alternative(self.templates.html(notification), subtype="html")
        return message

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.options.security == "none":
            return None
        return ssl.create_default_context(cafile=self.options.ca_file)

    async def send(self, notification: Notification) -> DeliveryResult:
        to = self.addresses(notification)
        if not to:
            names = ", ".join(notification.recipients) or "nobody"
            raise refused(self.name, f"no e-mail address for {names} (roster `email` or channel `to`)")
        await take_send_slot(self.name, self._limiter)
        try:
            password = self.secrets.expand(self.options.password) if self.options.password else None
        except LookupError as missing:
            raise refused(self.name, str(missing)) from None
        try:
            async with asyncio.timeout(self.options.timeout):  # aiosmtplib's timeout is per SMTP command
                await aiosmtplib.send(
                    self.message(notification, to),
                    hostname=self.options.host,
                    port=self.options.port,
                    username=self.options.username,
                    password=password,
                    use_tls=self.options.security == "ssl",
                    start_tls=self.options.security == "starttls",
                    tls_context=self._tls_context(),
                    timeout=self.options.timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise refused(
                self.name, f"recipients refused: {', '.join(r.recipient for r in error.recipients)}"
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            reason = self.redact(f"SMTP {error.code}: {error.message}")
            if 500 <= error.code < 600:  # permanent: bad address, auth refused
                raise refused(self.name, reason) from None
            raise retryable(self.name, reason) from None
        except TimeoutError:  # retried: the Message-ID lets mail clients collapse a duplicate
            raise retryable(self.name, f"no answer within {self.options.timeout:g} s") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise retryable(self.name, self.redact(f"{type(error).__name__}: {error}")) from None
        return DeliveryResult(
            channel=self.name,
            recipients=notification.recipients,
            delivered=True,
            detail=f"{self.name}: mailed to {len(to)} address(es)",
        )
