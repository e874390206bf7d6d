"""A correlation router that does not answer in time must never cost a resolve (issue 8, defect 8), and a
storm of distinct keys for one service still lands in one incident with nothing lost (defect 11).

The router is made slow the way production makes it slow: no worker takes its workflow tasks for a while (a
saturated or restarting worker), so the intake's update waits out its timeout. Each phase uses a fresh
intake (a restarted process or another replica): its route cache is empty, so only the router knows routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from intake.app import create_app
from intake.handoff import Handoff
from intake.server import serving
from tests.conftest import running_worker
from tests.intake.conftest import Intake, SnsSigner, intake_config
from workflows.messages.common import Phase
from workflows.messages.correlation import correlation_workflow_id

WINDOW = timedelta(minutes=5)


def generic(service: str, key: str, status: str = "firing", source: str = "generic") -> dict[str, Any]:
    return {"dedup_key": key, "service": service, "summary": f"{key} failing", "status": status,
            "source": source}  # fmt: skip


@asynccontextmanager
async def fresh_intake(
    env: WorkflowEnvironment, settings: Settings, signer: SnsSigner, router_timeout: float = 5
) -> AsyncIterator[Intake]:
    """A newly started intake process: empty route cache, the given wait for the router."""
    handoff = Handoff(env.client, settings.task_queue, WINDOW, timedelta(seconds=router_timeout))
    app = create_app(intake_config(correlation_window=WINDOW), handoff, signer.verifier())
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(timeout=30) as http:
        yield Intake(url, http, env.client, settings)


async def test_a_resolve_reaches_the_incident_its_alert_joined_even_when_the_router_is_slow(
    dev_env: WorkflowEnvironment, settings: Settings, sns_signer: SnsSigner
) -> None:
    service = f"payments-{uuid4().hex[:8]}"
    anchor, joined, lonely = (f"{name}-{uuid4()}" for name in ("anchor", "joined", "lonely"))
    async with (
        running_worker(dev_env.client, settings),
        fresh_intake(dev_env, settings, sns_signer) as intake,
    ):
        assert (await intake.post("/v1/alerts/generic", generic(service, anchor))).status_code == 202
        answer = await intake.post("/v1/alerts/generic", generic(service, joined))
        assert answer.json()["incidents"] == [{"incident_id": f"incident-{anchor}", "alerts": 1}]

    # No worker now: the router cannot answer within the intake's 1 s.
    async with fresh_intake(dev_env, settings, sns_signer, router_timeout=1) as slow:
        refused = await slow.post("/v1/alerts/generic", generic(service, joined, status="resolved"))
        # Before the fix: 202 with not_open ["incident-<joined>"], and the joined incident never resolved.
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] and joined in refused.json()["error"]
        # A firing alert must not wait: it opens its own incident, and the router is told so.
        alone = await slow.post("/v1/alerts/generic", generic(service, lonely))
        assert alone.json()["incidents"] == [{"incident_id": f"incident-{lonely}", "alerts": 1}]

    async with (
        running_worker(dev_env.client, settings),
        fresh_intake(dev_env, settings, sns_signer) as intake,
    ):
        # The sender retries the resolve: it reaches the incident its firing alert joined.
        retried = await intake.post("/v1/alerts/generic", generic(service, joined, status="resolved"))
        assert retried.json()["incidents"] == [{"incident_id": f"incident-{anchor}", "alerts": 1}]
        # The router holds the route the lonely alert really took, whatever it did with the late update.
        resolved = await intake.post("/v1/alerts/generic", generic(service, lonely, status="resolved"))
        assert resolved.json()["incidents"] == [{"incident_id": f"incident-{lonely}", "alerts": 1}]
        await intake.post("/v1/alerts/generic", generic(service, anchor, status="resolved"))
        for key in (anchor, lonely):
            await intake.handle(key).result()
            status = await intake.status(key)
            assert status.phase is Phase.CLOSED and status.resolved_by == "generic (all alerts resolved)"
        await dev_env.client.get_workflow_handle(correlation_workflow_id(service)).terminate("test over")


async def test_a_storm_of_distinct_keys_for_one_service_joins_one_incident_and_loses_nothing(
    dev_env: WorkflowEnvironment, settings: Settings, sns_signer: SnsSigner
) -> None:
    # 150 keys from 30 concurrent senders: the intake batches them into few router updates, and the router
    # continues as new on the way (the session server suggests it at 40 events).
    service = f"search-{uuid4().hex[:8]}"
    keys = [f"storm-{i}-{uuid4()}" for i in range(150)]
    senders = asyncio.Semaphore(30)

    async def post(intake: Intake, key: str, status: str = "firing") -> str:
        async with senders:
            answer = await intake.post("/v1/alerts/generic", generic(service, key, status))
        assert answer.status_code == 202, answer.text
        [target] = answer.json()["incidents"]
        return str(target["incident_id"])

    async with running_worker(dev_env.client, settings):
        async with fresh_intake(dev_env, settings, sns_signer) as intake:
            targets = set(await asyncio.gather(*(post(intake, key) for key in keys)))
            assert len(targets) == 1
            [incident_id] = targets
            anchor = incident_id.removeprefix("incident-")
            status = await intake.status_when(anchor, lambda s: s.alert_count == len(keys), seconds=60)
            assert (
                status.event_counts.get("correlated") == len(keys) - 1
            )  # the timeline shows only recent events
        router = dev_env.client.get_workflow_handle(correlation_workflow_id(service))
        first = (await router.fetch_history()).events[0].workflow_execution_started_event_attributes
        assert first.continued_execution_run_id, "the router should have continued-as-new on the way"

        # Every key's resolve, through another intake (only the router knows the routes), finds the incident.
        async with fresh_intake(dev_env, settings, sns_signer) as other:
            resolved = set(await asyncio.gather(*(post(other, key, "resolved") for key in keys)))
            assert resolved == {incident_id}
            await other.handle(anchor).result()
            status = await other.status(anchor)
            assert status.alert_count == 2 * len(keys) and status.phase is Phase.CLOSED
        await router.terminate("test over")
