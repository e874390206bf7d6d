"""Approving a pending action in the Temporal Web UI, with a real browser (Debian chromium + Playwright): the
incident's details show the JSON to paste, **Send a Signal** `approve_action` sends it, and the action runs.

The system acted on is the stand-in of tests/workflow/containment_system.py, registered under the real
`run_containment_action` name (it records each operation): the browser path to the action is what is proven.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.conftest import declared_incident, start_incident, status_when
from tests.e2e.test_web_ui import CHROMIUM, CHROMIUM_FLAGS, send_signal
from tests.workflow.containment_system import StandInSystem, worker_with
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Severity
from workflows.messages.status import ActionState, ActionView, IncidentStatus


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: .ci/run installs it (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


def drain(status: IncidentStatus) -> ActionView | None:
    return next((action for action in status.actions if action.name == "drain"), None)


def drain_is(*states: ActionState) -> Any:
    return lambda status: (found := drain(status)) is not None and found.state in states


async def close(handle: WorkflowHandle[Any, Any]) -> None:
    await handle.signal(IncidentWorkflow.resolve, {"by": "tom", "force": True})
    await handle.signal(IncidentWorkflow.override_recovery, {"by": "tom", "reason": "test ends here"})
    await asyncio.wait_for(handle.result(), 60)


async def test_the_tech_lead_approves_the_pending_drain_with_send_a_signal_and_it_runs(
    dev_env: WorkflowEnvironment, dev_ui_port: int, settings: Settings, chromium: Browser, tmp_path: Path
) -> None:
    ui = f"http://127.0.0.1:{dev_ui_port}"
    client, system = dev_env.client, StandInSystem()
    async with worker_with(client, settings, system):
        handle = await start_incident(
            client, settings, declared_incident(service="shop", severity=Severity.SEV2)
        )
        pending = drain(await status_when(handle, drain_is(ActionState.AWAITING_APPROVAL), seconds=30))
        assert pending is not None and "drain" not in [call.operation for call in system.calls]
        paste = json.dumps({"by": "your-name", "action_id": pending.id, "reason": "why"})
        page = await chromium.new_page()
        try:
            await page.goto(f"{ui}/namespaces/default/workflows/{handle.id}", wait_until="domcontentloaded")
            await (
                page.get_by_role("link", name="User Metadata")
                .or_(page.get_by_text("User Metadata"))
                .first.click()
            )
            details = page.frame_locator("iframe").first  # the UI renders Markdown in a sandboxed frame
            await expect(details.get_by_text(paste).first).to_be_attached(timeout=20_000)

            approval = {"by": "tom", "action_id": pending.id, "reason": "eu is sick, drain it"}
            await send_signal(page, "approve_action", json.dumps(approval))

            status = await status_when(handle, drain_is(ActionState.SUCCEEDED), seconds=30)
        finally:
            await page.screenshot(path=str(tmp_path / "web-ui-approval.png"), full_page=True)
            await page.close()
        ran = drain(status)
        assert ran is not None and ran.state is ActionState.SUCCEEDED
        assert [(approval.by, approval.decision) for approval in ran.approvals] == [("tom", "approved")]
        assert [call.operation for call in system.calls].count("drain") == 1
        await close(handle)
