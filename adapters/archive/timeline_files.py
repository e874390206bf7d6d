"""The incident timeline archive on disk: one JSON-lines file per incident occurrence.

Why an archive: an incident open for weeks cannot carry its whole timeline in workflow state (payloads over
2 MB fail the workflow task). Older events move here; the post-mortem reads them back. Each event carries its
`seq`, so appending a batch twice (an activity retried after a crash) stores each event once. A database can
replace this class: it is the only code that knows where timelines live.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from workflows.messages.status import TimelineEvent


class TimelineArchive:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path_of(self, occurrence: str) -> Path:
        return self._directory / (re.sub(r"[^A-Za-z0-9._@-]+", "_", occurrence)[:200] + ".jsonl")

    def append(self, occurrence: str, events: list[TimelineEvent]) -> int:
        """Store the events not stored yet; return the highest seq stored."""
        path = self.path_of(occurrence)
        stored = self.last_seq(occurrence)
        fresh = [event for event in events if event.seq is not None and event.seq > stored]
        if fresh:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.writelines(event.model_dump_json() + "\n" for event in fresh)
                handle.flush()
                os.fsync(handle.fileno())
            stored = max(stored, *(event.seq or 0 for event in fresh))
        return stored

    def read(self, occurrence: str) -> list[TimelineEvent]:
        path = self.path_of(occurrence)
        if not path.exists():
            return []
        events: dict[int, TimelineEvent] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                event = TimelineEvent.model_validate(json.loads(line))
                events[event.seq or 0] = event
        return [events[seq] for seq in sorted(events)]

    def last_seq(self, occurrence: str) -> int:
        """The highest seq stored; -1 when nothing is. A torn last line (a crash mid-write) is ignored."""
        path = self.path_of(occurrence)
        if not path.exists():
            return -1
        last = -1
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                last = max(last, int(json.loads(line).get("seq", -1)))
            except (ValueError, AttributeError):
                continue
        return last
