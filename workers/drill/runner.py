"""Run a scenario: its own time-skipping server, the real worker (IncidentWorkflow and friends) on its own task
queue and temp data dir, the real intake, a recording channel. Nothing of a running `warroom run` is touched.

The script is driven step by step. Each step moves the server's clock to the next thing that happens (a
scripted alert or command, a responder's reaction, or the earliest deadline an incident shows), waits until the
worker is quiet (no activity running, every due duty done, the timeline unchanged), then reacts: a page to a
responder schedules their acknowledgement `acknowledges_after` later. Activities lock the server's clock while
they run, so what the workflow records is the policy's timing plus a few real milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio import activity, workflow
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowQueryFailedError
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from activities import build_activities
from adapters.archive.timeline_files import TimelineArchive
from config.policy_file import load_policy_file
from config.settings import Settings
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.drill.record import AlertDelivery, DrillRun, IncidentRecord
from workers.drill.recording import Recorder
from workers.drill.scenario import REVIEW_COMMANDS, AlertStep, Scenario, commands_used
from workers.drill.senders import DeliveryRefused, DrillIntake
from workers.worker import GRACEFUL_SHUTDOWN, WORKFLOWS
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.action_items import ReviewView
from workflows.messages.activities import ActivityName, HealthCheckRequest, HealthCheckResult
from workflows.messages.containment import (
    ContainmentOutcome,
    ContainmentRequest,
    ContainmentResult,
    HealthObservationRequest,
    HealthObservationResult,
)
from workflows.messages.notifications import NotificationKind
from workflows.messages.status import ActionState, IncidentResult, IncidentStatus, TimelineEvent
from workflows.roster import WEEKDAYS
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

QUIET_POLLS = 3
DUE_GRACE_SECONDS = 2.0
SIGNAL_LIMIT_SECONDS = 5.0
STUCK_SKIP_SECONDS = 3.0
POLL_SECONDS = 0.02
SETTLE_LIMIT_SECONDS = 10.0
PAGING = {NotificationKind.PAGE, NotificationKind.ESCALATION}
DECISIONS = {"approve_action", "reject_action"}


class DrillError(Exception):
    """The drill could not run to its end (the message says why)."""


_RUNTIME: list[Runtime] = []


def quiet_runtime() -> Runtime:
    """The SDK core warns that the test server lacks newer capabilities; a drill's report is what to read."""
    if not _RUNTIME:
        filter_ = TelemetryFilter(core_level="ERROR", other_level="ERROR")
        _RUNTIME.append(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=filter_))))
    return _RUNTIME[0]


@activity.defn(name="check_health")
async def health_not_probed(request: HealthCheckRequest) -> HealthCheckResult:
    """A drill never probes the policy's health URLs (they are production services): the gate passes."""
    return HealthCheckResult(healthy=True, checked=False, detail="health gate not probed in a drill")


class _Counting(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, counter: InFlight) -> None:
        super().__init__(next)
        self._counter = counter

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self._counter.count += 1
        try:
            return await super().execute_activity(input)
        finally:
            self._counter.count -= 1


class InFlight(Interceptor):
    """Counts activities running on the drill's worker: the drill waits for none before it moves the clock."""

    def __init__(self) -> None:
        self.count = 0

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counting(next, self)


@activity.defn(name=ActivityName.CONTAIN)
async def containment_not_run(request: ContainmentRequest) -> ContainmentResult:
    """A drill never acts on a system: the action is recorded as done, nothing is changed."""
    return ContainmentResult(
        outcome=ContainmentOutcome.SUCCEEDED,
        detail=f"drill: {request.adapter} {request.operation} recorded, nothing was changed",
    )


@activity.defn(name=ActivityName.OBSERVE_HEALTH)
async def health_not_observed(request: HealthObservationRequest) -> HealthObservationResult:
    """Recovery's health gates pass in a drill: the policy's health URLs are production services."""
    return HealthObservationResult(
        healthy=True, samples=0, worst_error_rate=0.0, worst_latency_ms=0.0, detail="not observed in a drill"
    )


