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
    # About daily, but not exactly: 288 fires (24 h) lands each update on a 30-minute cadence deadline, where
    # the time-skipping test server can stall (a signal racing a timer of the same instant; bench notes).
    update_every: int = 287
    done: int = 0


@workflow.defn(sandboxed=False)
class RefiringSender:
    @workflow.run
    async def run(self, plan: RefiringPlan) -> int:
        incident = workflow.get_external_workflow_handle(plan.incident_id)
        for _ in range(FIRES_PER_RUN):
            if plan.done >= plan.fires:
                return plan.done
            alert = Alert(source="generic", dedup_key="checkout-5xx", event_id=f"fire-{plan.done}",
                          service="checkout", summary="5xx above 5%")  # fmt: skip
            await incident.signal("add_alert", alert)
            if plan.done % plan.update_every == 0:
                await incident.signal("post_update", {"by": "cora", "text": f"still degraded ({plan.done})"})
            plan.done += 1
            await workflow.sleep(plan.every)
        workflow.continue_as_new(plan)
