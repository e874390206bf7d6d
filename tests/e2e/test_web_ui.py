"""The Temporal Web UI as an incident console, driven by a real browser (Debian chromium + Playwright).

An on-call engineer finds the incident by its phase and severity filters, reads the details warroom renders,
and acknowledges it with the "Send a Signal" form; the workflow's own status query confirms the effect.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from adapters.notify.console import ConsoleNotifier
from config.settings import Settings
from tests.conftest import declared_incident, running_worker, start_incident, status_when
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.common import Phase, Severity

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: .ci/run installs it (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


async def open_list(page: Page, ui: str, query: str) -> None:
    await page.goto(f"{ui}/namespaces/default/workflows?query={quote(query)}", wait_until="domcontentloaded")


async def send_signal(page: Page, signal: str, payload: str) -> None:
    await page.get_by_role("button", name="More Actions").click()
    await page.locator("[data-testid=signal-button]:visible").click()
    dialog = page.get_by_role("dialog", name="Send a Signal")
    await dialog.get_by_role("button", name="Select a signal").click()
    # Options read "<signal> <description>": the description is the signal's own help text.
    await page.get_by_role("option", name=re.compile(f"^{signal} ")).click()
    await dialog.get_by_role("textbox", name="Data").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(payload)
    # Blur the editor before submitting: it reformats on blur and the Submit button moves.
    await dialog.get_by_text("Single JSON payload supported.").click()
    await dialog.get_by_role("button", name="Submit").click()
    await expect(page.locator("#workflow-signal-success-toast")).to_be_visible(timeout=15_000)


async def test_filter_by_phase_and_severity_read_details_and_acknowledge_from_the_web_ui(
    dev_env: WorkflowEnvironment, dev_ui_port: int, settings: Settings, browser: Browser, tmp_path: Path
) -> None:
    ui = f"http://127.0.0.1:{dev_ui_port}"
    client = dev_env.client
    async with running_worker(client, settings, {"console": ConsoleNotifier(StringIO())}):
        handle = await start_incident(client, settings, declared_incident(severity=Severity.SEV2))
        await status_when(handle, lambda status: status.phase is Phase.RESPONSE)
        page = await browser.new_page()
        try:
            await open_list(page, ui, 'IncidentPhase = "response" AND IncidentSeverity = "SEV-2"')
            await expect(page.get_by_role("link", name=handle.id)).to_be_visible(timeout=20_000)
            await open_list(page, ui, f'WorkflowId = "{handle.id}" AND IncidentSeverity = "SEV-1"')
            await expect(page.get_by_text("No Workflows Found")).to_be_visible(timeout=20_000)

            await page.goto(f"{ui}/namespaces/default/workflows/{handle.id}", wait_until="domcontentloaded")
            await (
                page.get_by_role("link", name="User Metadata")
                .or_(page.get_by_text("User Metadata"))
                .first.click()
            )
            details = page.frame_locator("iframe").first  # the UI renders Markdown in a sandboxed frame
            await expect(details.get_by_text("SEV-2 · checkout · response")).to_be_visible(timeout=20_000)
            await expect(details.get_by_text('{"by": "your-name"}').first).to_be_attached()
            await send_signal(page, "acknowledge", '{"by": "ui-user", "note": "on it"}')
            status = await status_when(handle, lambda status: status.acknowledged_by is not None)
            assert status.acknowledged_by == "ui-user"
        finally:
            await page.screenshot(path=str(tmp_path / "web-ui.png"), full_page=True)
            await page.close()
        await handle.signal(IncidentWorkflow.resolve, {"by": "ui-user"})
        await handle.result()