# What a drill must never run for real: the probes and the containment adapters talk to production systems.
STAND_INS = [health_not_probed, containment_not_run, health_not_observed]


def drill_activities(settings: Settings, channels: dict[str, Any]) -> list[Any]:
    """The worker's own activities on the drill's channels, those that reach systems replaced by stand-ins."""
    replaced = {getattr(fn, "__temporal_activity_definition").name for fn in STAND_INS}
    activities = [
        fn
        # No adapters: WARROOM_CONTAINMENT (the user's HAProxy, runbooks) is never read; the stand-in runs instead.
        for fn in build_activities(settings, channels, adapters={})
        if getattr(fn, "__temporal_activity_definition").name not in replaced
    ]
    return [*activities, *STAND_INS]


def first_moment(after: datetime, scenario: Scenario) -> datetime:
    """The next moment on or after `after` that is the scenario's weekday and time of day (UTC)."""
    day = datetime.combine(after.date(), scenario.start.start_time(), tzinfo=after.tzinfo)
    wanted = WEEKDAYS.index(scenario.start.day)
    for days in range(8):
        candidate = day + timedelta(days=days)
        if candidate.weekday() == wanted and candidate >= after:
            return candidate
    raise AssertionError("a weekday recurs within 8 days")


EventKey = tuple[int | None, datetime, str, str, str]


def event_key(event: TimelineEvent) -> EventKey:
    return (event.seq, event.at, event.kind.value, event.actor, event.summary)


@dataclass(order=True)
class _Due:
    at: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[], Awaitable[None]] = field(compare=False)


