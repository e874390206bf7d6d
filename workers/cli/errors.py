"""The one error type every `warroom` command raises for the user. A module of its own, importing nothing,
so any command module (and workers.policy_cli) can raise it without pulling in the whole app."""

from __future__ import annotations


class CliError(Exception):
    """An error the user can act on: printed as one message, never as a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
