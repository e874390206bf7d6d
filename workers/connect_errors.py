"""The SDK's "Failed client connect" dump (a tonic/rustls error chain) as one sentence that names the setting
to change. TLS mistakes are the usual ones when moving to a real cluster or Temporal Cloud; each pattern
below was produced against a real TLS endpoint (tests/deploy/test_tls.py)."""

from __future__ import annotations

import re

from config.temporal_connection import TemporalConnection

_TLS_HINTS = [
    (
        "UnknownIssuer",
        "the server's TLS certificate is not signed by a trusted CA: set WARROOM_TEMPORAL_TLS_CA to the PEM "
        "file of the CA that signed it",
    ),
    (
        "NotValidForName",
        "the server's TLS certificate does not carry the name connected to: set "
        "WARROOM_TEMPORAL_TLS_SERVER_NAME to a name it carries",
    ),
    (
        "Expired",
        "the server's TLS certificate has expired (or this machine's clock is wrong)",
    ),
    (
        "InvalidContentType",
        "the server did not answer in TLS: if it is a plaintext server, unset WARROOM_TEMPORAL_TLS, "
        "WARROOM_TEMPORAL_TLS_* and WARROOM_TEMPORAL_API_KEY",
    ),
]
_TLS_CLOSED = (
    "the server closed the TLS connection: it may require a client certificate (set WARROOM_TEMPORAL_TLS_CERT "
    "and WARROOM_TEMPORAL_TLS_KEY) or refuse the one given"
)
_PLAINTEXT_REFUSED = (
    "the connection broke over plaintext: if the server requires TLS, set WARROOM_TEMPORAL_TLS=true "
    "(and WARROOM_TEMPORAL_TLS_CA for a private CA)"
)


def describe_connect_failure(error: Exception, connection: TemporalConnection) -> str:
    """The human part of a connection error, with the likely fix when it is a TLS mismatch."""
    text = str(error)
    for pattern, hint in _TLS_HINTS:
        if pattern in text:
            return hint
    # A server that refuses the missing client certificate closes the connection; depending on how far the
    # client got (TLS 1.3 sends the refusal after the handshake), the SDK reports a transport error or a
    # cancelled operation.
    if connection.uses_tls and connection_closed(text) and connection.cert_file is None:
        return _TLS_CLOSED
    # A TLS server hangs up on a plaintext client's first bytes; how far the request got decides which of the
    # closed-connection texts comes back ("operation was canceled" on a loaded machine).
    if not connection.uses_tls and connection_closed(text):
        return _PLAINTEXT_REFUSED
    if "transport error" in text:
        if connection.uses_tls and ("close_notify" in text or "UnexpectedEof" in text):
            return _TLS_CLOSED
        # TLS 1.3 lets the client finish its handshake before the server has checked (and refused) the
        # missing client certificate: the connect may pass and the first call fail with a bare "transport
        # error" (an UNAVAILABLE RPCError carries no more detail).
        if connection.uses_tls and connection.cert_file is None and text.strip() == "transport error":
            return _TLS_CLOSED
        if not connection.uses_tls:
            return _PLAINTEXT_REFUSED
    found = re.search(r'message: "([^"]+)"', text)
    if found:
        return found.group(1)
    return text.removeprefix("Failed client connect: ")[:300]


def connection_closed(text: str) -> bool:
    # BrokenPipe / ConnectionReset: the refusal raced the client's first request (seen ~1 run in 3 here).
    signs = ("close_notify", "UnexpectedEof", "operation was canceled", "BrokenPipe", "ConnectionReset")
    return any(sign in text for sign in signs)
