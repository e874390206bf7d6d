"""One way to connect to Temporal: pydantic payloads, TLS / API key from the settings, and the process's
metrics runtime when asked."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config.settings import Settings
from config.temporal_connection import TemporalConnection, TemporalConnectionError
from workers.data_converter import data_converter


async def connect(settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False) -> Client:
    """`lazy`: connect on first use (the intake answers 503 while Temporal is down instead of not starting)."""
    connection = settings.connection
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=data_converter,
        runtime=runtime,
        tls=tls_config(connection),
        api_key=connection.api_key.get_secret_value() if connection.api_key else None,
        lazy=lazy,
    )


def tls_config(connection: TemporalConnection) -> TLSConfig | bool:
    """The SDK's TLS settings; the files are read here so a bad path fails at start, naming its variable."""
    if not connection.uses_tls:
        return False
    if bool(connection.cert_file) != bool(connection.key_file):
        raise TemporalConnectionError(
            "mutual TLS needs both WARROOM_TEMPORAL_TLS_CERT and WARROOM_TEMPORAL_TLS_KEY (one is missing)"
        )
    return TLSConfig(
        server_root_ca_cert=_read(connection.ca_file, "WARROOM_TEMPORAL_TLS_CA"),
        client_cert=_read(connection.cert_file, "WARROOM_TEMPORAL_TLS_CERT"),
        client_private_key=_read(connection.key_file, "WARROOM_TEMPORAL_TLS_KEY"),
        domain=connection.server_name,
    )


def _read(path: Path | None, variable: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:  # the path only: never the content (a key file)
        raise TemporalConnectionError(f"cannot read {variable}={path}: {error.strerror}") from None
