"""The SNS signing certificate fetched over real HTTP from a loopback server: a transient failure to fetch it
answers 503 + Retry-After (SNS retries only 5xx), a certificate that does not verify the signature stays 403.

The production fetcher refuses any host but `sns.<region>.amazonaws.com`, so the verifier here is given the
production download code (`intake.sns.download`) pointed at the loopback server instead of AWS."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from intake.app import create_app
from intake.handoff import Handoff
from intake.server import serving
from intake.sns import SnsVerifier, download
from tests.conftest import free_port, running_worker
from tests.intake.conftest import TOKEN, Intake, SnsSigner, intake_config
from tests.intake.test_sender_routes import alarm_notification, sns_headers

FETCH_TIMEOUT = 0.5


class CertificateHost:
    """A real HTTP server that serves the certificate, or fails the way a test tells it to."""

    def __init__(self, certificate_pem: bytes) -> None:
        self.certificate_pem = certificate_pem
        self.status_code = 200
        self.delay = 0.0
        self.requests = 0
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests += 1
                time.sleep(host.delay)  # a server thread, not the test's event loop
                body = host.certificate_pem if host.status_code == 200 else b"<Error>try later</Error>"
                self.send_response(host.status_code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/SimpleNotificationService.pem"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def cert_host(sns_key: tuple[rsa.RSAPrivateKey, bytes]) -> Iterator[CertificateHost]:
    host = CertificateHost(sns_key[1])
    yield host
    host.close()


def verifier_fetching_from(url: str) -> SnsVerifier:
    async def fetch(_: str) -> bytes:
        return await download(url, wait_seconds=FETCH_TIMEOUT)

    return SnsVerifier(fetch=fetch)


async def post_alarm(url: str, signer: SnsSigner, arn: str) -> httpx.Response:
    alarm = signer.sign(alarm_notification("ALARM", arn))
    async with httpx.AsyncClient(timeout=20) as http:
        return await http.post(
            f"{url}/v1/alerts/cloudwatch?service=checkout",
            json=alarm,
            headers=sns_headers(alarm) | {"Authorization": f"Bearer {TOKEN}"},
        )


async def test_a_transient_certificate_failure_answers_503_and_the_retry_gets_through(
    make_intake: Any, dev_env: Any, settings: Any, sns_signer: SnsSigner, cert_host: CertificateHost
) -> None:
    arn = f"arn:aws:cloudwatch:us-east-1:482113905716:alarm:checkout-5xx-{uuid4()}"
    handoff = Handoff(dev_env.client, settings.task_queue, intake_config().correlation_window)
    app = create_app(intake_config(), handoff, verifier_fetching_from(cert_host.url))
    async with running_worker(dev_env.client, settings), serving(app, "127.0.0.1", 0) as url:
        for status_code, delay in ((503, 0.0), (500, 0.0), (429, 0.0), (200, FETCH_TIMEOUT * 4)):
            cert_host.status_code, cert_host.delay = status_code, delay
            answer = await post_alarm(url, sns_signer, arn)
            assert answer.status_code == 503, (status_code, delay, answer.text)
            assert answer.headers["Retry-After"] and answer.json()["status"] == "unavailable"
        intake = Intake(url, httpx.AsyncClient(), dev_env.client, settings)
        assert not await intake.exists(arn)

        cert_host.status_code, cert_host.delay = 200, 0.0  # the host recovers: SNS's retry is accepted
        answer = await post_alarm(url, sns_signer, arn)
        assert answer.status_code == 202, answer.text
        await intake.status_when(arn, lambda s: s.alert_count == 1)
        await intake.handle(arn).signal("resolve", {"by": "tester"})
        await intake.handle(arn).result()
        await intake.http.aclose()


async def test_an_unreachable_certificate_host_answers_503(sns_signer: SnsSigner, dev_env: Any) -> None:
    closed = f"http://127.0.0.1:{free_port()}/SimpleNotificationService.pem"  # nothing listens there
    handoff = Handoff(dev_env.client, f"unused-{uuid4()}", intake_config().correlation_window)
    app = create_app(intake_config(), handoff, verifier_fetching_from(closed))
    async with serving(app, "127.0.0.1", 0) as url:
        answer = await post_alarm(url, sns_signer, f"arn:aws:cloudwatch:us-east-1:1:alarm:x-{uuid4()}")
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "ConnectError" in answer.json()["error"]


async def test_a_fetched_certificate_that_does_not_verify_or_a_4xx_stays_403(
    sns_signer: SnsSigner, dev_env: Any, cert_host: CertificateHost
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forger = SnsSigner(stranger, sns_signer.certificate_pem)  # signs with a key the certificate is not for
    handoff = Handoff(dev_env.client, f"unused-{uuid4()}", intake_config().correlation_window)
    app = create_app(intake_config(), handoff, verifier_fetching_from(cert_host.url))
    async with serving(app, "127.0.0.1", 0) as url:
        forged = await post_alarm(url, forger, f"arn:aws:cloudwatch:us-east-1:1:alarm:f-{uuid4()}")
        assert cert_host.requests == 1  # the certificate was fetched, and then did not verify
        assert forged.status_code == 403 and forged.json()["problems"][0]["field"] == "Signature"

    cert_host.status_code = 404  # a certificate that is not there is not going to appear on a retry
    app = create_app(intake_config(), handoff, verifier_fetching_from(cert_host.url))
    async with serving(app, "127.0.0.1", 0) as url:
        gone = await post_alarm(url, sns_signer, f"arn:aws:cloudwatch:us-east-1:1:alarm:g-{uuid4()}")
    assert gone.status_code == 403 and gone.json()["problems"][0]["field"] == "SigningCertURL"
