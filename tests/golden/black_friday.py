"""The guide's Black-Friday cascade as a real run, rendered to its post-mortem (the golden file's source).

The inventory database goes down at 09:00 UTC on Black Friday 2030; checkout, shipping and customer
notifications fail behind it and their alerts are correlated into the one incident, which becomes SEV-1;
warroom proposes the fail-over, the incident commander approves it, promotions are paused by two people (the
requester and an executive).
The run is real: the time-skipping server with its clock set to that morning, the worker with every real
activity, and the containment actions run by the real `http_runbook` adapter against a real HTTP automation
endpoint that checks their signatures.

Regenerate the golden file after an intended change of the document (then review the diff):

    python -m tests.golden.black_friday
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from uuid import uuid4

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import build_activities
from activities.contain_registry import parse_adapters
from adapters.notify.console import ConsoleNotifier
from config.secrets import SecretSource
from config.settings import Settings
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.worker import WORKFLOWS
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.alerts import Alert, Impact, IncidentInput
from workflows.messages.common import Severity, incident_workflow_id
from workflows.messages.status import IncidentResult
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

HERE = Path(__file__).parent
GOLDEN = HERE / "black_friday_postmortem.md"
POLICY = HERE / "black_friday_policy.yaml"
OPENED = datetime(2030, 11, 29, 9, 0, tzinfo=UTC)
KEY = "black-friday-inventory-db"
_TIMESTAMPED_ROW = re.compile(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \|")
_OCCURRENCE_MILLIS = re.compile(r"(\d{8}T\d{6})\.\d{3}Z")


RUNBOOK_SECRET = "golden-runbook-hmac-key"
# What the automation system answers per operation: the job ran and what it changed.
JOB_RESULTS = {
    "failover": "inventory-db now served by the replica in us-east-1b",
    "disable_feature": "feature flag 'promotions' off",
    "enable_feature": "feature flag 'promotions' on",
}


class AutomationEndpoint:
    """A real HTTP automation endpoint (what Rundeck or a CI job would be) for the `http_runbook` adapter: it
    checks the HMAC signature, runs each idempotency key once and answers that the job succeeded."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = self.headers["X-Warroom-Timestamp"].encode() + b"." + body
                expected = "sha256=" + hmac.new(RUNBOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-Warroom-Signature"]):
                    self.send_response(401)
                    self.end_headers()
                    return
                operation = self.path.rsplit("/", 1)[-1]
                key = self.headers["Idempotency-Key"]
                job = endpoint.jobs.setdefault(key, f"{operation}-{len(endpoint.jobs) + 1}")
                answer = {"id": job, "status": "succeeded", "detail": JOB_RESULTS.get(operation, "done")}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AutomationEndpoint:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def alert(source: str, service: str, summary: str, started: float, **extra: object) -> Alert:
    return Alert.model_validate({
        "source": source, "dedup_key": KEY, "event_id": f"{source}-{service}", "service": service,
        "summary": summary, "starts_at": at(started), "severity_hint": "critical", **extra,
    })  # fmt: skip


ALERTS = [
    (0, alert("alertmanager", "inventory-db", "inventory-db primary unreachable: connection refused", -2,
              impact=Impact(function="core", error_rate=1.0))),
    (1, alert("grafana", "checkout", "checkout 5xx above 40%: stock reservation times out", 0.5,
              impact=Impact(user_scope="all", users_affected=2_400_000, revenue_per_hour=1_800_000,
                            regions=["eu-west-1", "us-east-1", "us-west-2"], function="core", error_rate=0.42),
              correlation="checkout depends on inventory-db: joined the open inventory-db incident")),
    (2, alert("datadog", "shipping", "shipping label queue backlog above 10k", 1,
              impact=Impact(function="secondary"),
              correlation="shipping reads stock from inventory-db: joined the open inventory-db incident")),
    (3, alert("cloudwatch", "customer-notifications", "order confirmation e-mails failing (5xx from orders API)", 2,
              impact=Impact(function="secondary"),
              correlation="notifications wait on order state from inventory-db: joined the open incident")),
]  # fmt: skip

# (minute, signal, payload): the humans' part, as they would send it from the CLI or the Web UI.
COMMANDS = [
    (6, "acknowledge", {"by": "ana", "note": "on the bridge; inventory-db primary refuses connections"}),
    (9, "add_note", {"by": "ben", "text": "primary volume is full after the overnight bulk import; replica is healthy"}),
    (12, "post_update", {"by": "lou", "audience": "customer",
                         "text": "Some customers cannot complete checkout. We are working on it."}),
    (8, "approve_action", {"by": "kim", "action_id": "a1", "reason": "replica is healthy and caught up"}),
    (14, "escalate", {"by": "kim", "level": 3,
                      "reason": "Black-Friday revenue at risk: executives decide on pausing promotions"}),
    (15, "propose_action", {"by": "kim", "action": "pause_promotions",
                            "reason": "promotions drive the load on the recovering database"}),
    (17, "approve_action", {"by": "fay", "action_id": "a2", "reason": "pause them for an hour at most"}),
    (24, "mitigate", {"by": "ben", "note": "failed over to the replica; checkout error rate back under 1%"}),
    (31, "post_update", {"by": "lou", "audience": "customer",
                         "text": "Checkout works again. Some confirmation e-mails are delayed."}),
    (40, "resolve", {"by": "kim", "note": "orders, labels and e-mails flowing; backlog drained"}),
]  # fmt: skip


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    """Absolute steps, not relative sleeps: the real milliseconds each step takes never add up. (The server's
    own sleep-until does not lock time again when it returns; this one does, atomically, like env.sleep.)"""
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


async def render(data_dir: Path) -> str:
    """Run the cascade and return the post-mortem the incident wrote."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"), data_converter=data_converter
    )
    try:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: key.indexed_value_type for key in ALL_SEARCH_ATTRIBUTES},
        ))  # fmt: skip
        settings = Settings(
            task_queue=f"golden-{uuid4()}", data_dir=data_dir, metrics_address="", policy_file=POLICY
        )
        with AutomationEndpoint() as automation:
            adapters = parse_adapters(
                {"adapters": {name: {"type": "http_runbook", "url": f"{automation.url}/hooks/{{operation}}",
                                     "secret": "${GOLDEN_RUNBOOK_SECRET}"} for name in ("inventory", "storefront")}},
                SecretSource(environ={"GOLDEN_RUNBOOK_SECRET": RUNBOOK_SECRET}), data_dir,
            )  # fmt: skip
            activities = build_activities(settings, {"console": ConsoleNotifier(StringIO())}, adapters)
            async with Worker(
                env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
            ):
                result = await _run(env, settings)
    finally:
        await env.shutdown()
    return Path(result.postmortem_path or "").read_text(encoding="utf-8")


async def _warm_up(env: WorkflowEnvironment, settings: Settings) -> None:
    """One throwaway incident first, so the cascade's first second is not spent loading code: every system
    reaction must land within the second of the step that caused it, as the timestamps print to the second."""
    inp = IncidentInput(incident_key="warm-up", service="warm-up", summary="warm-up", declared_by="golden",
                        severity=Severity.SEV4)  # fmt: skip
    handle = await env.client.start_workflow(
        IncidentWorkflow.run, inp, id=incident_workflow_id(inp.incident_key), task_queue=settings.task_queue
    )
    await handle.signal("resolve", {"by": "golden", "force": True})
    await handle.result()


async def _run(env: WorkflowEnvironment, settings: Settings) -> IncidentResult:
    await _warm_up(env, settings)
    await sleep_until(env, OPENED)
    handle: WorkflowHandle[IncidentWorkflow, IncidentResult] | None = None
    steps = [(minute, "add_alert", a) for minute, a in ALERTS] + [(m, s, p) for m, s, p in COMMANDS]
    for minute, signal, payload in sorted(steps, key=lambda step: step[0]):
        await sleep_until(env, at(minute))
        if handle is None:
            handle = await env.client.start_workflow(
                IncidentWorkflow.run, IncidentInput(incident_key=KEY), id=incident_workflow_id(KEY),
                task_queue=settings.task_queue, start_signal="add_alert", start_signal_args=[payload],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )  # fmt: skip
        else:
            await handle.signal(signal, payload)
        await handle.query(IncidentWorkflow.status)  # the signal is in before the clock moves on
    assert handle is not None
    return await handle.result()


def comparable(markdown: str) -> str:
    """What the golden comparison reads. Two things of a real run are not the document's to fix: the
    occurrence id's milliseconds (when the server handed the first workflow task out), and the order of rows
    recorded in the same second by duties that run side by side (a page and a notice finish in either order).
    So the milliseconds are zeroed and rows sharing a timestamp are sorted; everything else is compared as is."""
    lines = _OCCURRENCE_MILLIS.sub(r"\1.000Z", markdown).splitlines()
    result: list[str] = []
    group: list[str] = []
    stamp = None
    for line in [*lines, ""]:
        match = _TIMESTAMPED_ROW.match(line)
        if match and match.group(1) == stamp:
            group.append(line)
            continue
        result += sorted(group)
        group, stamp = ([line], match.group(1)) if match else ([], None)
        if not match:
            result.append(line)
    return "\n".join(result[:-1]) + "\n"


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as data_dir:
        markdown = asyncio.run(render(Path(data_dir)))
    GOLDEN.write_text(_OCCURRENCE_MILLIS.sub(r"\1.000Z", markdown), encoding="utf-8")
    print(f"wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
