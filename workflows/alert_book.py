"""Which of an incident's alerts are still firing: the rule behind "all alerts resolved -> resolve".

Pure and serializable (it lives inside IncidentState), so the rule is unit-testable without Temporal.
"""

from __future__ import annotations

from pydantic import Field

from workflows.messages.common import Contract

FIRING_LIMIT = 1000


class AlertBook(Contract):
    firing: list[str] = Field(default_factory=list, description="identities of alerts now firing")
    resolved_count: int = 0

    def fire(self, identity: str) -> None:
        if identity not in self.firing:
            self.firing.append(identity)
            del self.firing[:-FIRING_LIMIT]

    def resolve(self, identity: str) -> bool:
        """Record a resolve; True when it cleared the last firing alert (the incident may resolve)."""
        if identity not in self.firing:
            return False
        self.firing.remove(identity)
        self.resolved_count += 1
        return not self.firing
