"""PostmortemReviewWorkflow: started by every incident occurrence at resolution (`review-<occurrence>`).

It assigns a facilitator, reminds the incident commander and the facilitator before the review is due, tells
the engineering manager when it is overdue, and on `postmortem_complete` starts one ActionItemWorkflow per item
(abandoned children: they outlive the review and the incident). It also carries the duties that outlive the
incident's resolution (regulatory clock, business notices) with the incident's own engine and effects, and
accepts `record_regulatory_notification`. It ends once the review is complete and no duty is left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.action_item.domain import actor_of
    from workflows.action_item.workflow import ActionItemWorkflow
    from workflows.escalation import DutyRule, Obligation, pending_obligations
    from workflows.incident.domain import SYSTEM, Incident
    from workflows.incident.duty_runner import DutyRunner
    from workflows.incident.effects import Effects
    from workflows.incident.views import duty_facts, status_view
    from workflows.messages.action_items import PostmortemComplete, ReviewView, item_workflow_id
    from workflows.messages.commands import CommandOutcome, CommandVerdict, RecordRegulatoryNotification
    from workflows.messages.notifications import NotificationKind
    from workflows.messages.status import Deadline, EventKind, IncidentStatus
    from workflows.policy import Policy
    from workflows.review import rules, wording
    from workflows.review.state import ITEMS_LISTED, ContinuedReview, ReviewFacts, ReviewInput, ReviewState

REGULATORY = "record_regulatory_notification"
COMPLETE = "postmortem_complete"
UPCOMING_SHOWN = 5
EVENTS_PER_RUN = 2000  # our own bound beside the server's suggestion (module constant: tests lower it)


@workflow.defn(sandboxed=False)  # as IncidentWorkflow, whose state, engine and effects it shares
class PostmortemReviewWorkflow:
    @workflow.init
    def __init__(self, inp: ReviewInput | ContinuedReview) -> None:
        if isinstance(inp, ContinuedReview):
            self.review_state = inp.state
            self.review_state.runs += 1
        else:
            self.review_state = self._new_review(inp)
        self.incident = Incident(self.review_state.incident)
        self.runner = DutyRunner(self._pending, self._perform, self._show)
        self.effects = Effects(self.incident, self.runner.changed)
        self._upcoming: list[Deadline] = []

    def _new_review(self, inp: ReviewInput) -> ReviewState:
        now = workflow.now()
        incident = inp.incident
        assert incident.policy is not None, "an incident hands over after its policy is pinned"
        resolved_at = incident.lifecycle.resolved_at or now
        facilitator, why = rules.choose_facilitator(incident.policy, incident, now)
        facts = ReviewFacts(resolved_at=resolved_at, due_at=resolved_at + incident.policy.analysis.review.due_within,
                            facilitator=facilitator)  # fmt: skip
        Incident(incident).record(
            now, EventKind.ROLE_ASSIGNED if facilitator else EventKind.WARNING, SYSTEM, why
        )
        return ReviewState(incident=incident, review=facts)

    @property
    def facts(self) -> ReviewFacts:
        return self.review_state.review

    @property
    def policy(self) -> Policy:
        assert self.incident.state.policy is not None
        return self.incident.state.policy

    # ------------------------------------------------------------------ the life of a review

    @workflow.run
    async def run(self, inp: ReviewInput | ContinuedReview) -> ReviewView:
        if self.review_state.runs == 1 and isinstance(inp, ReviewInput):
            await self._tell_facilitator()
        while True:
            await self.runner.run(stop=self._should_pause)
            if self.facts.items_to_start:
                await self._start_items()
            elif self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(ContinuedReview(state=self.review_state))
            elif self._finished():
                break
        await self.effects.archive(everything=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.review()

    def _should_pause(self) -> bool:
        return bool(self.facts.items_to_start) or self._finished() or self._should_continue_as_new()

    def _finished(self) -> bool:
        return self.facts.complete and not self._pending()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= EVENTS_PER_RUN

    async def _tell_facilitator(self) -> None:
        if not self.facts.facilitator:
            return
        incident = self.incident.state
        await self.effects.notify(
            "review/assigned", NotificationKind.REMINDER, [self.facts.facilitator],
            wording.assigned_subject(incident), wording.body(incident, self.facts),
        )  # fmt: skip

    async def _start_items(self) -> None:
        """One ActionItemWorkflow per item, abandoned so it outlives this review and the incident. Ids are
        deterministic, so a restarted run never starts an item twice; a start that fails is recorded."""
        facts, incident = self.facts, self.incident.state
        while facts.items_to_start:
            spec = facts.items_to_start[0]
            facts.items_started += 1
            item_id = item_workflow_id(incident.occurrence, facts.items_started)
            try:
                await workflow.start_child_workflow(
                    ActionItemWorkflow.run, rules.item_input(self.policy, incident, facts, spec), id=item_id,
                    parent_close_policy=ParentClosePolicy.ABANDON, static_summary=f"action item: {spec.title}"[:200],
                )  # fmt: skip
            except Exception as error:  # e.g. the id exists already: say so, never fail the review
                self.effects.record(EventKind.WARNING, SYSTEM, f"action item {item_id} not started: {error}")
            else:
                facts.item_ids.append(item_id)
                del facts.item_ids[:-ITEMS_LISTED]
                self.effects.record(
                    EventKind.NOTE, SYSTEM, f"action item {item_id}: {spec.title} ({spec.owner})"
                )
            facts.items_to_start.pop(0)

    # ------------------------------------------------------------------ duties: review reminders + incident duties

    def _pending(self) -> list[Obligation]:
        incident_duties = pending_obligations(self.policy, duty_facts(self.incident.state))
        merged = incident_duties + rules.review_duties(self.policy, self.facts)
        return sorted(merged, key=lambda duty: duty.due_at)

    async def _perform(self, duty: Obligation) -> None:
        if duty.rule is not DutyRule.POSTMORTEM_REVIEW:
            await self.effects.perform(duty)
            return
        people = self._people(duty.targets)
        incident = self.incident.state
        if people:
            delivery = await self.effects.notify(
                duty.id, NotificationKind.REMINDER, people, wording.reminder_subject(incident, duty.description),
                wording.body(incident, self.facts),
            )  # fmt: skip
            kind = EventKind.ESCALATED if duty.id.startswith("review/overdue") else EventKind.NOTIFIED
            self.effects.record(kind, SYSTEM, f"{duty.description} -> {', '.join(people)}",
                                delivered=delivery.delivered, duty=duty.id)  # fmt: skip
        else:
            self.effects.record(
                EventKind.WARNING, SYSTEM, f"{duty.description}: nobody to notify (check the roster)"
            )
        self.facts.sent.append(duty.id)
        if self.effects.timeline_too_long():
            await self.effects.archive()
        self.runner.changed()

    def _people(self, references: list[str]) -> list[str]:
        facilitator = self.facts.facilitator
        resolved = [facilitator] if facilitator and rules.FACILITATOR in references else []
        others = self.effects.resolve_targets([ref for ref in references if ref != rules.FACILITATOR])
        return list(dict.fromkeys([*others, *resolved]))

    def _show(self, waiting: list[Obligation]) -> None:
        self._upcoming = [
            Deadline(kind="review" if duty.rule is DutyRule.POSTMORTEM_REVIEW else duty.kind, due_at=duty.due_at,
                     description=duty.description, targets=self._people(duty.targets))
            for duty in waiting[:UPCOMING_SHOWN]
        ]  # fmt: skip
        facts, incident = self.facts, self.incident.state
        state = "complete" if facts.complete else f"due {facts.due_at:%Y-%m-%d %H:%M} UTC"
        lines = [f"## Post-mortem review of {incident.incident_id}",
                 f"Facilitator: {facts.facilitator or 'nobody'} · {state}"]  # fmt: skip
        if self._upcoming:
            lines.append(
                f"Next: {self._upcoming[0].description} at {self._upcoming[0].due_at:%Y-%m-%d %H:%M} UTC"
            )
        if not facts.complete:
            lines.append(
                'Held the review? Signal `postmortem_complete` with `{"by": "you", "document_url": "...", '
                '"action_items": [{"title": "...", "owner": "...", "priority": "high"}]}`'
            )
        workflow.set_current_details("\n\n".join(lines))

    # ------------------------------------------------------------------ signals, updates, queries

    @workflow.signal(
        name=COMPLETE,
        description='Review held: {"by": "you", "document_url": "https://...", "action_items": '
        '[{"title": "...", "owner": "roster name", "priority": "high", "tracking_link": "https://..."}]}',
    )
    def postmortem_complete_signal(self, payload: Any = None) -> None:
        now = workflow.now()
        try:
            command = PostmortemComplete.model_validate(payload if payload is not None else {})
        except ValueError as error:
            self.effects.record(
                EventKind.REJECTED, actor_of(payload), f"{COMPLETE} rejected: invalid payload: {error}"[:2000]
            )
            return
        self._complete(command, now)

    @workflow.update(
        name=COMPLETE, description="Close the review and start its action items; get the verdict."
    )
    def postmortem_complete_update(self, command: PostmortemComplete) -> CommandVerdict:
        return self._complete(command, workflow.now())

    @postmortem_complete_update.validator
    def _check_complete(self, command: PostmortemComplete) -> None:
        if self._is_repeat(command):
            return
        reason = rules.refusal(self.policy, self.facts, command, workflow.now())
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    def _is_repeat(self, command: PostmortemComplete) -> bool:
        return bool(command.command_id) and command.command_id == self.facts.completed_command_id

    def _complete(self, command: PostmortemComplete, now: datetime) -> CommandVerdict:
        def verdict(outcome: CommandOutcome, reason: str) -> CommandVerdict:
            return CommandVerdict(
                command=COMPLETE, outcome=outcome, reason=reason, command_id=command.command_id
            )

        if self._is_repeat(command):
            return verdict("ignored", "a repeat of a command already handled")
        reason = rules.refusal(self.policy, self.facts, command, now)
        if reason is not None:
            self.effects.record(EventKind.REJECTED, command.by, f"{COMPLETE} rejected: {reason}")
            return verdict("rejected", reason)
        self.facts.completed_command_id = command.command_id
        summary = rules.complete(self.facts, command, now)
        self.effects.record(EventKind.POSTMORTEM, command.by, summary, document_url=command.document_url)
        self.runner.changed()
        return verdict("applied", summary)

    @workflow.signal(name=REGULATORY, description='Regulator notified: {"by": "you", "reference": "case 42"}')
    def record_regulatory_notification_signal(self, payload: Any = None) -> None:
        self.incident.handle_signal(REGULATORY, payload, workflow.now())
        self.runner.changed()

    @workflow.update(name=REGULATORY, description="Record the regulator notification; get the verdict.")
    def record_regulatory_notification_update(self, command: RecordRegulatoryNotification) -> CommandVerdict:
        decision = self.incident.execute(REGULATORY, command, workflow.now())
        self.runner.changed()
        return decision.verdict

    @record_regulatory_notification_update.validator
    def _check_regulatory(self, command: RecordRegulatoryNotification) -> None:
        reason = self.incident.refusal(REGULATORY, command)
        if reason is not None:
            raise ApplicationError(reason, type="CommandRefused", non_retryable=True)

    @workflow.query(description="The incident as the review carries it: duties still due, recent events.")
    def status(self) -> IncidentStatus:
        return status_view(self.incident.state, self._upcoming)

    @workflow.query(description="Facilitator, due date, reminders, completion and the action items started.")
    def review(self) -> ReviewView:
        facts, incident = self.facts, self.incident.state
        overdue = not facts.complete and workflow.now() >= facts.due_at
        upcoming = next((d for d in self._upcoming if d.kind == "review"), None)
        return ReviewView(
            review_id=workflow.info().workflow_id, incident_id=incident.incident_id, resolved_at=facts.resolved_at,
            due_at=facts.due_at, facilitator=facts.facilitator,
            incident_commander=incident.response.roles.get("incident_commander"),
            state="complete" if facts.complete else "overdue" if overdue else "open",
            completed_by=facts.completed_by, completed_at=facts.completed_at, document_url=facts.document_url,
            action_items=facts.item_ids, next_reminder_at=upcoming.due_at if upcoming else None,
            next_reminder=upcoming.description if upcoming else None, runs=self.review_state.runs,
        )  # fmt: skip
