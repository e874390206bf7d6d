"""Process logs: JSON lines for machines, structlog's console rendering for a person at a terminal, with pages,
escalations and failed deliveries marked.

Most tests hand `configure_logging` a stream whose `isatty()` answers True (a fake terminal); one runs a real
process with stderr on a pseudo-terminal (`pty`), so the real isatty check is exercised too."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.logs import LogFormatError, configure_logging

REPO = Path(__file__).resolve().parents[2]
ESC = "\x1b["
NOTIFY_CONTEXT = {
    "temporal_activity": {"activity_type": "notify", "attempt": 3, "workflow_id": "incident-checkout-1"}
}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_page_and_failure() -> None:
    log = logging.getLogger("temporalio.activity")
    log.info("notify page via console to alice (attempt 3, key k)", extra=NOTIFY_CONTEXT)
    try:
        raise RuntimeError("slack: 503 Service Unavailable")
    except RuntimeError:
        log.warning("Completing activity as failed", exc_info=True, extra=NOTIFY_CONTEXT)


def test_stdlib_records_render_as_json_with_their_extras(capsys: pytest.CaptureFixture[str]) -> None:
    assert configure_logging("INFO", environ={}) == "json"  # captured stderr is no terminal
    logging.getLogger("warroom.test").info("paged %s", "alice", extra={"incident_id": "incident-1"})
    logging.getLogger("warroom.test").debug("not shown at INFO")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "paged alice"
    assert record["incident_id"] == "incident-1"
    assert record["level"] == "info" and record["logger"] == "warroom.test"
    assert "timestamp" in record


def test_a_terminal_gets_the_console_rendering_with_pages_and_failures_marked() -> None:
    terminal = FakeTerminal()
    assert configure_logging("INFO", stream=terminal, environ={}) == "console"
    log_page_and_failure()
    page, failure = terminal.getvalue().splitlines()
    assert not page.startswith("{") and ESC in page  # human, in colour
    assert "PAGE" in page and "notify page via console to alice" in page
    assert "incident-checkout-1" in page and "notify#3" in page
    assert "DELIVERY FAILED" in failure and "RuntimeError: slack: 503 Service Unavailable" in failure
    assert "Traceback" not in terminal.getvalue()  # the one-line error says it all


def test_json_is_kept_on_a_terminal_when_asked() -> None:
    terminal = FakeTerminal()
    assert configure_logging("INFO", stream=terminal, environ={"WARROOM_LOG_FORMAT": "json"}) == "json"
    log_page_and_failure()
    page, failure = (json.loads(line) for line in terminal.getvalue().splitlines())
    assert page["event"] == "notify page via console to alice (attempt 3, key k)"
    assert failure["event"] == "Completing activity as failed" and "Traceback" in failure["exception"]


def test_the_console_rendering_can_be_forced_without_a_terminal_and_then_has_no_colour_codes() -> None:
    pipe = io.StringIO()
    assert configure_logging("INFO", stream=pipe, environ={"WARROOM_LOG_FORMAT": "Console"}) == "console"
    log_page_and_failure()
    page, failure = pipe.getvalue().splitlines()
    assert "[PAGE] notify page via console to alice" in page
    assert "[DELIVERY FAILED] RuntimeError: slack: 503 Service Unavailable" in failure
    assert ESC not in pipe.getvalue()


def test_an_unknown_log_format_names_the_variable_and_changes_nothing() -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    with pytest.raises(
        LogFormatError, match=r"WARROOM_LOG_FORMAT='pretty' is not one of: auto, json, console"
    ):
        configure_logging("INFO", stream=FakeTerminal(), environ={"WARROOM_LOG_FORMAT": "pretty"})
    assert root.handlers == before


def test_a_real_pseudo_terminal_gets_the_console_rendering() -> None:
    """A child process whose stderr is a pty: the real `isatty()` decides, no fake involved."""
    controller, terminal = pty.openpty()
    script = (
        "import logging; from workers.logs import configure_logging; configure_logging('INFO'); "
        "logging.getLogger('warroom.test').info('notify escalation via console to erin')"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("WARROOM_")}
    env.pop("NO_COLOR", None)
    with subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stderr=terminal) as child:
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            output += chunk
        assert child.wait(timeout=30) == 0, output
    os.close(controller)
    text = output.decode()
    assert "ESCALATION" in text and "notify escalation via console to erin" in text
    assert not text.lstrip().startswith("{") and ESC in text
