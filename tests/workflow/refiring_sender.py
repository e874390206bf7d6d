"""A test-only workflow that plays an alert source: it signals an incident on a timer, server-side.

Why a workflow and not a loop in the test: on the time-skipping server a month of 5-minute re-fires is 8,640
signals; sent by the test client each costs a round trip while time is held. Sent from a workflow, the
server skips from timer to timer on its own. It continues as new itself every few hundred fires.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.messages.alerts import Alert

FIRES_PER_RUN = 500


class RefiringPlan(BaseModel):
    incident_id: str
    fires: int
    every: timedelta
    update_every: int = 288  # a status update about once a day
    # Signals never land on the instant of one of the incident's timers: the time-skipping test server can stall
    # for good when a signal races a timer due at the same instant (docs/performance.md, "History growth").
    # Fires come 7 s off the response's 15-minute grid; updates 61 s after a fire, so the cadence they anchor
    # (30-minute slots, +15 min escalations) stays off the fires' grid too.
    first_fire_after: timedelta = timedelta(seconds=7)
    update_after_fire: timedelta = timedelta(seconds=61)
    done: int = 0


@workflow.defn(sandboxed=False)
class RefiringSender:
    @workflow.run
    async def run(self, plan: RefiringPlan) -> int:
        incident = workflow.get_external_workflow_handle(plan.incident_id)
        if plan.done == 0:
            await workflow.sleep(plan.first_fire_after)
        for _ in range(FIRES_PER_RUN):
            if plan.done >= plan.fires:
                return plan.done
            alert = Alert(source="generic", dedup_key="checkout-5xx", event_id=f"fire-{plan.done}",
                          service="checkout", summary="5xx above 5%")  # fmt: skip
            await incident.signal("add_alert", alert)
            plan.done += 1
            if plan.done % plan.update_every == 1:
                await workflow.sleep(plan.update_after_fire)
                await incident.signal("post_update", {"by": "cora", "text": f"still degraded ({plan.done})"})
                await workflow.sleep(plan.every - plan.update_after_fire)
            else:
                await workflow.sleep(plan.every)
        workflow.continue_as_new(plan)
