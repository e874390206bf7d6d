"""Fuzzing the HTTP API: bodies generated from its own OpenAPI document (schemathesis) and hypothesis
mutations of the real senders' payloads. Zero 5xx, and zero workflows from rejected requests: at the end the
task queue holds exactly the incidents that the accepted (2xx) requests named, plus a sentinel."""

from __future__ import annotations

import copy
import json
from typing import Any
from uuid import uuid4

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.openapi import openapi_document
from intake.routes import ROUTES
from tests.intake.conftest import Intake, payload_json
from tests.intake.test_refusals import nothing_started

NONCE = uuid4().hex[:8]
SPEC_OPERATIONS = [
    result.ok() for result in schemathesis.openapi.from_dict(openapi_document(ROUTES)).get_all_operations()
]
SPEC_CASES = st.one_of(*(op.as_strategy() for op in SPEC_OPERATIONS if op.method.upper() == "POST")).map(
    lambda case: (case.formatted_path, case.body if isinstance(case.body, dict | list) else {})
)

SEEDS = {
    "/v1/alerts/alertmanager": "alertmanager_firing.json",
    "/v1/alerts/grafana": "grafana_firing.json",
    "/v1/alerts/cloudwatch": "cloudwatch_sns_alarm.json",
    "/v1/alerts/datadog": "datadog_triggered.json",
    "/v2/enqueue": "pagerduty_v2_trigger.json",
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _seed(path: str) -> Any:
    document = payload_json(SEEDS[path])
    for key in ("groupKey", "dedup_key", "title"):  # this run's own incidents, never another test's
        if key in document:
            document[key] = f"{document[key]} {NONCE}"
    return document


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in children:
        found += _paths(value, (*prefix, key))
    return found


@st.composite
def mutated_payloads(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(st.sampled_from(sorted(SEEDS)))
    document = copy.deepcopy(_seed(path))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_paths(document)))
        parent = document
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(JSON_VALUES)
        if not _paths(document):
            break
    return path, document


def generated_requests(count: int) -> list[tuple[str, Any]]:
    """Draw the requests with hypothesis first (no I/O inside @given), then send them for real."""
    drawn: list[tuple[str, Any]] = []

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(request=st.one_of(SPEC_CASES, mutated_payloads()))
    def draw(request: tuple[str, Any]) -> None:
        drawn.append(request)

    draw()
    return drawn


async def test_fuzzed_requests_never_5xx_and_rejected_ones_start_nothing(intake: Intake) -> None:
    accepted: set[str] = set()
    statuses: dict[int, int] = {}
    for path, body in generated_requests(120):
        answer = await intake.post(path, json.dumps(body).encode())
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, f"{path}: {answer.status_code} {answer.text}"
        if answer.status_code >= 400:
            assert answer.json()["problems"][0]["field"], answer.text
        else:
            accepted.update(item["incident_id"] for item in answer.json().get("incidents", []))
            accepted.update(answer.json().get("heartbeats", []))  # a dead-man's switch it armed
    assert len(statuses) > 2, statuses  # the generator reached several outcomes, not one wall
    await nothing_started(intake, expected=accepted)
