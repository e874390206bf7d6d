"""`warroom report` against a real dev server: real incidents, visibility, status queries and a real PNG."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import numpy
from PIL import Image
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import Warroom, eventually


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
    assert not items["available"] and "ActionItemStatus" in items["reason"] and items["open"] == 0
    assert "retention" in report["period"]["note"]

    image = Image.open(chart)
    assert image.format == "PNG" and image.size == (1500, 450)
    pixels = numpy.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10  # lines, bars and text on a white canvas, not a blank image
    assert (pixels < 128).mean() > 0.005
