"""archive_timeline: older timeline events leave workflow state for the archive (adapters/archive)."""

from __future__ import annotations

import asyncio

from temporalio import activity

from adapters.archive.timeline_files import TimelineArchive
from workflows.messages.activities import ArchiveTimelineRequest, ArchiveTimelineResult


class TimelineActivities:
    def __init__(self, archive: TimelineArchive) -> None:
        self._archive = archive

    @activity.defn(name="archive_timeline")
    async def archive_timeline(self, request: ArchiveTimelineRequest) -> ArchiveTimelineResult:
        # File I/O off the event loop: a slow disk must not freeze every workflow task on this worker.
        stored = await asyncio.to_thread(self._archive.append, request.occurrence, request.events)
        return ArchiveTimelineResult(stored_through=stored)
