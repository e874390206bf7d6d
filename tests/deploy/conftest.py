"""A private CA (trustme), certificates on disk as an operator would have them, and TLS endpoints in front of the
session's dev server: one that requires a client certificate (mutual TLS) and one that does not."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from temporalio.testing import WorkflowEnvironment

from tests.deploy.tls_proxy import TlsProxy, tls_proxy

SERVER_NAME = "temporal.internal"  # a name the certificate carries that no resolver knows


@dataclass(frozen=True)
class Pki:
    ca: trustme.CA
    server: trustme.LeafCert
    ca_file: Path
    client_cert_file: Path
    client_key_file: Path
    other_ca_file: Path  # a CA that signed nothing the server presents

    def env(self, *, ca: bool = True, client_cert: bool = True) -> dict[str, str]:
        """The WARROOM_TEMPORAL_TLS_* settings an operator would set."""
        env = {}
        if ca:
            env["WARROOM_TEMPORAL_TLS_CA"] = str(self.ca_file)
        if client_cert:
            env["WARROOM_TEMPORAL_TLS_CERT"] = str(self.client_cert_file)
            env["WARROOM_TEMPORAL_TLS_KEY"] = str(self.client_key_file)
        return env


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1", SERVER_NAME)
    client = ca.issue_cert("warroom-worker")
    ca.cert_pem.write_to_path(directory / "ca.pem")
    client.cert_chain_pems[0].write_to_path(directory / "client.pem")
    client.private_key_pem.write_to_path(directory / "client.key")
    trustme.CA().cert_pem.write_to_path(directory / "other-ca.pem")
    return Pki(
        ca=ca,
        server=server,
        ca_file=directory / "ca.pem",
        client_cert_file=directory / "client.pem",
        client_key_file=directory / "client.key",
        other_ca_file=directory / "other-ca.pem",
    )


def _server_context(pki: Pki, *, require_client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki.server.configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        pki.ca.configure_trust(context)
    return context


def _upstream(env: WorkflowEnvironment) -> tuple[str, int]:
    host, _, port = env.client.service_client.config.target_host.rpartition(":")
    return host, int(port)


@pytest.fixture(scope="session")
async def mtls_endpoint(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    """The dev server behind TLS that requires a client certificate signed by the CA (mutual TLS)."""
    async with tls_proxy(_server_context(pki, require_client_cert=True), *_upstream(dev_env)) as proxy:
        yield proxy


@pytest.fixture(scope="session")
async def tls_endpoint(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    """The dev server behind server-only TLS (what Temporal Cloud with an API key looks like)."""
    async with tls_proxy(_server_context(pki, require_client_cert=False), *_upstream(dev_env)) as proxy:
        yield proxy
