"""Each way the SDK reports a server that refused a missing client certificate reads as that hint.

The texts are the SDK's own, collected against the mutual-TLS endpoint of tests/deploy/test_tls.py: which one
comes depends on how far the client got before the server's refusal (TLS 1.3), so the end-to-end test there
saw each of them in turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode

from config.temporal_connection import TemporalConnection
from workers.connect_errors import describe_connect_failure

CONNECT = "Failed client connect: `get_system_info` call error after connection: Status { code: %s }"
REFUSALS = [
    'Unknown, message: "transport error", source: Some(hyper::Error(Io, Custom { kind: UnexpectedEof, '
    'error: "peer closed connection without sending TLS close_notify" }))',
    'Unknown, message: "transport error", source: Some(hyper::Error(Io, Custom { kind: BrokenPipe, error: '
    '"stream closed because of a broken pipe" }))',
    'Cancelled, message: "operation was canceled", source: Some(hyper::Error(Canceled, "connection closed"))',
]
TLS_NO_CERT = TemporalConnection(tls=True, ca_file=Path("ca.pem"))


@pytest.mark.parametrize("status", REFUSALS)
def test_a_refused_handshake_names_the_client_certificate(status: str) -> None:
    reason = describe_connect_failure(RuntimeError(CONNECT % status), TLS_NO_CERT)
    assert "require a client certificate (set WARROOM_TEMPORAL_TLS_CERT" in reason


@pytest.mark.parametrize("status", REFUSALS)
def test_a_connection_closed_on_a_plaintext_client_says_to_turn_tls_on(status: str) -> None:
    reason = describe_connect_failure(RuntimeError(CONNECT % status), TemporalConnection())
    assert "set WARROOM_TEMPORAL_TLS=true" in reason


def test_a_bare_transport_error_after_connecting_over_tls_without_a_certificate_names_it_too() -> None:
    error = RPCError("transport error", RPCStatusCode.UNAVAILABLE, b"")
    assert "require a client certificate" in describe_connect_failure(error, TLS_NO_CERT)
    assert "WARROOM_TEMPORAL_TLS=true" in describe_connect_failure(error, TemporalConnection())


def test_a_refused_connection_is_reported_as_it_is() -> None:
    error = RPCError("Connection refused", RPCStatusCode.UNAVAILABLE, b"")
    assert describe_connect_failure(error, TLS_NO_CERT) == "Connection refused"
