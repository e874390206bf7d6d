"""Process logs are one JSON object per line, with the SDK's structured extras kept as fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from workers.logs import configure_logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_stdlib_records_render_as_json_with_their_extras(
    capsys: pytest.CaptureFixture[str], restore_root_logger: None
) -> None:
    configure_logging("INFO")
    logging.getLogger("warroom.test").info("paged %s", "alice", extra={"incident_id": "incident-1"})
    logging.getLogger("warroom.test").debug("not shown at INFO")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "paged alice"
    assert record["incident_id"] == "incident-1"
    assert record["level"] == "info" and record["logger"] == "warroom.test"
    assert "timestamp" in record
