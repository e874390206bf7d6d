"""Real receivers for the notification tests: a recording HTTP server (pytest-httpserver) that plays Slack,
Teams, PagerDuty, webhook and status page, and a real SMTP server (aiosmtpd) with STARTTLS and AUTH."""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from activities.channels import build_notifiers
from adapters.notify.base import Notifier
from config.channels import parse_channels
from config.secrets import SecretSource
from tests.conftest import free_port

# The fake receivers' own access log (werkzeug) prints request paths; it is not warroom's log, so it stays
# out of the captured logs the secrets test scans.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; answers with the scripted statuses in order (per path if given for that path),
    then `then` forever."""

    server: HTTPServer
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    then: tuple[int, str] = (200, "ok")
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer (e.g. Retry-After)
    on_request: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def answer(self, *statuses: tuple[int, str], path: str | None = None) -> None:
        if path is None:
            self.script = list(statuses)
        else:
            self.scripts[path] = list(statuses)

    def handle(self, request: Request) -> Response:
        received = Received(request.method, request.path, dict(request.headers), request.get_data())
        with self.lock:
            self.requests.append(received)
            script = self.scripts.get(received.path) or self.script
            status, text = script.pop(0) if script else self.then
        if self.on_request is not None:
            self.on_request(received)
        return Response(text, status=status, headers=self.headers)


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    recorder = Receiver(httpserver)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder.handle)
    return recorder


def notifiers_for(
    channels: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Notifier]:
    """Adapters built the way the worker builds them: parsed channel config, secrets from `environ`."""
    return build_notifiers(parse_channels({"channels": dict(channels)}), SecretSource(environ=environ or {}))


@dataclass
class Mailbox:
    host: str
    port: int
    ca_file: Path
    username: str
    password: str
    messages: list[dict[str, Any]] = field(default_factory=list)


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mailbox.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "content": envelope.original_content or envelope.content,
                "authenticated": session.authenticated,
                # STARTTLS sets session.ssl; implicit TLS shows only on the transport.
                "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            }
        )
        return "250 OK"


def _certificates(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server certificate from a CA made for this test; the client trusts that CA through `ca_file`."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    ca_file = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def _authenticator(box: Mailbox) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == box.username and auth_data.password.decode() == box.password
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    return authenticate


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """aiosmtpd on loopback: STARTTLS required before AUTH."""
    server_context, ca_file = _certificates(tmp_path)
    box = Mailbox("127.0.0.1", free_port(), ca_file, "warroom", "smtp-pass-9f8e7d")
    controller = Controller(
        _Handler(box), hostname=box.host, port=box.port, tls_context=server_context, require_starttls=True,
        authenticator=_authenticator(box), auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """aiosmtpd on loopback speaking TLS from the first byte (port 465 style)."""
    server_context, ca_file = _certificates(tmp_path)
    box = Mailbox("127.0.0.1", free_port(), ca_file, "warroom", "smtp-pass-tls-4c4c")
    controller = Controller(
        _Handler(box), hostname=box.host, port=box.port, ssl_context=server_context,
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
        authenticator=_authenticator(box), auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()
