"""DeadMansSwitchWorkflow: a silent alerting pipeline is itself an incident.

Alertmanager's always-firing Watchdog alert (or any sender's POST /heartbeat/<source>) reaches the intake,
which signal-with-starts `deadman-<source>`. One long-running switch per source re-arms a durable timer at
every heartbeat; when a source stays silent for the policy's `heartbeat.silence_after`, the switch pages the
policy's `escalation.fallback_targets` once, through the same routing and fallback chains as an incident's
pages, and announces to the same people when heartbeats resume.

The policy is read (an activity) when the switch arms and again at each continue-as-new, so a policy edit
reaches a switch that lives for months at its next run. Not sandboxed, like IncidentWorkflow: determinism by
discipline (workflow.now(), no I/O here).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.delivery import deliver
    from workflows.durations import format_duration
    from workflows.incident.effects import QUICK_ACTIVITY
    from workflows.messages.activities import ActivityName, LoadedPolicy, LoadPolicyRequest
    from workflows.messages.heartbeat import (
        EVENTS_KEPT,
        Heartbeat,
        SwitchEvent,
        SwitchInput,
        SwitchState,
        SwitchStatus,
    )
    from workflows.messages.notifications import DeliveryResult, Notification, NotificationKind
    from workflows.messages.validation import describe_validation_error
    from workflows.metrics import heartbeat_resumed, heartbeat_silent
    from workflows.policy import Policy
    from workflows.routing import plan_routes

# The time-skipping server never suggests continue-as-new. A heartbeat costs four history events (its signal and
# one workflow task); before KEPT_SILENCE_TIMER it cost six (the silence timer cancelled and started again).
EVENTS_PER_RUN = 3000

# Runs that record this marker keep the silence timer running across heartbeats: when it fires, a deadline the
# beats moved is armed again, instead of a new timer at every beat. Older runs replay the re-arm at each beat.
KEPT_SILENCE_TIMER = "deadman-kept-silence-timer"


@workflow.defn(sandboxed=False)
class DeadMansSwitchWorkflow:
    @workflow.init
    def __init__(self, inp: SwitchInput | SwitchState) -> None:
        # Built here: the intake's heartbeat arrives with the start, before run() begins.
        if isinstance(inp, SwitchState):
            self.state = inp
        else:
            self.state = SwitchState(source=inp.source, armed_at=workflow.now())
            self._record("armed", f"watching heartbeats from {inp.source}")
        self._policy: Policy | None = None
        self._keep_timer = False

    @workflow.run
    async def run(self, inp: SwitchInput | SwitchState) -> None:
        self._keep_timer = workflow.patched(KEPT_SILENCE_TIMER)
        loaded = await workflow.execute_activity(
            ActivityName.LOAD_POLICY,
            LoadPolicyRequest(incident_id=workflow.info().workflow_id),
            result_type=LoadedPolicy,
            start_to_close_timeout=QUICK_ACTIVITY,
        )
        self._policy = loaded.policy
        while not self._should_continue_as_new():
            seen = self.state.beats
            if self.state.silent_since is None:
                await self._wait_for_beat_or_silence(seen)
            else:
                await self._wait_for_resumption(seen)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state)

    async def _wait_for_beat_or_silence(self, seen: int) -> None:
        due = self._page_due_at()
        remaining = due - workflow.now()
        if remaining > timedelta(0) and self._keep_timer:  # (not due yet; a policy edit may shorten it)
            if await self._sleep_through_beats(remaining):
                return
            due = self._page_due_at()
            if due > workflow.now():
                return  # heartbeats moved the deadline: the loop arms a timer for what is left
        elif remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self.state.beats > seen or self._should_continue_as_new(),
                    timeout=remaining,
                    timeout_summary=f"heartbeat silence of {self.state.source}",
                )
                return
            except TimeoutError:
                pass
        await self._page_silence(due, seen)

    async def _sleep_through_beats(self, remaining: timedelta) -> bool:
        """Wait out the silence deadline without waking for heartbeats; True when the run should continue as
        new instead. A beat only moves the deadline, which is looked at when this timer fires."""
        try:
            await workflow.wait_condition(
                self._should_continue_as_new,
                timeout=remaining,
                timeout_summary=f"heartbeat silence of {self.state.source}",
            )
            return True
        except TimeoutError:
            return False

    async def _wait_for_resumption(self, seen: int) -> None:
        await workflow.wait_condition(lambda: self.state.beats > seen or self._should_continue_as_new())
        if self.state.beats > seen:
            await self._announce_resumption()

    async def _page_silence(self, since: datetime, seen: int) -> None:
        """Page once; a page that failed on every channel is tried again on the policy's `page_retry`
        schedule, until it gets through, the attempts are spent, or a heartbeat makes it moot."""
        state, policy = self.state, self._pinned
        state.silent_since = since
        state.silences += 1
        heartbeat_silent(state.source)
        silence = format_duration(policy.heartbeat.silence_after)
        subject = f"alerting pipeline '{state.source}' is silent: no heartbeat for {silence}"
        body = (
            f"warroom has had no heartbeat from '{state.source}' since {self._last_seen()}. Alerts from it may "
            "not reach anyone: check Prometheus and Alertmanager (their Watchdog alert) or the sender."
        )
        self._record("silent", subject)
        retry = policy.escalation.page_retry
        for attempt in range(1, retry.attempts + 1):
            step = "silent" if attempt == 1 else f"silent/retry-{attempt}"
            delivery = await self._notify(since, step, NotificationKind.PAGE, subject, body)
            self._record("notified", f"paged {self._targets()}: {delivery.outcome} ({delivery.detail})")
            if delivery.outcome != "failed" or attempt == retry.attempts:
                return
            with suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.state.beats > seen, timeout=retry.every, timeout_summary="page retry"
                )
                return  # heartbeats are back: the resumption notice follows, the page is moot

    async def _announce_resumption(self) -> None:
        state = self.state
        since = state.silent_since
        assert since is not None
        state.silent_since = None
        silent_for = format_duration(workflow.now() - since)
        subject = f"alerting pipeline '{state.source}' is back: heartbeats resumed"
        body = f"Heartbeats from '{state.source}' resumed after {silent_for} of silence past the deadline."
        self._record("resumed", subject)
        heartbeat_resumed(state.source)
        delivery = await self._notify(since, "resumed", NotificationKind.RESOLUTION, subject, body)
        self._record("notified", f"told {self._targets()}: {delivery.outcome} ({delivery.detail})")

    async def _notify(
        self, since: datetime, step: str, kind: NotificationKind, subject: str, body: str
    ) -> DeliveryResult:
        """Through the policy's routing and fallback chains, like an incident's pages. The key names this
        silence, so a retry or a replacement worker never pages twice for it."""
        state, policy = self.state, self._pinned
        workflow_id = workflow.info().workflow_id
        silence = f"{workflow_id}@{since:%Y%m%dT%H%M%S}Z"
        recipients = self._targets_list()
        draft = Notification(
            idempotency_key=f"{silence}/{step}", incident_id=workflow_id, occurrence=silence, kind=kind,
            channel=policy.page_channel, recipients=recipients, severity=None,
            service=f"alerting pipeline {state.source}", subject=subject, body=body,
        )  # fmt: skip
        groups = plan_routes(policy.routing, policy.roster, policy.page_channel, recipients, None, None, kind)
        return await deliver(draft, step, groups, policy.routing)

    @workflow.signal(description='A sign of life from the alerting pipeline: {"source": "alertmanager"}.')
    def heartbeat(self, payload: dict[str, Any] | None = None) -> None:
        try:
            beat = Heartbeat.model_validate(payload or {"source": self.state.source, "via": "manual"})
        except ValidationError as error:
            self._record("rejected", f"heartbeat refused: {describe_validation_error(error)}")
            return
        if beat.source != self.state.source:
            self._record(
                "rejected", f"heartbeat for '{beat.source}' sent to the switch of '{self.state.source}'"
            )
            return
        self.state.beats += 1
        self.state.last_beat_at = workflow.now()
        self._show()

    @workflow.query(description="Silent or not, the last heartbeat, when the switch pages next, its events.")
    def status(self) -> SwitchStatus:
        state = self.state
        return SwitchStatus(
            source=state.source, silent=state.silent_since is not None, last_beat_at=state.last_beat_at,
            silent_since=state.silent_since,
            page_due_at=None if state.silent_since or self._policy is None else self._page_due_at(),
            beats=state.beats, silences=state.silences, events=state.events,
        )  # fmt: skip

    # ------------------------------------------------------------------ bookkeeping

    @property
    def _pinned(self) -> Policy:
        assert self._policy is not None, "the policy is read before the switch waits"
        return self._policy

    def _page_due_at(self) -> datetime:
        anchor = self.state.last_beat_at or self.state.armed_at
        return anchor + self._pinned.heartbeat.silence_after

    def _targets_list(self) -> list[str]:
        return list(self._pinned.escalation.fallback_targets)

    def _targets(self) -> str:
        return ", ".join(self._targets_list())

    def _last_seen(self) -> str:
        last = self.state.last_beat_at
        return f"{last:%Y-%m-%d %H:%M:%S} UTC" if last else "it was armed (none ever arrived)"

    def _record(self, kind: Any, summary: str) -> None:
        self.state.events.append(SwitchEvent(at=workflow.now(), kind=kind, summary=summary))
        del self.state.events[:-EVENTS_KEPT]
        workflow.logger.info("dead-man's switch %s: %s", self.state.source, summary)
        self._show()

    def _show(self) -> None:
        """The Web UI's details: the state at a glance and the last events."""
        state = self.state
        lines = [
            f"**Dead-man's switch of `{state.source}`**: {'SILENT since ' if state.silent_since else 'alive'}"
            f"{f'{state.silent_since:%Y-%m-%d %H:%M:%S} UTC' if state.silent_since else ''}",
            f"- last heartbeat: {self._last_seen() if state.last_beat_at else 'none yet'} ({state.beats} in all)",
            f"- silences paged: {state.silences}",
            "",
            *(f"- {event.at:%Y-%m-%d %H:%M:%S} {event.kind}: {event.summary}" for event in state.events[-5:]),
        ]
        workflow.set_current_details("\n".join(lines))

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= EVENTS_PER_RUN
