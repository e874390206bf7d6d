"""The one error type every `warroom` command raises for the user; its own module so sub-apps can share it
with workers/cli.py (which imports them) without a circular import."""

from __future__ import annotations


class CliError(Exception):
    """An error the user can act on: printed as one message, never as a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
