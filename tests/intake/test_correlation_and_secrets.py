"""Correlation across sources (race-free under concurrent posts, recorded in the timeline) and secrets that
never reach workflow history, logs or error bodies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from intake.app import create_app
from intake.formats.alertmanager import group_dedup_key
from intake.handoff import Handoff
from intake.server import serving
from tests.conftest import events
from tests.intake.conftest import (
    GRAFANA_SECRET,
    ROUTING_KEY,
    SECRETS,
    TOKEN,
    Intake,
    SnsSigner,
    history_text,
    intake_config,
    payload_json,
    signalled_alerts,
    unique_group,
)
from workflows.messages.alerts import Alert
from workflows.messages.common import Phase
from workflows.messages.correlation import CORRELATION_WORKFLOW, CorrelationInput, correlation_workflow_id
from workflows.messages.status import EventKind

WINDOW = timedelta(minutes=5)


def generic(service: str, key: str, source: str = "generic", status: str = "firing") -> dict[str, Any]:
    return {"dedup_key": key, "service": service, "summary": f"{source} sees {service} failing",
            "source": source, "status": status}  # fmt: skip


async def test_alerts_from_other_sources_about_the_service_join_its_incident(
    make_intake: Callable[..., Any],
) -> None:
    service = f"checkout-{uuid4().hex[:8]}"
    async with make_intake(correlation_window=WINDOW) as intake:
        group = unique_group(payload_json("alertmanager_firing.json"))
        for alert in group["alerts"]:
            alert["labels"]["service"] = service
        anchor = group_dedup_key("am", group["groupKey"])
        assert (await intake.post("/v1/alerts/alertmanager", group)).status_code == 202

        probe_key = f"probe-{uuid4()}"
        answer = await intake.post("/v1/alerts/generic", generic(service, probe_key, source="blackbox"))
        assert answer.json()["incidents"] == [{"incident_id": f"incident-{anchor}", "alerts": 1}]
        status = await intake.status_when(anchor, lambda s: s.alert_count == 4)
        joined = events(status, EventKind.CORRELATED)
        assert len(joined) == 1 and joined[0].actor == "blackbox"
        assert probe_key in joined[0].summary and service in joined[0].summary
        assert not await intake.exists(probe_key)

        # The joined alert's resolve finds the incident it joined (the router remembers the route).
        resolve = generic(service, probe_key, source="blackbox", status="resolved")
        assert (await intake.post("/v1/alerts/generic", resolve)).json()["not_open"] == []
        await intake.status_when(anchor, lambda s: s.alert_count == 5)

        # A resolve for a service without a router starts nothing, not even a router.
        quiet = f"quiet-{uuid4().hex[:8]}"
        lone = f"lone-{uuid4()}"
        answer = await intake.post("/v1/alerts/generic", generic(quiet, lone, status="resolved"))
        assert answer.status_code == 202 and answer.json()["not_open"] == [f"incident-{lone}"]
        assert not await intake.exists(lone)
        with pytest.raises(RPCError):
            await intake.client.get_workflow_handle(correlation_workflow_id(quiet)).describe()

        other = f"other-{uuid4().hex[:8]}"  # another service opens its own incident
        other_key = f"other-{uuid4()}"
        await intake.post("/v1/alerts/generic", generic(other, other_key))
        await intake.status_when(other_key, lambda s: s.alert_count == 1)
        for key in (anchor, other_key):
            await intake.handle(key).signal("resolve", {"by": "tester"})
            await intake.handle(key).result()
        for name in (service, other):
            await intake.client.get_workflow_handle(correlation_workflow_id(name)).terminate("test over")


async def test_concurrent_first_alerts_of_one_service_open_exactly_one_incident(
    make_intake: Callable[..., Any],
) -> None:
    service = f"search-{uuid4().hex[:8]}"
    keys = [f"storm-{i}-{uuid4()}" for i in range(12)]
    async with make_intake(correlation_window=WINDOW) as intake:
        answers = await asyncio.gather(
            *(
                intake.post("/v1/alerts/generic", generic(service, key, source=f"s{i}"))
                for i, key in enumerate(keys)
            )
        )
        assert {answer.status_code for answer in answers} == {202}
        targets = {answer.json()["incidents"][0]["incident_id"] for answer in answers}
        assert len(targets) == 1
        opened = [key for key in keys if await intake.exists(key)]
        assert len(opened) == 1 and targets == {f"incident-{opened[0]}"}
        status = await intake.status_when(opened[0], lambda s: s.alert_count == 12)
        assert len(events(status, EventKind.CORRELATED)) == 11
        await intake.handle(opened[0]).signal("resolve", {"by": "tester"})
        await intake.client.get_workflow_handle(correlation_workflow_id(service)).terminate("test over")


async def test_secrets_never_reach_history_logs_or_error_bodies(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    group = unique_group(payload_json("alertmanager_firing.json"))
    key = group_dedup_key("am", group["groupKey"])
    answer = await intake.http.post(
        f"{intake.url}/v1/alerts/alertmanager", json=group, auth=httpx.BasicAuth("am", TOKEN)
    )
    bodies.append(answer.text)
    grafana = unique_group(payload_json("grafana_firing.json"))
    raw = json.dumps(grafana).encode()
    signature = hmac.new(GRAFANA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    bodies.append(
        (await intake.post("/v1/alerts/grafana", raw, {"X-Grafana-Alerting-Signature": signature})).text
    )
    event = payload_json("pagerduty_v2_trigger.json") | {"dedup_key": f"pd-{uuid4()}"}
    bodies.append((await intake.post("/v2/enqueue", event, token=None)).text)
    # Refusals carrying near-miss secrets: the answer must not echo them.
    bodies.append((await intake.post("/v1/alerts/alertmanager", group, token=TOKEN + "x")).text)
    bodies.append(
        (await intake.post("/v2/enqueue", event | {"routing_key": ROUTING_KEY + "x"}, token=None)).text
    )

    await intake.status_when(key, lambda s: s.phase is Phase.RESPONSE)
    await intake.status_when(event["dedup_key"], lambda s: s.phase is Phase.RESPONSE)
    grafana_key = group_dedup_key("grafana", grafana["groupKey"])
    stored = [await history_text(intake.handle(k)) for k in (key, grafana_key, event["dedup_key"])]
    assert "payments-api health check failing" in stored[2]  # the scan reads decoded payloads
    for secret in SECRETS:
        for text in [*stored, caplog.text, *bodies]:
            assert secret not in text
    for k in (key, grafana_key, event["dedup_key"]):
        await intake.handle(k).signal("resolve", {"by": "tester"})


async def test_the_router_keeps_its_routes_across_continue_as_new(make_intake: Callable[..., Any]) -> None:
    # The session dev server suggests continue-as-new at 40 events: 30 routes take the router past it.
    service = f"ledger-{uuid4().hex[:8]}"
    keys = [f"can-{i}-{uuid4()}" for i in range(30)]
    async with make_intake(correlation_window=WINDOW) as intake:
        for index, key in enumerate(keys):
            answer = await intake.post("/v1/alerts/generic", generic(service, key, source=f"s{index % 3}"))
            assert answer.json()["incidents"] == [{"incident_id": f"incident-{keys[0]}", "alerts": 1}]
        router = intake.client.get_workflow_handle(correlation_workflow_id(service))
        started = (await router.fetch_history()).events[0].workflow_execution_started_event_attributes
        assert started.continued_execution_run_id, "the router should have continued-as-new"
        # A resolve for an early key, after continue-as-new, still finds the incident it joined.
        resolve = generic(service, keys[1], status="resolved")
        assert (await intake.post("/v1/alerts/generic", resolve)).json()["not_open"] == []
        status = await intake.status_when(keys[0], lambda s: s.alert_count == 31)
        assert len(events(status, EventKind.CORRELATED)) == 29
        await intake.handle(keys[0]).signal("resolve", {"by": "tester"})
        await router.terminate("test over")


async def post_to_an_unanswered_router(
    dev_env: WorkflowEnvironment, sns_signer: SnsSigner, queue: str, service: str, key: str
) -> tuple[WorkflowHandle[Any, Any], Alert]:
    """One firing alert through an intake on `queue` whose router cannot answer (1 s wait): the alert the
    incident received."""
    handoff = Handoff(dev_env.client, queue, WINDOW, router_timeout=timedelta(seconds=1))
    app = create_app(intake_config(correlation_window=WINDOW), handoff, sns_signer.verifier())
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{url}/v1/alerts/generic",
            json=generic(service, key),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert answer.status_code == 202, answer.text
    handle = dev_env.client.get_workflow_handle(f"incident-{key}")
    [alert] = await signalled_alerts(handle)
    return handle, alert


async def test_without_a_worker_correlation_is_skipped_but_the_alert_is_still_handed_over(
    dev_env: WorkflowEnvironment, sns_signer: SnsSigner
) -> None:
    # No worker polls this queue, so the router cannot answer: the alert must not wait for correlation.
    service, key = f"lonely-{uuid4().hex[:8]}", f"lonely-{uuid4()}"
    handle, alert = await post_to_an_unanswered_router(
        dev_env, sns_signer, f"no-worker-{uuid4()}", service, key
    )
    assert alert.correlation and alert.correlation.startswith("correlation skipped")
    await handle.terminate("test over")
    await dev_env.client.get_workflow_handle(correlation_workflow_id(service)).terminate("test over")


async def test_a_router_stranded_on_an_old_task_queue_is_named_in_the_timeline_and_the_log(
    dev_env: WorkflowEnvironment, sns_signer: SnsSigner, caplog: pytest.LogCaptureFixture
) -> None:
    # After a drain to a new task queue, the service's router still runs on the old one, where no worker polls.
    service, key = f"drained-{uuid4().hex[:8]}", f"drained-{uuid4()}"
    old_queue, new_queue = f"old-{uuid4()}", f"new-{uuid4()}"
    await dev_env.client.start_workflow(
        CORRELATION_WORKFLOW, CorrelationInput(service=service, window_seconds=WINDOW.total_seconds()),
        id=correlation_workflow_id(service), task_queue=old_queue,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="warroom.intake"):
        handle, alert = await post_to_an_unanswered_router(dev_env, sns_signer, new_queue, service, key)
    assert (
        alert.correlation
        and f"task queue '{old_queue}'" in alert.correlation
        and "drain" in alert.correlation
    )
    assert any(old_queue in record.getMessage() for record in caplog.records)
    await handle.terminate("test over")
    await dev_env.client.get_workflow_handle(correlation_workflow_id(service)).terminate("test over")


async def test_beyond_the_in_flight_limit_the_intake_answers_503_at_once(
    dev_env: WorkflowEnvironment, sns_signer: SnsSigner
) -> None:
    # Temporal slow rather than down: no worker answers the router, so a hand-off waits (router_timeout).
    queue = f"no-worker-{uuid4()}"
    handoff = Handoff(dev_env.client, queue, WINDOW, router_timeout=timedelta(seconds=3))
    app = create_app(
        intake_config(correlation_window=WINDOW, max_in_flight=1), handoff, sns_signer.verifier()
    )
    service, first_key, second_key = f"slow-{uuid4().hex[:8]}", f"slow-{uuid4()}", f"slow-{uuid4()}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(timeout=30) as http:
        first = asyncio.create_task(
            http.post(f"{url}/v1/alerts/generic", json=generic(service, first_key), headers=headers)
        )
        async with asyncio.timeout(10):
            while (await http.get(f"{url}/healthz")).json()["in_flight"] < 1:  # noqa: ASYNC110 - its gauge
                await asyncio.sleep(0.02)
        second = await http.post(
            f"{url}/v1/alerts/generic", json=generic(service, second_key), headers=headers
        )
        assert second.status_code == 503 and second.headers["Retry-After"]
        assert "already waiting" in second.json()["error"]
        assert (await first).status_code == 202
    assert not await _exists(dev_env, second_key)
    await dev_env.client.get_workflow_handle(f"incident-{first_key}").terminate("test over")
    await dev_env.client.get_workflow_handle(correlation_workflow_id(service)).terminate("test over")


async def _exists(env: WorkflowEnvironment, key: str) -> bool:
    try:
        await env.client.get_workflow_handle(f"incident-{key}").describe()
    except RPCError:
        return False
    return True
