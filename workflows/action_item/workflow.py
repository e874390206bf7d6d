"""ActionItemWorkflow: one post-mortem follow-up, alive until it is done or cancelled, however many months.

A shell: the rules of commands and of a changed roster are in `domain.ActionItem`, what is due when in
`schedule`, the words in `wording`. It sleeps until the next reminder, sends it through the same routing and
fallback as incident pages (`workflows.delivery`), and wakes at once for any command, which moves the schedule.
It continues as new when the server suggests it or at its own bounds, so an item open for a year has a short
history and a small state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.action_item import wording
    from workflows.action_item.domain import SYSTEM, ActionItem, due_moment
    from workflows.action_item.schedule import Reminder, mark_sent, pending_reminders
    from workflows.action_item.state import ActionItemState, ContinuedActionItem
    from workflows.analysis_policy import ActionItemPolicy
    from workflows.delivery import deliver
    from workflows.incident.effects import QUICK_ACTIVITY
    from workflows.messages.action_items import (
        ActionItemInput,
        ActionItemView,
        CancelItem,
        CompleteItem,
        ExtendDue,
        ItemStatus,
        ReadRoster,
        ReassignItem,
        normalize_link,
    )
    from workflows.messages.activities import ActivityName, LoadedPeople, LoadPeopleRequest
    from workflows.messages.commands import Command, CommandVerdict
    from workflows.messages.notifications import Notification, NotificationKind
    from workflows.metrics import action_item_closed, action_item_opened, action_item_overdue
    from workflows.routing import plan_routes
    from workflows.search_attributes import (
        ACTION_ITEM_DUE,
        ACTION_ITEM_INCIDENT,
        ACTION_ITEM_LINK,
        ACTION_ITEM_OWNER,
        ACTION_ITEM_PRIORITY,
        ACTION_ITEM_STATUS,
    )

# Our own bounds beside the server's suggestion (a time-skipping test server never suggests): history events
# and commands per run. Module constants so a test can lower them and watch the item continue as new.
EVENTS_PER_RUN = 2000
COMMANDS_PER_RUN = 1000
# Runs that record this marker read the roster and routing again before each message (`_refresh_people`);
# older runs replay with the incident's roster, as they were recorded.
CURRENT_ROSTER = "action-item-current-roster"


@workflow.defn(sandboxed=False)  # as IncidentWorkflow: determinism by discipline, proven by replay tests
class ActionItemWorkflow:
    @workflow.init
    def __init__(self, inp: ActionItemInput | ContinuedActionItem) -> None:
        now = workflow.now()
        if isinstance(inp, ContinuedActionItem):
            state = inp.state
            state.runs += 1
        else:
            spec = inp.item
            due = (
                due_moment(spec.due)
                if spec.due is not None
                else inp.created_at + inp.policy.analysis.action_items.due_in[spec.priority]
            )
            state = ActionItemState(
                item_id=workflow.info().workflow_id, title=spec.title, description=spec.description,
                priority=spec.priority, owner=spec.owner,
                tracking_link=normalize_link(spec.tracking_link) if spec.tracking_link else None,
                incident_id=inp.incident_id, occurrence=inp.occurrence, severity=inp.severity,
                service=inp.service, policy=inp.policy, created_at=now, due_at=due, original_due_at=due,
                schedule_from=now,
            )  # fmt: skip
            state.record(now, "created", inp.created_by,
                         f"{spec.priority} priority, owner {spec.owner}, due {due:%Y-%m-%d %H:%M} UTC")  # fmt: skip
            action_item_opened(team_label(state))
        self.item = ActionItem(state)
        self._version = 0
        self._commands = 0
        self._shown: tuple[Any, ...] = ()
        self._reading_people = asyncio.Lock()

    @property
    def state(self) -> ActionItemState:
        return self.item.state

    @workflow.run
    async def run(self, inp: ActionItemInput | ContinuedActionItem) -> ActionItemView:
        if not self.state.announced:
            workflow.upsert_memo({"title": self.state.title})  # listings show it without a query
            await self._tell_owner_assigned()
        while not self.state.is_closed:
            self._refresh_overdue()
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(ContinuedActionItem(state=self.state))
            pending = pending_reminders(self.state, self._policy)
            now = workflow.now()
            if pending and pending[0].at <= now:
                await self._send(pending[0])
                continue
            version = self._version
            timeout = pending[0].at - now if pending else None
            with suppress(TimeoutError):  # the reminder is due: the next pass sends it
                await workflow.wait_condition(
                    self._woken(version), timeout=timeout,
                    timeout_summary=pending[0].description if pending else None,
                )  # fmt: skip
        self._sync()
        action_item_closed(team_label(self.state))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    # ------------------------------------------------------------------ reminders

    async def _send(self, reminder: Reminder) -> None:
        await self._refresh_people()
        state = self.state
        recipients = [state.owner]
        manager = state.manager
        if reminder.to_manager:
            if manager:
                recipients.append(manager)
            else:
                state.record(workflow.now(), "warning", SYSTEM,
                             f"{state.owner} has no manager in the roster: the escalation reaches the owner only")  # fmt: skip
        kind = "escalated" if reminder.kind == "escalate" else "reminded"
        step = f"{state.due_at:%Y%m%dT%H%M}/{reminder.id}"
        delivered = await self._notify(
            step,
            recipients,
            wording.reminder_subject(state, reminder),
            wording.reminder_body(state, reminder),
        )
        mark_sent(state, reminder, self._policy, workflow.now())
        state.record(workflow.now(), kind, SYSTEM, f"{reminder.description} -> {', '.join(recipients)}",
                     reminder=reminder.id, recipients=recipients, delivered=delivered)  # fmt: skip
        self._sync()

    async def _tell_owner_assigned(self) -> None:
        await self._refresh_people()
        state = self.state
        await self._notify("assigned", [state.owner], wording.assigned_subject(state),
                           wording.reminder_body(state, Reminder(id="assigned", kind="before", at=state.due_at,
                                                                 description="assigned")))  # fmt: skip
        state.announced = True

    async def _refresh_people(self) -> bool:
        """The roster and routing as the policy file has them now, before anyone is told anything: an item
        lives for months, and people change managers, teams and addresses meanwhile. Its reminder timings
        stay the ones it was created with; what a changed roster means for the item is `ActionItem.take_people`."""
        if not workflow.patched(CURRENT_ROSTER):
            return False  # an item recorded before the patch kept the incident's roster for life
        async with self._reading_people:  # the read_roster update and a reminder may ask at once
            state = self.state
            loaded = await workflow.execute_local_activity(
                ActivityName.LOAD_PEOPLE, LoadPeopleRequest(item_id=state.item_id, known=state.people_digest),
                result_type=LoadedPeople, start_to_close_timeout=QUICK_ACTIVITY,
            )  # fmt: skip
            state.people_digest = loaded.digest
            if loaded.people is not None:
                self.item.take_people(loaded.people, workflow.now())
        return True

    async def _notify(self, step: str, recipients: list[str], subject: str, body: str) -> str:
        """Deliver over the routed channels; the outcome ("sent", "failed", "unknown") is recorded, never raised."""
        state, policy = self.state, self.state.policy
        draft = Notification(
            idempotency_key=f"{state.item_id}/{step}", incident_id=state.incident_id,
            occurrence=state.occurrence, kind=NotificationKind.REMINDER, channel=policy.page_channel,
            recipients=recipients, severity=state.severity, service=state.service, subject=subject, body=body,
            facts={"action_item": state.item_id, "owner": state.owner, "due_at": state.due_at.isoformat()},
            links=[state.tracking_link] if state.tracking_link else [],
        )  # fmt: skip
        groups = plan_routes(policy.routing, policy.roster, policy.page_channel, recipients, state.service,
                             state.severity, NotificationKind.REMINDER)  # fmt: skip
        delivery = await deliver(draft, step, groups, policy.routing)
        return delivery.outcome

    # ------------------------------------------------------------------ commands

    def _signal(self, name: str, payload: Any) -> None:
        self._commands += 1
        self.item.handle_signal(name, payload, workflow.now())
        self._changed()

    def _validate(self, name: str, command: Command) -> None:
        reason = self.item.refusal(name, command, workflow.now())
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    def _update(self, name: str, command: Command) -> CommandVerdict:
        self._commands += 1
        verdict = self.item.execute(name, command, workflow.now())
        self._changed()
        return verdict

    @workflow.signal(name="complete", description='Done: {"by": "you", "evidence": "https://.../pull/42"}')
    def complete_signal(self, payload: Any = None) -> None:
        self._signal("complete", payload)

    @workflow.update(name="complete", description="Mark the item done with evidence; get the verdict.")
    def complete_update(self, command: CompleteItem) -> CommandVerdict:
        return self._update("complete", command)

    @complete_update.validator
    def _check_complete(self, command: CompleteItem) -> None:
        self._validate("complete", command)

    @workflow.signal(
        name="reassign", description='New owner: {"by": "you", "owner": "roster name", "reason": "why"}'
    )
    def reassign_signal(self, payload: Any = None) -> None:
        self._signal("reassign", payload)

    @workflow.update(name="reassign", description="Give the item to another roster person; get the verdict.")
    def reassign_update(self, command: ReassignItem) -> CommandVerdict:
        return self._update("reassign", command)

    @reassign_update.validator
    def _check_reassign(self, command: ReassignItem) -> None:
        self._validate("reassign", command)

    @workflow.signal(
        name="extend_due",
        description='Move the due date: {"by": "you", "until": "2027-01-31", "reason": "why"}',
    )
    def extend_due_signal(self, payload: Any = None) -> None:
        self._signal("extend_due", payload)

    @workflow.update(name="extend_due", description="Move the due date (bounded for high priority).")
    def extend_due_update(self, command: ExtendDue) -> CommandVerdict:
        return self._update("extend_due", command)

    @extend_due_update.validator
    def _check_extend(self, command: ExtendDue) -> None:
        self._validate("extend_due", command)

    @workflow.signal(name="cancel", description='Not needed any more: {"by": "you", "reason": "why"}')
    def cancel_signal(self, payload: Any = None) -> None:
        self._signal("cancel", payload)

    @workflow.update(name="cancel", description="Cancel the item with a reason; get the verdict.")
    def cancel_update(self, command: CancelItem) -> CommandVerdict:
        return self._update("cancel", command)

    @cancel_update.validator
    def _check_cancel(self, command: CancelItem) -> None:
        self._validate("cancel", command)

    @workflow.signal(
        name="read_roster",
        description='Read the roster from the policy file now, before reassigning to someone new: {"by": "you"}',
    )
    async def read_roster_signal(self, payload: Any = None) -> None:
        self._commands += 1
        now = workflow.now()
        command = self.item.parse_signal("read_roster", ReadRoster, payload, now)
        if isinstance(command, CommandVerdict):
            return
        refused = self.item.closed_refusal()
        if refused is not None:
            self.state.record(now, "rejected", command.by, f"read_roster rejected: {refused}")
            return
        await self._read_roster(command)

    @workflow.update(
        name="read_roster",
        description="Read the roster and routing from the policy file now (before reassigning to someone new).",
    )
    async def read_roster_update(self, command: ReadRoster) -> CommandVerdict:
        self._commands += 1
        return await self._read_roster(command)

    async def _read_roster(self, command: ReadRoster) -> CommandVerdict:
        """Read the people now. Recorded either way, so whoever asked from the Web UI (where a signal returns
        nothing) sees it done, or why not, before reassigning."""
        if await self._refresh_people():
            people = sorted(self.state.policy.roster.people)
            outcome, reason = "applied", f"roster read: {len(people)} people ({', '.join(people[:20])})"
        else:
            outcome, reason = "ignored", "an item created before items read the roster again keeps its roster"
        self.state.record(workflow.now(), "read", command.by, reason)
        self._changed()
        return CommandVerdict(
            command="read_roster", outcome=outcome, reason=reason, command_id=command.command_id
        )

    @read_roster_update.validator
    def _check_read_roster(self, command: ReadRoster) -> None:
        reason = self.item.closed_refusal()
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    @workflow.query(description="Owner, priority, due date, status, next reminder, extensions and history.")
    def status(self) -> ActionItemView:
        state = self.state
        pending = pending_reminders(state, self._policy)
        return ActionItemView(
            item_id=state.item_id, title=state.title, owner=state.owner, manager=state.manager,
            priority=state.priority, status=state.status, due_at=state.due_at,
            original_due_at=state.original_due_at, incident_id=state.incident_id,
            tracking_link=state.tracking_link, description=state.description, completed_by=state.completed_by,
            evidence=state.evidence, closed_at=state.closed_at, extensions=state.extensions,
            extensions_total=state.extensions_total,
            next_reminder_at=pending[0].at if pending else None,
            next_reminder=pending[0].description if pending else None,
            history=state.history, history_total=state.history_total, runs=state.runs,
        )  # fmt: skip

    # ------------------------------------------------------------------ bookkeeping

    def _changed(self) -> None:
        self._version += 1
        self._refresh_overdue()
        self._sync()

    def _woken(self, version: int) -> Callable[[], bool]:
        return lambda: self._version != version or self._should_continue_as_new()

    def _refresh_overdue(self) -> None:
        state = self.state
        if state.status is ItemStatus.OPEN and workflow.now() >= state.due_at:
            state.status = ItemStatus.OVERDUE
            action_item_overdue(team_label(state))
        self._sync()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= EVENTS_PER_RUN
            or self._commands >= COMMANDS_PER_RUN
        )

    def _sync(self) -> None:
        """Search attributes when what the Web UI and `warroom action-items list` filter on changed."""
        state = self.state
        shown = (state.status, state.owner, state.due_at, state.priority)
        if shown == self._shown:
            return
        self._shown = shown
        updates: list[SearchAttributeUpdate[Any]] = [
            ACTION_ITEM_STATUS.value_set(state.status.value),
            ACTION_ITEM_OWNER.value_set(state.owner),
            ACTION_ITEM_DUE.value_set(state.due_at),
            ACTION_ITEM_PRIORITY.value_set(state.priority),
            ACTION_ITEM_INCIDENT.value_set(state.incident_id),
        ]
        if state.tracking_link:
            updates.append(ACTION_ITEM_LINK.value_set(state.tracking_link))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        state = self.state
        lines = [
            f"## {state.title}",
            f"**{state.status.value}** · {state.priority} priority · owner {state.owner} · "
            f"due {state.due_at:%Y-%m-%d %H:%M} UTC · from {state.incident_id}",
        ]
        if state.tracking_link:
            lines.append(f"Tracked in {state.tracking_link}")
        if not state.is_closed:
            lines.append('Done? Signal `complete` with `{"by": "you", "evidence": "link"}`')
        return "\n\n".join(lines)

    @property
    def _policy(self) -> ActionItemPolicy:
        return self.state.policy.analysis.action_items


def team_label(state: ActionItemState) -> str:
    """The metrics label: the team owning the incident's service (bounded by the roster), else `none`."""
    return state.policy.roster.team_of(state.service) or "none"
