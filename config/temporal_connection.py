"""How to reach a Temporal that is not on this machine: TLS, mutual TLS and an API key (Temporal Cloud).

Only paths and the API key live here, as settings from the environment; the certificate files are read when the
client connects (workers/client.py). The API key is a SecretStr: no repr, log line or error message shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

ENVIRONMENT_VARIABLES = {
    "WARROOM_TEMPORAL_TLS": "'true' to connect with TLS (on by default when any setting below is set)",
    "WARROOM_TEMPORAL_TLS_CA": "PEM file of the CA that signed the server's certificate (default: system roots)",
    "WARROOM_TEMPORAL_TLS_CERT": "PEM client certificate for mutual TLS (with WARROOM_TEMPORAL_TLS_KEY)",
    "WARROOM_TEMPORAL_TLS_KEY": "PEM private key of the client certificate",
    "WARROOM_TEMPORAL_TLS_SERVER_NAME": "name to verify the server's certificate against (default: the host)",
    "WARROOM_TEMPORAL_API_KEY": "API key sent as a bearer token (Temporal Cloud); implies TLS",
}
_FIELDS = {
    "WARROOM_TEMPORAL_TLS": "tls",
    "WARROOM_TEMPORAL_TLS_CA": "ca_file",
    "WARROOM_TEMPORAL_TLS_CERT": "cert_file",
    "WARROOM_TEMPORAL_TLS_KEY": "key_file",
    "WARROOM_TEMPORAL_TLS_SERVER_NAME": "server_name",
    "WARROOM_TEMPORAL_API_KEY": "api_key",
}


class TemporalConnectionError(ValueError):
    """A connection setting to fix (a bad value, an unreadable certificate file): names the variable."""


class TemporalConnection(BaseModel):
    """TLS and authentication towards the Temporal frontend. Empty (the default) means plaintext, no key:
    the embedded dev server."""

    model_config = ConfigDict(frozen=True)

    tls: bool | None = None  # None: decided by the other settings
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None
    api_key: SecretStr | None = None

    @property
    def uses_tls(self) -> bool:
        """An explicit WARROOM_TEMPORAL_TLS wins; otherwise any TLS file, server name or API key turns it on
        (Temporal Cloud accepts API keys only over TLS)."""
        if self.tls is not None:
            return self.tls
        return any((self.ca_file, self.cert_file, self.key_file, self.server_name, self.api_key))

    @property
    def is_default(self) -> bool:
        return self == TemporalConnection()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TemporalConnection:
        """Empty values count as unset, so an env file can list every variable and fill in only some."""
        values = {
            field: env[variable] for variable, field in _FIELDS.items() if env.get(variable, "").strip()
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            variables = {field: variable for variable, field in _FIELDS.items()}
            named = ", ".join(variables[str(problem["loc"][0])] for problem in error.errors())
            raise TemporalConnectionError(
                f"bad value in {named} (WARROOM_TEMPORAL_TLS takes true or false)"
            ) from None
