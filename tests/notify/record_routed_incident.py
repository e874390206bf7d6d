"""Record a history of an incident whose notifications are routed, retried and fall back, for replay tests.

`python -m tests.notify.record_routed_incident` writes incident_routed_notifications.json into
tests/replay/histories/ (against a dev server and a local HTTP receiver it starts itself): the slack channel
refuses (400) so each message falls back to the webhook, which answers 500 once first; the resolution also
goes to a broadcast, and the post-mortem-ready notification follows.
tests/replay replays every stored history, so a change to delivery that is not behind `workflow.patched`
fails there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

from pytest_httpserver import HTTPServer
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import status_when, write_policy
from tests.notify.conftest import notifiers_for
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.worker import build_worker
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import IncidentInput
from workflows.messages.common import Severity, incident_workflow_id
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

HISTORY = Path(__file__).parents[1] / "replay" / "histories" / "incident_routed_notifications.json"


async def run_routed_incident(client: Client, data_dir: Path, receiver: HTTPServer) -> WorkflowHistory:
    policy = write_policy(data_dir / "policy.yaml", {
        "name": "replay-routed",
        "escalation": {"levels": [{"name": "on-call", "targets": ["alice"]}], "final_level_repeats": 0,
                       "open_escalations": [], "cross_team_level": None},
        "roster": {"people": {"alice": {"channels": ["chat", "hook"]}}},
        "routing": {"retry_initial_seconds": 0.05,
                    "broadcasts": [{"kinds": ["resolution"], "channels": ["hook"]}]},
    })  # fmt: skip
    receiver.expect_request("/slack").respond_with_data("invalid_payload", status=400)
    receiver.expect_oneshot_request("/hook").respond_with_data("boom", status=500)
    receiver.expect_request("/hook").respond_with_data("ok")
    notifiers = notifiers_for({
        "chat": {"type": "slack", "webhook_url": receiver.url_for("/slack")},
        "hook": {"type": "webhook", "url": receiver.url_for("/hook")},
    })  # fmt: skip
    settings = Settings(
        task_queue=f"replay-{uuid4()}", data_dir=data_dir, policy_file=policy, metrics_address=""
    )
    key = f"replay-routed-{uuid4()}"
    async with build_worker(client, settings, notifiers):
        handle = await client.start_workflow(
            IncidentWorkflow.run,
            IncidentInput(incident_key=key, service="checkout", summary="checkout down", declared_by="alice",
                          severity=Severity.SEV1),
            id=incident_workflow_id(key),
            task_queue=settings.task_queue,
        )  # fmt: skip
        await status_when(handle, lambda status: bool(status.deliveries))
        await handle.signal(IncidentWorkflow.resolve, {"by": "alice", "force": True})
        await handle.result()
        return await handle.fetch_history()


async def _record() -> Path:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        ui=False,
    )
    receiver = HTTPServer(host="127.0.0.1", port=0)
    receiver.start()
    try:
        data_dir = Path(".warroom") / "replay-capture"
        data_dir.mkdir(parents=True, exist_ok=True)
        history = await run_routed_incident(env.client, data_dir, receiver)
    finally:
        receiver.stop()
        await env.shutdown()
    HISTORY.write_text(history.to_json(), encoding="utf-8")
    return HISTORY


if __name__ == "__main__":
    print(f"recorded {asyncio.run(_record())}")
