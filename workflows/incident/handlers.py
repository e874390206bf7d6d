"""The human and alert entry points of IncidentWorkflow: one signal and one update per command.

Signals (the Web UI, fire-and-forget scripts) take `payload: Any = None` so a bad or empty payload is recorded as
rejected in the timeline instead of being dropped by the SDK or wedging the workflow. Updates (the CLI and API)
take the typed command, run the same rules in their validator, so a refusal is answered at once and never
enters history, and return the `CommandVerdict`. Both end in `Incident.execute`.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.messages.approvals import (
        ApproveAction,
        CompleteTask,
        HaltAutomation,
        OverrideRecovery,
        ProposeAction,
        RejectAction,
        ResumeAutomation,
    )
    from workflows.messages.commands import (
        Acknowledge,
        AddNote,
        AssignRole,
        Command,
        CommandVerdict,
        Escalate,
        Mitigate,
        PostUpdate,
        Reclassify,
        RecordRegulatoryNotification,
        Resolve,
        Snooze,
    )


class CommandHandlers:
    """Mixed into IncidentWorkflow, which provides the four methods below."""

    def _signal(self, name: str, payload: Any) -> None:
        raise NotImplementedError

    def _validate(self, name: str, command: Command) -> None:
        raise NotImplementedError

    async def _update(self, name: str, command: Command) -> CommandVerdict:
        raise NotImplementedError

    def _alert(self, payload: Any) -> None:
        raise NotImplementedError

    @workflow.signal(description="An alert joins this incident. Normally sent by the intake, not by hand.")
    def add_alert(self, payload: Any = None) -> None:
        self._alert(payload)

    # ------------------------------------------------------------------ signals (never raise)

    @workflow.signal(
        name="acknowledge", description='Stop the paging: {"by": "your-name", "note": "optional"}'
    )
    def acknowledge(self, payload: Any = None) -> None:
        self._signal("acknowledge", payload)

    @workflow.signal(
        name="add_note", description='Add to the timeline: {"by": "your-name", "text": "what you found"}'
    )
    def add_note(self, payload: Any = None) -> None:
        self._signal("add_note", payload)

    @workflow.signal(
        name="reclassify",
        description='Change severity: {"by": "your-name", "severity": "SEV-2", "reason": "why"}',
    )
    def reclassify(self, payload: Any = None) -> None:
        self._signal("reclassify", payload)

    @workflow.signal(
        name="mitigate", description='The bleeding stopped: {"by": "your-name", "note": "what was done"}'
    )
    def mitigate(self, payload: Any = None) -> None:
        self._signal("mitigate", payload)

    @workflow.signal(
        name="resolve", description='Close it: {"by": "your-name", "note": "optional", "force": false}'
    )
    def resolve(self, payload: Any = None) -> None:
        self._signal("resolve", payload)

    @workflow.signal(
        name="assign_role",
        description='Give a role: {"by": "you", "role": "incident_commander", "person": "alice"}',
    )
    def assign_role(self, payload: Any = None) -> None:
        self._signal("assign_role", payload)

    @workflow.signal(
        name="escalate", description='Engage a level now: {"by": "you", "level": 2, "reason": "why"}'
    )
    def escalate(self, payload: Any = None) -> None:
        self._signal("escalate", payload)

    @workflow.signal(
        name="snooze",
        description='Hold pages of a non-SEV-1: {"by": "you", "duration": "30m", "reason": "why"}',
    )
    def snooze(self, payload: Any = None) -> None:
        self._signal("snooze", payload)

    @workflow.signal(
        name="post_update",
        description='Post a status update: {"by": "you", "text": "...", "audience": "internal"}',
    )
    def post_update(self, payload: Any = None) -> None:
        self._signal("post_update", payload)

    @workflow.signal(
        name="record_regulatory_notification",
        description='Regulator notified: {"by": "you", "reference": "case 42"}',
    )
    def record_regulatory_notification(self, payload: Any = None) -> None:
        self._signal("record_regulatory_notification", payload)

    # ------------------------------------------------------------------ updates (typed answer, validated first)

    @workflow.update(name="acknowledge", description="Acknowledge and get the verdict back.")
    async def acknowledge_update(self, command: Acknowledge) -> CommandVerdict:
        return await self._update("acknowledge", command)

    @acknowledge_update.validator
    def _check_acknowledge(self, command: Acknowledge) -> None:
        self._validate("acknowledge", command)

    @workflow.update(name="add_note", description="Add a note and get the verdict back.")
    async def add_note_update(self, command: AddNote) -> CommandVerdict:
        return await self._update("add_note", command)

    @add_note_update.validator
    def _check_add_note(self, command: AddNote) -> None:
        self._validate("add_note", command)

    @workflow.update(name="reclassify", description="Change severity and get the verdict back.")
    async def reclassify_update(self, command: Reclassify) -> CommandVerdict:
        return await self._update("reclassify", command)

    @reclassify_update.validator
    def _check_reclassify(self, command: Reclassify) -> None:
        self._validate("reclassify", command)

    @workflow.update(name="mitigate", description="Mark mitigated and get the verdict back.")
    async def mitigate_update(self, command: Mitigate) -> CommandVerdict:
        return await self._update("mitigate", command)

    @mitigate_update.validator
    def _check_mitigate(self, command: Mitigate) -> None:
        self._validate("mitigate", command)

    @workflow.update(name="resolve", description="Resolve; answers once the health gate has decided.")
    async def resolve_update(self, command: Resolve) -> CommandVerdict:
        return await self._update("resolve", command)

    @resolve_update.validator
    def _check_resolve(self, command: Resolve) -> None:
        self._validate("resolve", command)

    @workflow.update(name="assign_role", description="Give a role and get the verdict back.")
    async def assign_role_update(self, command: AssignRole) -> CommandVerdict:
        return await self._update("assign_role", command)

    @assign_role_update.validator
    def _check_assign_role(self, command: AssignRole) -> None:
        self._validate("assign_role", command)

    @workflow.update(name="escalate", description="Engage a level now and get the verdict back.")
    async def escalate_update(self, command: Escalate) -> CommandVerdict:
        return await self._update("escalate", command)

    @escalate_update.validator
    def _check_escalate(self, command: Escalate) -> None:
        self._validate("escalate", command)

    @workflow.update(name="snooze", description="Hold pages of a non-SEV-1 and get the verdict back.")
    async def snooze_update(self, command: Snooze) -> CommandVerdict:
        return await self._update("snooze", command)

    @snooze_update.validator
    def _check_snooze(self, command: Snooze) -> None:
        self._validate("snooze", command)

    @workflow.update(name="post_update", description="Post a status update and get the verdict back.")
    async def post_update_update(self, command: PostUpdate) -> CommandVerdict:
        return await self._update("post_update", command)

    @post_update_update.validator
    def _check_post_update(self, command: PostUpdate) -> None:
        self._validate("post_update", command)

    @workflow.update(
        name="record_regulatory_notification",
        description="Record the regulator notification; get the verdict.",
    )
    async def record_regulatory_notification_update(
        self, command: RecordRegulatoryNotification
    ) -> CommandVerdict:
        return await self._update("record_regulatory_notification", command)

    @record_regulatory_notification_update.validator
    def _check_record_regulatory_notification(self, command: RecordRegulatoryNotification) -> None:
        self._validate("record_regulatory_notification", command)

    # ------------------------------------------------------------------ containment signals (never raise)

    @workflow.signal(
        name="propose_action",
        description='Run a runbook action: {"by": "you", "action": "drain", "params": {}, "reason": "why"}',
    )
    def propose_action(self, payload: Any = None) -> None:
        self._signal("propose_action", payload)

    @workflow.signal(
        name="approve_action", description='Approve: {"by": "you", "action_id": "a2", "reason": "optional"}'
    )
    def approve_action(self, payload: Any = None) -> None:
        self._signal("approve_action", payload)

    @workflow.signal(
        name="reject_action", description='Reject: {"by": "you", "action_id": "a2", "reason": "why"}'
    )
    def reject_action(self, payload: Any = None) -> None:
        self._signal("reject_action", payload)

    @workflow.signal(name="halt_automation", description='EMERGENCY STOP: {"by": "you", "reason": "why"}')
    def halt_automation(self, payload: Any = None) -> None:
        self._signal("halt_automation", payload)

    @workflow.signal(
        name="resume_automation", description='Lift the stop: {"by": "you", "reason": "optional"}'
    )
    def resume_automation(self, payload: Any = None) -> None:
        self._signal("resume_automation", payload)

    @workflow.signal(
        name="complete_task",
        description='A human-only task is done: {"by": "you", "action_id": "a4", "note": "optional"}',
    )
    def complete_task(self, payload: Any = None) -> None:
        self._signal("complete_task", payload)

    @workflow.signal(
        name="override_recovery", description='Skip phased recovery: {"by": "you", "reason": "why"}'
    )
    def override_recovery(self, payload: Any = None) -> None:
        self._signal("override_recovery", payload)

    # ------------------------------------------------------------------ containment updates

    @workflow.update(name="propose_action", description="Propose a runbook action and get the verdict back.")
    async def propose_action_update(self, command: ProposeAction) -> CommandVerdict:
        return await self._update("propose_action", command)

    @propose_action_update.validator
    def _check_propose_action(self, command: ProposeAction) -> None:
        self._validate("propose_action", command)

    @workflow.update(name="approve_action", description="Approve an action and get the verdict back.")
    async def approve_action_update(self, command: ApproveAction) -> CommandVerdict:
        return await self._update("approve_action", command)

    @approve_action_update.validator
    def _check_approve_action(self, command: ApproveAction) -> None:
        self._validate("approve_action", command)

    @workflow.update(name="reject_action", description="Reject an action and get the verdict back.")
    async def reject_action_update(self, command: RejectAction) -> CommandVerdict:
        return await self._update("reject_action", command)

    @reject_action_update.validator
    def _check_reject_action(self, command: RejectAction) -> None:
        self._validate("reject_action", command)

    @workflow.update(
        name="halt_automation", description="Halt automation (cancels running actions); get the verdict."
    )
    async def halt_automation_update(self, command: HaltAutomation) -> CommandVerdict:
        return await self._update("halt_automation", command)

    @halt_automation_update.validator
    def _check_halt_automation(self, command: HaltAutomation) -> None:
        self._validate("halt_automation", command)

    @workflow.update(name="resume_automation", description="Resume automation and get the verdict back.")
    async def resume_automation_update(self, command: ResumeAutomation) -> CommandVerdict:
        return await self._update("resume_automation", command)

    @resume_automation_update.validator
    def _check_resume_automation(self, command: ResumeAutomation) -> None:
        self._validate("resume_automation", command)

    @workflow.update(name="complete_task", description="Mark a human-only task done; get the verdict.")
    async def complete_task_update(self, command: CompleteTask) -> CommandVerdict:
        return await self._update("complete_task", command)

    @complete_task_update.validator
    def _check_complete_task(self, command: CompleteTask) -> None:
        self._validate("complete_task", command)

    @workflow.update(
        name="override_recovery", description="Override phased recovery and get the verdict back."
    )
    async def override_recovery_update(self, command: OverrideRecovery) -> CommandVerdict:
        return await self._update("override_recovery", command)

    @override_recovery_update.validator
    def _check_override_recovery(self, command: OverrideRecovery) -> None:
        self._validate("override_recovery", command)
