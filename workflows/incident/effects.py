"""What an incident asks of the world, through activities: notify (and record how it went), perform a duty,
probe health, move old timeline entries to the archive, render the post-mortem.

Shared by IncidentWorkflow and AftercareWorkflow, which carry the same state and perform the same duties.
Nothing here raises for a channel or probe that fails: failure is a recorded fact, and the incident goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.delivery import deliver
    from workflows.escalation import DutyKind, Obligation
    from workflows.incident import wording
    from workflows.incident.domain import SYSTEM, Incident
    from workflows.incident.state import DELIVERIES_KEPT, IncidentState, PostedUpdate
    from workflows.incident.views import cadence_tag, status_slots_done, status_view, template_facts
    from workflows.messages.activities import (
        ActivityName,
        ArchiveTimelineRequest,
        ArchiveTimelineResult,
        HealthCheckRequest,
        HealthCheckResult,
        PostmortemRequest,
        PostmortemResult,
    )
    from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
    from workflows.messages.status import EventKind, TimelineEvent
    from workflows.policy import Policy
    from workflows.routing import plan_routes
    from workflows.targets import resolve_people

QUICK_ACTIVITY = timedelta(seconds=30)
HEALTH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# Writing files can fail for reasons a retry will not fix (a read-only disk): a few tries, then a recorded
# failure, never an incident that cannot close.
ARCHIVE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
# The timeline keeps this many recent events in state; past ARCHIVE_AT, all but KEEP_RECENT move to the archive.
ARCHIVE_AT = 120
KEEP_RECENT = 40
ARCHIVE_BYTES = 256 * 1024
# One archive call carries at most this much: a burst of thousands of signals in one workflow task must not
# become one activity input over the 2 MB payload limit (the server then fails every workflow task).
BATCH_EVENTS = 400
BATCH_BYTES = 512 * 1024
EVENT_OVERHEAD_BYTES = 300  # JSON keys, timestamps, details beside the summary
# How each non-page duty is sent and recorded.
DUTY_NOTIFICATIONS = {
    "notice": (NotificationKind.ESCALATION, EventKind.NOTIFIED),
    "business": (NotificationKind.ESCALATION, EventKind.NOTIFIED),
    "regulatory": (NotificationKind.ESCALATION, EventKind.REGULATORY),
    "nudge": (NotificationKind.ESCALATION, EventKind.NUDGED),
    "update": (NotificationKind.STATUS_UPDATE, EventKind.STATUS_UPDATE),
    "customer_update": (NotificationKind.CUSTOMER_COMMUNICATION, EventKind.STATUS_UPDATE),
    "ack_notice": (NotificationKind.ACKNOWLEDGEMENT, EventKind.NOTIFIED),
}


def bounded_batch(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """The oldest events that fit one activity input (by count and approximate bytes)."""
    batch: list[TimelineEvent] = []
    size = 0
    for event in events[:BATCH_EVENTS]:
        size += len(event.summary) + EVENT_OVERHEAD_BYTES
        if batch and size > BATCH_BYTES:
            break
        batch.append(event)
    return batch


class Effects:
    def __init__(self, incident: Incident, changed: Callable[[], None]) -> None:
        self.incident = incident
        self._changed = changed

    @property
    def state(self) -> IncidentState:
        return self.incident.state

    @property
    def policy(self) -> Policy:
        assert self.state.policy is not None, "policy is pinned before any effect"
        return self.state.policy

    def record(self, kind: EventKind, actor: str, summary: str, **details: Any) -> None:
        self.incident.record(workflow.now(), kind, actor, summary, **details)

    # ------------------------------------------------------------------ people

    def resolve_targets(self, references: list[str]) -> list[str]:
        """References to people now, resolved exactly as the policy tooling resolves them (workflows/targets)."""
        cause, response = self.state.cause, self.state.response
        return resolve_people(
            self.policy, references, team=cause.teams[0] if cause.teams else None, moment=workflow.now(),
            roles=response.roles, other_teams=cause.teams[1:], paged=response.paged,
        )  # fmt: skip

    # ------------------------------------------------------------------ duties

    async def perform(self, duty: Obligation) -> None:
        people = self.resolve_targets(duty.targets)
        response = self.state.response
        if duty.kind == DutyKind.PAGE and not await self._page(duty, people):
            # Someone was not reached: not done; the engine offers it again after a backoff, for them only.
            response.duties_failed.setdefault(duty.id, []).append(workflow.now())
            if duty.attempt >= self.policy.escalation.page_retry.attempts:
                response.page_reached.pop(duty.id, None)
                self.record(
                    EventKind.WARNING, SYSTEM, f"{duty.description}: gave up after {duty.attempt} tries"
                )
        else:
            if duty.kind != DutyKind.PAGE:
                await self._send_duty(duty, people)
            response.duties_done.append(duty.id)
            response.duties_failed.pop(duty.id, None)
            response.page_reached.pop(duty.id, None)
        self._forget_finished_duties()
        self._changed()

    def _forget_finished_duties(self) -> None:
        """Keep `duties_done` bounded: ids of updates already sent, of status cadences anchored before the last
        update, and of cadence slots fully done (counted instead) can never be offered again."""
        response = self.state.response
        tag = cadence_tag(self.state)
        slots = status_slots_done(self.state)
        done = set(response.duties_done)
        while {f"status/{tag}/{slots + 1}/nudge", f"status/{tag}/{slots + 1}/escalate"} <= done:
            slots += 1
        response.status_cadence = (tag, slots)
        unsent = {f"update/{update.index}" for update in self.state.communications.unsent}
        current = f"status/{tag}/"
        response.duties_done = [
            duty for duty in response.duties_done
            if not (duty.startswith("update/") and duty not in unsent)
            and not (duty.startswith("status/") and not duty.startswith(current))
            and not (duty.startswith(current) and int(duty.split("/")[2]) <= slots)
        ]  # fmt: skip

    async def _page(self, duty: Obligation, people: list[str]) -> bool:
        """True when the page reached everyone it was for (sent, or unknown: a channel that may have
        delivered). A retry of a page that reached some of them pages only the others, so nobody gets the
        same page twice over two channels."""
        level = duty.level or 1
        if not people:
            people = self.policy.escalation.fallback_targets
            self.record(
                EventKind.WARNING, SYSTEM, f"level {level} resolves to nobody; paging {', '.join(people)}"
            )
        response = self.state.response
        already = response.page_reached.get(duty.id, [])
        # Who was paged is recorded when the page starts, in the order duties start (level 1 first), so pages
        # running side by side leave the same list whichever channel answers first.
        response.paged += [person for person in people if person not in response.paged]
        first = level == 1 and 1 not in response.engaged_levels
        delivery = await self.notify(
            duty.id, NotificationKind.PAGE if first else NotificationKind.ESCALATION, people,
            wording.page_subject(self.state), wording.page_body(duty.description), skip=already,
        )  # fmt: skip
        reached = delivery.outcome != "failed"
        if reached and level not in response.engaged_levels:
            response.engaged_levels.append(level)
        if reached:
            outcome = "paged"
        elif delivery.reached:
            response.page_reached[duty.id] = already + delivery.reached
            missed = [person for person in people if person not in already + delivery.reached]
            outcome = f"page FAILED for {', '.join(missed)} (try {duty.attempt}; retried for them only) at"
        else:
            outcome = f"page FAILED on every channel (try {duty.attempt}) for"
        self.record(
            EventKind.PAGED if first else EventKind.ESCALATED, SYSTEM,
            f"{outcome} level {level}: {', '.join(people)} ({duty.description})",
            channel=delivery.channel, delivered=delivery.delivered, detail=delivery.detail, duty=duty.id,
            level=level,
        )  # fmt: skip
        return reached

    async def _send_duty(self, duty: Obligation, people: list[str]) -> None:
        kind, event = DUTY_NOTIFICATIONS[duty.kind]
        if not people:
            self.record(EventKind.WARNING, SYSTEM, f"{duty.description}: nobody to notify (check the roster)")
            return
        update = self._posted_update(duty)
        body = wording.update_body(update) if update else wording.situation_body(self.state)
        delivery = await self.notify(
            duty.id, kind, people, wording.duty_subject(self.state, duty.description), body
        )
        if update is not None:
            self.state.communications.unsent.remove(update)
        outcome = "" if delivery.delivered else "FAILED: "
        self.record(
            event, SYSTEM, f"{outcome}{duty.description} -> {', '.join(people)}",
            channel=delivery.channel, delivered=delivery.delivered, detail=delivery.detail, duty=duty.id,
        )  # fmt: skip

    def _posted_update(self, duty: Obligation) -> PostedUpdate | None:
        if duty.update_index is None:
            return None
        unsent = self.state.communications.unsent
        return next((update for update in unsent if update.index == duty.update_index), None)

    # ------------------------------------------------------------------ notifications

    async def notify(
        self, step: str, kind: NotificationKind, recipients: list[str], subject: str, body: str,
        skip: list[str] | None = None, **facts: str,
    ) -> DeliveryResult:  # fmt: skip
        """Deliver over the routed channels (fallback per person/role) and record what happened.

        The idempotency key is `<occurrence>/<step>`: stable across activity retries and continue-as-new,
        new for a recurrence under the same incident id (so receivers never drop its pages as duplicates).
        `skip`: people a previous try of this step reached; their groups are left out, the others keep the
        labels (and so the keys) of that first try."""
        policy, state = self.policy, self.state
        draft = Notification(
            idempotency_key=f"{state.occurrence}/{step}", incident_id=state.incident_id,
            occurrence=state.occurrence, kind=kind, channel=policy.page_channel, recipients=recipients,
            severity=state.severity, service=state.cause.service, subject=subject, body=body,
            facts={**template_facts(state, policy), **facts},
        )  # fmt: skip
        groups = plan_routes(
            policy.routing, policy.roster, policy.page_channel, recipients, state.cause.service,
            state.severity, kind,
        )  # fmt: skip
        if skip:
            groups = [group for group in groups if not set(group.names) <= set(skip)]
        delivery = await deliver(draft, step, groups, policy.routing)
        state.deliveries.append(delivery)
        del state.deliveries[:-DELIVERIES_KEPT]
        self.record(
            EventKind.DELIVERY, SYSTEM, f"{kind.value} {delivery.outcome}: {delivery.detail}",
            step=step, notification=kind.value, outcome=delivery.outcome,
            channels=[attempt.channel for attempt in delivery.tried],
            fell_back=delivery.fell_back,
        )  # fmt: skip
        return delivery

    # ------------------------------------------------------------------ health, archive, post-mortem

    async def check_health(self) -> HealthCheckResult:
        service = self.state.cause.service
        try:
            health: HealthCheckResult = await workflow.execute_activity(
                ActivityName.CHECK_HEALTH,
                HealthCheckRequest(
                    incident_id=self.state.incident_id,
                    service=service,
                    url=self.policy.health_checks.get(service or ""),
                ),
                result_type=HealthCheckResult,
                start_to_close_timeout=QUICK_ACTIVITY,
                retry_policy=HEALTH_RETRY,
            )
        except ActivityError as error:
            health = HealthCheckResult(
                healthy=False, checked=True, detail=f"health check error: {error.cause}"
            )
        self.record(
            EventKind.HEALTH_CHECK, SYSTEM, health.detail, healthy=health.healthy, checked=health.checked
        )
        return health

    def timeline_too_long(self) -> bool:
        recent = self.state.timeline.recent
        if len(recent) > ARCHIVE_AT:
            return True
        return len(recent) > KEEP_RECENT and sum(len(event.summary) for event in recent) > ARCHIVE_BYTES

    async def archive(self, everything: bool = False) -> None:
        """Store older events in the archive and drop them from state, keeping the KEEP_RECENT latest.
        `everything` also stores the latest (before the post-mortem reads the archive) but keeps them in state
        while the timeline is short, so the status of a closed incident still shows it. On failure the events
        stay in state and a warning says so; the next try stores them."""
        timeline = self.state.timeline
        unstored = [event for event in timeline.recent if (event.seq or 0) > timeline.archived_through]
        batch = bounded_batch(unstored if everything else unstored[: max(len(unstored) - KEEP_RECENT, 0)])
        if not batch:
            return
        try:
            result: ArchiveTimelineResult = await workflow.execute_activity(
                ActivityName.ARCHIVE_TIMELINE,
                ArchiveTimelineRequest(
                    incident_id=self.state.incident_id, occurrence=self.state.occurrence, events=batch
                ),
                result_type=ArchiveTimelineResult,
                start_to_close_timeout=QUICK_ACTIVITY,
                retry_policy=ARCHIVE_RETRY,
            )
        except ActivityError as error:
            self.record(EventKind.WARNING, SYSTEM, f"timeline archive failed, kept in state: {error.cause}")
            return
        timeline.archived_through = max(timeline.archived_through, result.stored_through)
        if everything and len(batch) < len(unstored):
            await self.archive(everything=True)  # a burst of signals can leave more than one batch
            return
        if everything and not self.timeline_too_long():
            return
        keep_from = len(timeline.recent) - KEEP_RECENT
        timeline.recent = [
            event for index, event in enumerate(timeline.recent)
            if index >= keep_from or (event.seq or 0) > timeline.archived_through
        ]  # fmt: skip

    async def render_postmortem(self) -> str | None:
        await self.archive(everything=True)
        request = self.state.lifecycle.resolve_request
        try:
            result: PostmortemResult = await workflow.execute_activity(
                ActivityName.RENDER_POSTMORTEM,
                PostmortemRequest(
                    incident_id=self.state.incident_id,
                    occurrence=self.state.occurrence,
                    # Whatever the archive could not take is passed along; the rest is read from there.
                    status=status_view(self.state, []).model_copy(
                        update={"timeline": self.state.timeline.recent}
                    ),
                    opened_at=self.state.lifecycle.opened_at,
                    impact=self.state.cause.impact,
                    policy=self.state.policy,
                    false_positive=bool(request and request.false_positive),
                ),
                result_type=PostmortemResult,
                start_to_close_timeout=QUICK_ACTIVITY,
                retry_policy=ARCHIVE_RETRY,
            )
        except ActivityError as error:
            self.record(EventKind.WARNING, SYSTEM, f"post-mortem draft could not be written: {error.cause}")
            return None
        if result.warning:
            self.record(EventKind.WARNING, SYSTEM, result.warning)
        return result.path
