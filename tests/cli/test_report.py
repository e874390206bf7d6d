"""`warroom report` against a real dev server: real incidents, visibility, status queries and a real PNG."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import numpy
from PIL import Image
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import Warroom, eventually
from workers.reports.aggregate import ActionItemRecord, action_item_stats
from workers.reports.collect import (
    ACTION_ITEM_ATTRIBUTES,
    ACTION_ITEM_DUE,
    ACTION_ITEM_OWNER,
    ACTION_ITEM_PRIORITY,
    ACTION_ITEM_STATUS,
    read_action_items,
)

ACTION_ITEM_KEYS = [ACTION_ITEM_STATUS, ACTION_ITEM_OWNER, ACTION_ITEM_PRIORITY, ACTION_ITEM_DUE]


async def action_item_attributes_registered(dev_env: WorkflowEnvironment) -> bool:
    registered = await dev_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=dev_env.client.namespace)
    )
    return all(name in registered.custom_attributes for name in ACTION_ITEM_ATTRIBUTES)


async def run_incident(warroom: Warroom, service: str, severity: str, *resolve_flags: str) -> str:
    declared = await warroom(
        "declare",
        "--service",
        service,
        "--summary",
        f"{severity} drill",
        "--severity",
        severity,
        "--by",
        "ana",
    )
    assert declared.code == 0, declared.output
    incident_id = declared.stdout.strip()
    acked = await warroom("ack", incident_id, "--by", "ana")
    assert "applied" in acked.stdout, acked.output
    resolved = await warroom("resolve", incident_id, "--by", "ana", *resolve_flags)
    assert "applied: resolved" in resolved.stdout, resolved.output
    return incident_id


async def test_report_counts_real_incidents_and_draws_a_chart(
    warroom: Warroom, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    service = f"report-{uuid4().hex[:8]}"
    await run_incident(warroom, service, "SEV-1")
    await run_incident(warroom, service, "SEV-2", "--false-positive")
    await run_incident(warroom, service, "SEV-2")

    async def measured_in_visibility() -> bool:
        query = (
            f'IncidentService = "{service}" AND ExecutionStatus = "Completed" AND IncidentMttrSeconds >= 0'
        )
        return (await dev_env.client.count_workflows(query)).count == 3

    await eventually(measured_in_visibility)
    chart = tmp_path / "x.png"
    result = await warroom(
        "report", "--since", "1d", "--service", service, "--format", "json", "--chart", str(chart)
    )
    assert result.code == 0, result.output
    report = json.loads(result.stdout)

    assert report["incidents"] == 3 and report["not_queried"] == 0
    assert report["by_severity"] == {"SEV-1": 1, "SEV-2": 2} and report["by_service"] == {service: 3}
    sev1, sev2 = report["severities"]
    assert sev1["severity"] == "SEV-1" and sev1["ack_target_seconds"] == 15 * 60
    assert sev1["acknowledged"] == 1 and sev1["acknowledged_within_target"] == 1
    assert sev2["incidents"] == 2 and sev2["mttr_p90_seconds"] is not None
    assert report["false_positives"] == 1 and report["pages"] >= 3
    assert report["noisiest_sources"] == []  # declared, not alerted: no alert source to blame
    items = report["action_items"]
    if await action_item_attributes_registered(dev_env):  # another test (or the action-item workflows) did
        assert items["available"] and items["reason"] is None
    else:
        assert not items["available"] and "ActionItemStatus" in items["reason"] and items["open"] == 0
    assert "retention" in report["period"]["note"]

    image = Image.open(chart)
    assert image.format == "PNG" and image.size == (1500, 450)
    pixels = numpy.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10  # lines, bars and text on a white canvas, not a blank image
    assert (pixels < 128).mean() > 0.005


async def test_action_items_are_read_from_visibility_by_owner_priority_and_due(
    dev_env: WorkflowEnvironment,
) -> None:
    """Running `ActionItemWorkflow` executions with the ActionItem* attributes, as the action-item workflows set
    them (started here without a worker: visibility is what the report reads, not the items' code)."""
    client = dev_env.client
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: key.indexed_value_type for key in ACTION_ITEM_KEYS},
        )
    )
    suffix = uuid4().hex[:8]
    now = datetime.now(UTC)
    items = [
        (f"ana-{suffix}", "high", "overdue", now - timedelta(days=60)),
        (f"ana-{suffix}", "low", "open", now + timedelta(days=3)),
        (f"bo-{suffix}", "medium", "open", now - timedelta(hours=1)),
    ]
    handles = []
    for number, (owner, priority, status, due) in enumerate(items):
        attributes = TypedSearchAttributes([
            SearchAttributePair(ACTION_ITEM_STATUS, status), SearchAttributePair(ACTION_ITEM_OWNER, owner),
            SearchAttributePair(ACTION_ITEM_PRIORITY, priority), SearchAttributePair(ACTION_ITEM_DUE, due),
        ])  # fmt: skip
        handles.append(await client.start_workflow(
            "ActionItemWorkflow", id=f"item-{suffix}-{number}", task_queue=f"no-worker-{suffix}",
            search_attributes=attributes,
        ))  # fmt: skip
    try:
        mine: list[ActionItemRecord] = []

        async def all_visible() -> bool:
            nonlocal mine
            found, reason = await read_action_items(client)
            assert reason is None and found is not None
            mine = [item for item in found if (item.owner or "").endswith(suffix)]
            return len(mine) == 3

        await eventually(all_visible)
        stats = action_item_stats(mine, now, None)
        assert (stats.open, stats.overdue) == (3, 2)
        assert stats.overdue_by_owner == {f"ana-{suffix}": 1, f"bo-{suffix}": 1}
        assert stats.open_by_priority == {"high": 1, "low": 1, "medium": 1}
    finally:
        for handle in handles:
            await handle.terminate("test done")
