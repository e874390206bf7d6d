"""The duty loop: sleep until the earliest pending duty, start every duty that is due, recompute.

Why a loop over a pure engine instead of hand-made timers: every change (ack, reclassification, snooze, a
status update) moves every deadline at once, and a duty happens at most once because the engine skips the
ids the state records as done. Why each due duty runs in its own task: one channel stuck in retries must not
hold the level-2 page or the SEV-1 executive notice past its second (issue 8, defect 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.escalation import Obligation


class DutyRunner:
    def __init__(
        self,
        pending: Callable[[], list[Obligation]],
        perform: Callable[[Obligation], Awaitable[None]],
        show: Callable[[list[Obligation]], None],
    ) -> None:
        self._pending, self._perform, self._show = pending, perform, show
        self._version = 0
        self._in_flight: dict[str, Obligation] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Keep the timer of the next deadline across wake-ups that leave that deadline where it was (a note, an
        # alert re-firing, an activity finishing), instead of cancelling and starting it again: two history
        # events and a timer write on the server per wake-up. Set by the workflow for runs under
        # all-patches-2026-12-c; older runs replay their timers as they were recorded.
        self.keep_timer = False
        self._timer: asyncio.Task[None] | None = None
        self._timer_due: datetime | None = None

    def changed(self) -> None:
        """Something the engine reads changed: recompute now instead of at the next deadline."""
        self._version += 1

    @property
    def idle(self) -> bool:
        return not self._in_flight

    def due_now(self) -> list[Obligation]:
        return [duty for duty in self._waiting() if duty.due_at <= workflow.now()]

    async def run(self, stop: Callable[[], bool]) -> None:
        """Run until `stop()` holds at a quiet moment; duties already started finish first.

        After a timer fires, yield once before recomputing: signal handlers delivered in the same workflow task
        run first, so an acknowledgement that races the ack deadline always wins."""
        while True:
            waiting = self._waiting()
            self._show(waiting)
            if stop():
                self._drop_timer()
                await workflow.wait_condition(lambda: self.idle)
                if stop():  # a duty that just finished may have made another one due
                    return
                continue
            woken = self._woken(self._version, stop)
            now = workflow.now()
            startable = self._startable([duty for duty in waiting if duty.due_at <= now])
            if startable:
                for duty in startable:
                    self._start(duty)
                continue
            later = [duty for duty in waiting if duty.due_at > now]
            if not later:  # nothing pending, or only duties waiting for a page of their level to finish
                self._drop_timer()
                await workflow.wait_condition(woken)
                continue
            if self.keep_timer:
                await self._sleep_until(later[0], woken)
                continue
            try:
                await workflow.wait_condition(
                    woken, timeout=later[0].due_at - now, timeout_summary=later[0].description
                )
            except TimeoutError:
                await asyncio.sleep(0)

    async def _sleep_until(self, duty: Obligation, woken: Callable[[], bool]) -> None:
        """Wait for a change or the next deadline, on the timer already running for it if there is one."""
        if self._timer is None or self._timer_due != duty.due_at:
            self._drop_timer()
            self._timer_due = duty.due_at
            self._timer = asyncio.create_task(
                workflow.sleep(duty.due_at - workflow.now(), summary=duty.description)
            )
        timer = self._timer
        await workflow.wait_condition(lambda: woken() or timer.done())
        if timer.done():
            self._timer = self._timer_due = None
            await asyncio.sleep(0)  # as after any timer: the signals of this workflow task run first

    def _drop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_due = None

    def _woken(self, version: int, stop: Callable[[], bool]) -> Callable[[], bool]:
        return lambda: self._version != version or stop()

    def _waiting(self) -> list[Obligation]:
        return [duty for duty in self._pending() if duty.id not in self._in_flight]

    def _startable(self, due: list[Obligation]) -> list[Obligation]:
        """Due duties, but one page per level at a time: two rules due at once for the same level (the ack
        chain and "still open") must page it once; the engine drops the second when the first engaged it."""
        paging = {duty.level for duty in self._in_flight.values() if duty.kind == "page"}
        chosen = []
        for duty in due:
            if duty.kind == "page":
                if duty.level in paging:
                    continue
                paging.add(duty.level)
            chosen.append(duty)
        return chosen

    def _start(self, duty: Obligation) -> None:
        self._in_flight[duty.id] = duty
        task = asyncio.create_task(self._run_one(duty))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_one(self, duty: Obligation) -> None:
        try:
            await self._perform(duty)
        finally:
            self._in_flight.pop(duty.id, None)
            self.changed()