class Drill:
    def __init__(self, scenario: Scenario, policy_file: Path) -> None:
        self.scenario = scenario
        self.policy_file = policy_file
        self.policy = load_policy_file(policy_file)
        self.recorder = Recorder()
        self.in_flight = InFlight()
        self._queue: list[_Due] = []
        self._order = itertools.count()
        self._incidents: dict[str, str] = {}  # alert step id (or its index) -> incident workflow id
        self._opened: list[str] = []  # incident ids in the order they opened
        self._statuses: dict[str, IncidentStatus] = {}
        # Keyed by the whole event, not its seq: the review that follows resolution numbers its own events,
        # and they must not replace the incident's.
        self._timelines: dict[str, dict[EventKey, TimelineEvent]] = {}
        self._results: dict[str, IncidentResult] = {}
        self._reacted: set[tuple[str, str]] = set()  # (incident, person or action/person) already scheduled
        self._seen_notifications = 0
        self.stray_locks = 0
        self._stale: set[tuple[str, str, datetime]] = (
            set()
        )  # deadlines shown due that a workflow never performs
        self.deliveries: list[AlertDelivery] = []
        self.commands: list[str] = []

    async def run(self) -> DrillRun:
        with tempfile.TemporaryDirectory(prefix="warroom-drill-") as data_dir:
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=find_binary("temporal-test-server"),
                data_converter=data_converter,
                runtime=quiet_runtime(),
            )
            try:
                return await self._on(env, Path(data_dir))
            finally:
                await env.shutdown()

    async def _on(self, env: WorkflowEnvironment, data_dir: Path) -> DrillRun:
        client = env.client
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={key.name: key.indexed_value_type for key in ALL_SEARCH_ATTRIBUTES},  # type: ignore[misc]
            )
        )
        settings = Settings(
            task_queue=f"drill-{uuid4()}", data_dir=data_dir, policy_file=self.policy_file, metrics_address=""
        )
        start = first_moment(await env.get_current_time(), self.scenario)
        await env.sleep(start - await env.get_current_time())
        self.started_at = start
        self.env, self.client = env, client
        self.intake = DrillIntake(client, settings.task_queue)
        worker = Worker(
            client, task_queue=settings.task_queue, workflows=WORKFLOWS,
            activities=drill_activities(settings, self.recorder.channels(self.policy)),
            interceptors=[self.in_flight], graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )  # fmt: skip
        async with worker:
            try:
                self._schedule_script()
                await self._drive()
                ended = await env.get_current_time()
                incidents = [await self._record(incident, data_dir) for incident in self._opened]
            finally:
                await self.intake.close()
        return DrillRun(
            scenario=self.scenario.name, policy_name=self.policy.name, policy_file=str(self.policy_file),
            policy=self.policy, started_at=start, ended_at=ended, deliveries=self.deliveries,
            incidents=incidents, notifications=self.recorder.notifications, commands=self.commands,
        )  # fmt: skip

    # ------------------------------------------------------------------ the script

    def _at(self, offset: timedelta, label: str, run: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, _Due(self.started_at + offset, next(self._order), label, run))

    def _schedule_script(self) -> None:
        for index, alert in enumerate(self.scenario.alerts):
            self._at(alert.at, f"alert {alert.id or index}", self._alert_runner(index, alert))
        for step in self.scenario.script:
            payload = self.scenario.command_payload(step)
            self._at(step.at, f"{step.by}: {step.do}", self._command_runner(step.do, payload, step.incident))

    def _alert_runner(self, index: int, step: AlertStep) -> Callable[[], Awaitable[None]]:
        async def deliver() -> None:
            try:
                answer = await self.intake.deliver(step)
            except DeliveryRefused as error:
                raise DrillError(f"alert {step.id or f'alerts[{index}]'} at {step.at}: {error}") from None
            now = await self.env.get_current_time()
            label = step.id or f"alerts[{index}]"
            sent = self.started_at + step.at
            delivery = AlertDelivery(sent_at=sent, at=now, step=label, format=step.format, answer=answer)
            self.deliveries.append(delivery)
            for opened in answer.get("incidents", []):
                incident_id = str(opened["incident_id"])
                self._incidents.setdefault(label, incident_id)
                if incident_id not in self._opened:
                    self._opened.append(incident_id)

        return deliver

    def _command_runner(
        self, name: str, payload: dict[str, Any], target: str | None, incident: str | None = None
    ) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            incident_id = incident or (
                self._incidents.get(target) if target else (self._opened[0] if self._opened else None)
            )
            if incident_id is None:
                self.commands.append(f"{payload.get('by')}: {name} skipped (no incident open for it)")
                return
            if name in DECISIONS:
                await self._decide(incident_id, name, dict(payload))
            else:
                await self._signal(incident_id, name, payload)

        return send

    async def _decide(self, incident_id: str, name: str, payload: dict[str, Any]) -> None:
        """approve_action / reject_action: the script names the action, the workflow knows it by its id."""
        action = str(payload.pop("action"))
        status = self._statuses.get(incident_id)
        named = [a for a in (status.actions if status else []) if a.name == action]
        pending = [a for a in named if a.state is ActionState.AWAITING_APPROVAL] or named
        if not pending:
            self.commands.append(
                f"{payload.get('by')}: {name} skipped (no action '{action}' in {incident_id})"
            )
            return
        await self._signal(incident_id, name, {**payload, "action_id": pending[-1].id})

    async def _signal(self, incident_id: str, name: str, payload: dict[str, Any]) -> None:
        handle = self.client.get_workflow_handle(incident_id)
        if name in REVIEW_COMMANDS or not await self._running(handle):
            aftercare = self._aftercare_of(incident_id)
            if aftercare is None:
                why = "not resolved yet: no review" if name in REVIEW_COMMANDS else "closed"
                self.commands.append(f"{payload.get('by')}: {name} -> {incident_id} not sent ({why})")
                return
            handle = self.client.get_workflow_handle(aftercare)
        before = await self._events_recorded(handle)
        try:
            await handle.signal(name, payload)
        except RPCError as error:  # the review (or aftercare) had already ended
            self.commands.append(f"{payload.get('by')}: {name} -> {handle.id} not sent ({error})")
            return
        self.commands.append(f"{payload.get('by')}: {name} -> {handle.id}")
        await self._until_recorded(handle, before)

    async def _events_recorded(self, handle: WorkflowHandle[Any, Any]) -> int:
        status: IncidentStatus = await handle.query("status", result_type=IncidentStatus)
        return status.timeline_total

    async def _until_recorded(self, handle: WorkflowHandle[Any, Any], before: int) -> None:
        """Every command leaves an event (applied, ignored or rejected). One that leaves none within
        SIGNAL_LIMIT_SECONDS of real time met the test server's stall: the drill is run again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SIGNAL_LIMIT_SECONDS
        while await self._events_recorded(handle) == before:
            if loop.time() > deadline:
                raise DrillStalled(f"{handle.id} did not take a signal within {SIGNAL_LIMIT_SECONDS:g} s")
            await asyncio.sleep(POLL_SECONDS)

    # ------------------------------------------------------------------ the clock

    async def _drive(self) -> None:
        end = self.started_at + self.scenario.until
        while True:
            now = await self.env.get_current_time()
            target = min([end, *([self._queue[0].at] if self._queue else []), *await self._deadlines(now)])
            if target > now:
                await self._advance(target - now)
            # What the script does at this instant goes first: the server's clock runs in real time between
            # two skips, and waiting for the worker before a responder acts would make them late by it.
            await self._run_due(await self.env.get_current_time())
            await self._settle()
            self._react()
            now = await self.env.get_current_time()
            await self._run_due(now, settle_between=True)
            if now >= end or (not self._queue and self._opened and not await self._anything_open()):
                return

    async def _advance(self, span: timedelta) -> None:
        """Skip `span` of server time. The Java test server sometimes keeps a time lock after a workflow
        completes with an abandoned child running (the review an incident starts at resolution; seen in
        tests/analysis too): time then never skips again. When the skip makes no progress while the worker
        is idle, that stray lock is released once, and the skip goes on."""
        sleeping = asyncio.create_task(self.env.sleep(span))
        done, _ = await asyncio.wait({sleeping}, timeout=STUCK_SKIP_SECONDS)
        if not done and self.in_flight.count == 0:
            await self.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
            self.stray_locks += 1
        await sleeping

    async def _run_due(self, now: datetime, settle_between: bool = False) -> None:
        while self._queue and self._queue[0].at <= now:
            due = heapq.heappop(self._queue)
            await due.run()
            if settle_between:
                await self._settle()
                self._react()

    async def _deadlines(self, now: datetime) -> list[datetime]:
        upcoming = []
        for status in self._statuses.values():
            upcoming += [deadline.due_at for deadline in status.upcoming if deadline.due_at > now]
        return upcoming[:1] if not upcoming else [min(upcoming)]

    def _react(self) -> None:
        """A page reaching a responder who answers schedules their acknowledgement."""
        fresh = self.recorder.notifications[self._seen_notifications :]
        self._seen_notifications = len(self.recorder.notifications)
        for notification in fresh:
            if notification.kind not in PAGING:
                continue
            for person in notification.recipients:
                responder = self.scenario.responders.get(person)
                key = (notification.incident_id, person)
                if responder is None or responder.acknowledges_after is None or key in self._reacted:
                    continue
                self._reacted.add(key)
                payload = {"by": person, **({"note": responder.note} if responder.note else {})}
                when = notification.at - self.started_at + responder.acknowledges_after
                self._at(when, f"{person}: acknowledge", self._ack(notification.incident_id, payload))

    def _decisions_due(self, incident_id: str, status: IncidentStatus) -> None:
        """An action asking for approval schedules the answers of the responders who decide it."""
        for action in status.actions:
            if action.state is not ActionState.AWAITING_APPROVAL:
                continue
            for person, responder in self.scenario.responders.items():
                for decision in responder.decides:
                    key = (incident_id, f"{action.id}/{person}")
                    if decision.action != action.name or key in self._reacted:
                        continue
                    self._reacted.add(key)
                    command = f"{decision.decision}_action"
                    payload = {"by": person, "action": action.name}
                    payload |= {"reason": decision.reason} if decision.reason else {}
                    when = action.requested_at - self.started_at + decision.after
                    runner = self._command_runner(command, payload, None, incident_id)
                    self._at(when, f"{person}: {command}", runner)

    def _ack(self, incident_id: str, payload: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            await self._signal(incident_id, "acknowledge", payload)

        return send

    async def _settle(self) -> None:
        """Wait until the worker is quiet: no activity running, nothing due left undone, nothing changing.

        A deadline a workflow still shows as due is waited for while things move; one that stays shown, with
        nothing running and nothing changing for DUE_GRACE_SECONDS, is a stale display (the review workflow
        lists the incident's status cadence after resolution without performing it) and no longer holds the
        drill."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_LIMIT_SECONDS
        quiet, last, changed_at = 0, None, loop.time()
        while quiet < QUIET_POLLS:
            if loop.time() > deadline:
                raise DrillStalled(
                    f"the worker did not settle within {SETTLE_LIMIT_SECONDS:g} s of real time (a stuck workflow task?)"
                )
            await asyncio.sleep(POLL_SECONDS)
            now = await self.env.get_current_time()
            seen, due = await self._observe(now)
            snapshot = (self.in_flight.count, len(self.recorder.notifications), seen)
            if snapshot != last:
                changed_at = loop.time()
            if due and self.in_flight.count == 0 and loop.time() - changed_at >= DUE_GRACE_SECONDS:
                # Shown, never performed: a review's display of the resolved incident's cadence is not waited
                # for again; an incident that does not perform its own due duty has stalled (retried).
                if any(workflow_id in self._opened for workflow_id, _, _ in due):
                    raise DrillStalled(f"a due duty was not performed: {sorted(due)[0][1]}")
                self._stale |= due
                due = set()
            busy = self.in_flight.count > 0 or bool(due)
            quiet = quiet + 1 if not busy and snapshot == last else 0
            last = snapshot

    async def _observe(self, now: datetime) -> tuple[tuple[Any, ...], set[tuple[str, str, datetime]]]:
        """Every open incident's (and review's) status, and the deadlines they show as already due."""
        seen: list[Any] = []
        due: set[tuple[str, str, datetime]] = set()
        for incident_id in self._opened:
            for workflow_id in filter(None, (incident_id, self._aftercare_of(incident_id))):
                handle = self.client.get_workflow_handle(workflow_id)
                if workflow_id in self._results or not await self._running(handle):
                    await self._finish(incident_id, workflow_id, handle)
                    continue
                status: IncidentStatus = await handle.query("status", result_type=IncidentStatus)
                self._remember(incident_id, status)
                self._decisions_due(incident_id, status)
                due |= {
                    key
                    for deadline in status.upcoming
                    if deadline.due_at <= now
                    and (key := (workflow_id, deadline.description, deadline.due_at)) not in self._stale
                }
                seen.append((workflow_id, status.timeline_total, status.phase))
        return tuple(seen), due

    async def _finish(self, incident_id: str, workflow_id: str, handle: WorkflowHandle[Any, Any]) -> None:
        if workflow_id != incident_id or incident_id in self._results:
            return
        try:
            self._results[incident_id] = IncidentResult.model_validate(await handle.result())
            self._remember(incident_id, await handle.query("status", result_type=IncidentStatus))
        except Exception:  # a run that failed: what the timeline holds is what the report shows
            return

    def _remember(self, incident_id: str, status: IncidentStatus) -> None:
        if status.aftercare_workflow_id is None and incident_id in self._statuses:
            status = status.model_copy(
                update={"aftercare_workflow_id": self._statuses[incident_id].aftercare_workflow_id}
            )
        self._statuses[incident_id] = status
        events = self._timelines.setdefault(incident_id, {})
        for event in status.timeline:
            events[event_key(event)] = event

    def _aftercare_of(self, incident_id: str) -> str | None:
        status = self._statuses.get(incident_id)
        return status.aftercare_workflow_id if status else None

    async def _running(self, handle: WorkflowHandle[Any, Any]) -> bool:
        try:
            description = await handle.describe()
        except RPCError:
            return False
        return description.status is WorkflowExecutionStatus.RUNNING

    async def _anything_open(self) -> bool:
        for incident_id in self._opened:
            for workflow_id in filter(None, (incident_id, self._aftercare_of(incident_id))):
                if await self._running(self.client.get_workflow_handle(workflow_id)):
                    return True
        return False

    # ------------------------------------------------------------------ the record

    async def _record(self, incident_id: str, data_dir: Path) -> IncidentRecord:
        """The incident's whole timeline: its own final status (a closed workflow still answers while the
        worker runs), every status seen on the way (the review's included), and the archive."""
        handle = self.client.get_workflow_handle(incident_id)
        final: IncidentStatus = await handle.query("status", result_type=IncidentStatus)
        self._remember(incident_id, final)
        if incident_id not in self._results and not await self._running(handle):
            with suppress(Exception):  # a run that failed: its timeline is what the report shows
                self._results[incident_id] = IncidentResult.model_validate(await handle.result())
        status = self._statuses[incident_id]
        events = dict(self._timelines.get(incident_id, {}))
        for occurrence in {final.occurrence, status.occurrence} - {None}:
            assert occurrence is not None
            for event in TimelineArchive(data_dir / "timeline").read(occurrence):
                events.setdefault(event_key(event), event)
        ordered = sorted(events.values(), key=lambda event: (event.at, event.seq or 0))
        return IncidentRecord(
            incident_id=incident_id, status=status, events=ordered, result=self._results.get(incident_id),
            review=await self._review_of(incident_id),
        )  # fmt: skip

    async def _review_of(self, incident_id: str) -> ReviewView | None:
        """The post-mortem review that followed resolution (incidents of older builds have an aftercare)."""
        review_id = self._aftercare_of(incident_id)
        if review_id is None or not review_id.startswith("review-"):
            return None
        try:
            review: ReviewView = await self.client.get_workflow_handle(review_id).query(
                "review", result_type=ReviewView
            )
        except (RPCError, WorkflowQueryFailedError):
            return None
        return review


# The Java time-skipping server now and then stops moving ("invalid history builder state", see
# tests/conftest.py); a drill is deterministic, so a fresh server simply runs it again.
ATTEMPTS = 3


class DrillStalled(DrillError):
    """The time-skipping server stopped moving time."""


def missing_commands(scenario: Scenario) -> list[str]:
    """Commands the scenario sends that this build's IncidentWorkflow does not take (approvals before
    issue 9 lands): refused before anything starts instead of being rejected one by one in the timeline."""
    definition = workflow._Definition.must_from_class(IncidentWorkflow)
    needed = commands_used(scenario) - REVIEW_COMMANDS
    return sorted(name for name in needed if name not in definition.signals)


async def run_drill(scenario: Scenario, policy_file: Path) -> DrillRun:
    if missing := missing_commands(scenario):
        raise DrillError(
            f"the scenario sends {', '.join(missing)}, which this build's IncidentWorkflow does not take "
            "(containment approvals, issue 9)"
        )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await Drill(scenario, policy_file).run()
        except (DrillStalled, RPCError) as error:
            # A stalled server also shows as a timed-out call: an RPC "Timeout" or a query's deadline.
            timed_out = any(sign in str(error) for sign in ("Timeout", "deadline exceeded"))
            if (isinstance(error, RPCError) and not timed_out) or attempt == ATTEMPTS:
                raise DrillError(f"the time-skipping server stalled {attempt} time(s): {error}") from None
    raise AssertionError("unreachable")
