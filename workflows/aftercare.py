"""AftercareWorkflow: the duties that outlive an incident's resolution, in a workflow of their own.

Why: a resolved incident must let go within seconds, so a recurrence of its alert finds the door open and
pages, instead of being recorded as "ignored" by an incident that lingers for a 72 h regulatory clock. The
aftercare run carries the incident's state (the timeline is in the archive), performs the remaining duties with
the same engine and effects as the incident, and accepts `record_regulatory_notification`. The post-mortem
review and action items (analysis issue) will live here too.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.escalation import Obligation, pending_obligations
    from workflows.incident.domain import Incident
    from workflows.incident.duty_runner import DutyRunner
    from workflows.incident.effects import Effects
    from workflows.incident.state import ContinuedIncident
    from workflows.incident.views import duty_facts, status_view
    from workflows.messages.commands import CommandVerdict, RecordRegulatoryNotification
    from workflows.messages.status import Deadline, IncidentStatus

COMMAND = "record_regulatory_notification"


@workflow.defn(sandboxed=False)  # as IncidentWorkflow, whose state and code it shares
class AftercareWorkflow:
    @workflow.init
    def __init__(self, inp: ContinuedIncident) -> None:
        self.incident = Incident(inp.state)
        self.runner = DutyRunner(self._pending, self._perform, self._show)
        self.effects = Effects(self.incident, self.runner.changed)
        self._upcoming: list[Deadline] = []

    @workflow.run
    async def run(self, inp: ContinuedIncident) -> None:
        await self.runner.run(stop=lambda: not self._pending())
        await self.effects.archive(everything=True)
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _pending(self) -> list[Obligation]:
        state = self.incident.state
        assert state.policy is not None
        return pending_obligations(state.policy, duty_facts(state))

    async def _perform(self, duty: Obligation) -> None:
        await self.effects.perform(duty)

    def _show(self, waiting: list[Obligation]) -> None:
        self._upcoming = [
            Deadline(kind=duty.kind, due_at=duty.due_at, description=duty.description,
                     targets=self.effects.resolve_targets(duty.targets))
            for duty in waiting[:5]
        ]  # fmt: skip
        state = self.incident.state
        due = (
            f"next: {self._upcoming[0].description} at {self._upcoming[0].due_at:%Y-%m-%d %H:%M} UTC"
            if self._upcoming
            else "nothing left"
        )
        workflow.set_current_details(f"## Aftercare of {state.incident_id}\n{due}")

    @workflow.signal(name=COMMAND, description='Regulator notified: {"by": "you", "reference": "case 42"}')
    def record_regulatory_notification_signal(self, payload: Any = None) -> None:
        self.incident.handle_signal(COMMAND, payload, workflow.now())
        self.runner.changed()

    @workflow.update(name=COMMAND, description="Record the regulator notification; get the verdict.")
    def record_regulatory_notification_update(self, command: RecordRegulatoryNotification) -> CommandVerdict:
        decision = self.incident.execute(COMMAND, command, workflow.now())
        self.runner.changed()
        return decision.verdict

    @record_regulatory_notification_update.validator
    def _check(self, command: RecordRegulatoryNotification) -> None:
        reason = self.incident.refusal(COMMAND, command)
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    @workflow.query(description="What is still due after resolution, and the recent aftercare events.")
    def status(self) -> IncidentStatus:
        return status_view(self.incident.state, self._upcoming)
