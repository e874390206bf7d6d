"""What every containment adapter implements: act on one `ContainmentRequest`, and say how to put it back.

An adapter records each change it makes with `ActionContext.did(description, undo)`. When the workflow
cancels the action (halt), the activity runs those undo steps newest first and reports UNDONE, or PARTIAL
with what was left done; the adapter itself never needs to know about cancellation. A new adapter
(Kubernetes, a cloud API) is one class with `act` and a line in `activities/contain_registry.py`: no workflow change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.messages.containment import ContainmentOutcome, ContainmentRequest, ContainmentResult

Heartbeat = Callable[..., None]
Undo = Callable[[], Awaitable[str]]


class ContainmentError(Exception):
    """The adapter could not do what was asked; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class Step:
    description: str
    undo: Undo | None


@dataclass
class ActionContext:
    """Handed to `act`: the heartbeat, a journal of what is done, and state kept across a worker crash."""

    heartbeat: Heartbeat
    remembered: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    remember_hook: Callable[[dict[str, Any]], None] | None = None

    def did(self, description: str, undo: Undo | None = None) -> None:
        """One change made to the system; `undo` puts it back (None: it cannot be undone)."""
        self.steps.append(Step(description, undo))
        self.heartbeat(description)

    async def before(self, key: str, read: Callable[[], Awaitable[Any]]) -> Any:
        """The state before the first attempt acted, read once and kept: a retry after a crash must restore
        what was there before the first attempt, not what that attempt left."""
        if key not in self.remembered:
            self.remembered[key] = await read()
            if self.remember_hook is not None:
                self.remember_hook(self.remembered)
        return self.remembered[key]

    async def undo_all(self) -> ContainmentResult:
        """Undo newest first; what could not be undone is reported, never hidden."""
        undone: list[str] = []
        left: list[str] = []
        for step in reversed(self.steps):
            if step.undo is None:
                left.append(f"{step.description} (no undo)")
                continue
            try:
                undone.append(await step.undo())
            except Exception as error:
                left.append(f"{step.description} (undo failed: {type(error).__name__}: {error})")
        if not self.steps:
            return ContainmentResult(outcome=ContainmentOutcome.UNDONE, detail="cancelled before any change")
        outcome = ContainmentOutcome.PARTIAL if left else ContainmentOutcome.UNDONE
        parts = []
        if undone:
            parts.append("undone: " + "; ".join(undone))
        if left:
            parts.append("left done: " + "; ".join(left))
        return ContainmentResult(outcome=outcome, detail="cancelled; " + "; ".join(parts))


class ContainmentAdapter(Protocol):
    """One kind of system warroom can act on. `act` is called at most once per idempotency key to completion
    (the activity keeps the completed keys); a retry after a crash may call it again, so each change should
    be idempotent by nature (set a state, not toggle it) or pass the key on to the system."""

    name: str

    async def act(self, request: ContainmentRequest, context: ActionContext) -> ContainmentResult: ...


def param(request: ContainmentRequest, name: str, kind: type | tuple[type, ...] = str) -> Any:
    """A required parameter, or an error naming it (a runbook typo is a FAILED action with the reason)."""
    if name not in request.params:
        raise ContainmentError(f"{request.adapter}/{request.operation}: missing parameter '{name}'")
    value = request.params[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ContainmentError(
            f"{request.adapter}/{request.operation}: parameter '{name}' must be {expected}, got {value!r}"
        )
    return value
