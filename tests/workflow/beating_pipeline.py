"""A test-only workflow that plays an alerting pipeline: it sends a dead-man's switch heartbeats on a timer,
server-side, and goes quiet once for a while in the middle, as a Prometheus that crashed and came back.

Why a workflow and not a loop in the test: on the time-skipping server a month of beats is thousands of
signals; sent by the test client each costs a round trip while time is held. Sent from a workflow, the
server skips from timer to timer on its own. It continues as new itself every few hundred beats.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

BEATS_PER_RUN = 500


class BeatingPlan(BaseModel):
    switch_id: str
    source: str
    beats: int
    # 5 min 7 s: never a multiple of the switch's 10-minute silence, so no beat lands on the instant its timer
    # fires (the time-skipping server can stall for good when a signal races a timer due at the same instant).
    every: timedelta = timedelta(minutes=5, seconds=7)
    quiet_after_beat: int  # the pipeline goes quiet after this beat...
    quiet_for: timedelta  # ...for this long, then beats again
    done: int = 0
    quiet_since: datetime | None = None  # when the last beat before the quiet spell went out


@workflow.defn(sandboxed=False)
class BeatingPipeline:
    @workflow.run
    async def run(self, plan: BeatingPlan) -> BeatingPlan:
        switch = workflow.get_external_workflow_handle(plan.switch_id)
        for _ in range(BEATS_PER_RUN):
            if plan.done >= plan.beats:
                return plan
            await switch.signal("heartbeat", {"source": plan.source, "via": "watchdog"})
            plan.done += 1
            if plan.done == plan.quiet_after_beat:
                plan.quiet_since = workflow.now()
                await workflow.sleep(plan.quiet_for)
            else:
                await workflow.sleep(plan.every)
        workflow.continue_as_new(plan)
