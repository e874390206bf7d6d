"""Secrets for channels: `${NAME}` references resolved by the worker at send time, never stored elsewhere.

A value comes from the worker's environment, else from the secrets file named by `WARROOM_SECRETS_FILE`
(`NAME=value` lines, `#` comments; re-read on each resolution so a rotated secret is picked up without a
restart). Resolved values are remembered only to redact them from error messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

SECRETS_FILE_VARIABLE = "WARROOM_SECRETS_FILE"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REDACTED = "***"


class MissingSecretError(LookupError):
    """A `${NAME}` that neither the environment nor the secrets file defines."""


def references(text: str) -> list[str]:
    """The secret names a configuration value refers to."""
    return _REFERENCE.findall(text)


def _read_secrets_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip().strip('"').strip("'")
    return values


class SecretSource:
    """Expands `${NAME}` in channel options, from the environment first, then the secrets file."""

    def __init__(self, environ: Mapping[str, str] | None = None, secrets_file: Path | None = None) -> None:
        self._environ = environ
        env = os.environ if environ is None else environ
        configured = secrets_file or (
            Path(env[SECRETS_FILE_VARIABLE]) if env.get(SECRETS_FILE_VARIABLE) else None
        )
        self._secrets_file = configured
        self._revealed: set[str] = set()
        self._watched: set[str] = set()

    def watch(self, texts: list[str]) -> None:
        """Redact the secrets these configuration values refer to even before any of them is used."""
        for text in texts:
            self._watched.update(references(text))

    def lookup(self, name: str) -> str:
        env = os.environ if self._environ is None else self._environ
        value = env.get(name)
        if value is None and self._secrets_file is not None and self._secrets_file.exists():
            value = _read_secrets_file(self._secrets_file).get(name)
        if value is None:
            where = f" or {self._secrets_file}" if self._secrets_file else ""
            raise MissingSecretError(f"secret ${{{name}}} is not set in the worker's environment{where}")
        if len(value) >= 4:  # redacting a 1-3 character value would mangle every message
            self._revealed.add(value)
        return value

    def expand(self, text: str) -> str:
        return _REFERENCE.sub(lambda match: self.lookup(match.group(1)), text)

    def redact(self, text: str) -> str:
        """Remove every secret value handed out or watched (longest first, so no part of one survives)."""
        for name in list(self._watched):
            try:
                self.lookup(name)  # remembers the value for redaction
            except MissingSecretError:
                continue
        for value in sorted(self._revealed, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text
