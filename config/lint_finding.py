"""One lint finding: what is wrong, where in the policy file, and how to fix it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Finding(BaseModel):
    severity: Literal["error", "warning"]
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity:<7}  {self.path}: {self.message} (fix: {self.fix})"
