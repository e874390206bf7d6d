"""render_postmortem: a blameless post-mortem draft built from the incident's own timeline.

The timeline is read from the archive (adapters/archive) and completed with the events the request still
carries, so an incident open for weeks gets its whole timeline without passing it in one payload."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.archive.timeline_files import TimelineArchive
from adapters.publish.files import write_atomically
from workflows.markdown import markdown_text, table_cell
from workflows.messages.activities import PostmortemRequest, PostmortemResult
from workflows.messages.status import EventKind, IncidentStatus, TimelineEvent


def _moment(status: IncidentStatus, kind: EventKind) -> datetime | None:
    return next((event.at for event in status.timeline if event.kind is kind), None)


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "n/a"
    minutes, seconds = divmod(int((end - start).total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s"


def _timeline_row(event: TimelineEvent) -> str:
    cells = [
        f"{event.at:%Y-%m-%d %H:%M:%S}",
        event.kind.value,
        table_cell(event.actor),
        table_cell(event.summary),
    ]
    return f"| {' | '.join(cells)} |"


def render_postmortem_markdown(status: IncidentStatus) -> str:
    opened = status.timeline[0].at if status.timeline else None
    resolved = _moment(status, EventKind.RESOLVED)
    severity = status.severity.value if status.severity else "unclassified"
    reasons = status.classification.reasons if status.classification else []
    lines = [
        f"# Post-mortem: {markdown_text(status.summary or status.incident_id)}",
        "",
        "_Blameless: this document describes what the system and the process did, not who is at fault._",
        "",
        "| | |",
        "|---|---|",
        f"| Incident | `{status.incident_id}` (occurrence `{status.occurrence or status.incident_id}`) |",
        f"| Service | {table_cell(status.service or 'unknown')} |",
        f"| Severity | {severity} |",
        f"| Acknowledged by | {table_cell(status.acknowledged_by or 'nobody')} |",
        f"| Resolved by | {table_cell(status.resolved_by or 'n/a')} |",
        f"| Time to acknowledge | {_duration(opened, status.acknowledged_at)} |",
        f"| Time to mitigate | {_duration(opened, status.mitigated_at)} |",
        f"| Time to resolve | {_duration(opened, resolved)} |",
        f"| Paged | {table_cell(', '.join(status.paged) or 'nobody')} |",
        "",
        "## Why this severity",
        *[
            f"- {reason.dimension}: {markdown_text(reason.explanation)} ({reason.severity.value})"
            for reason in reasons
        ],
        "",
        "## Timeline (UTC)",
        "",
        "| Time | Event | Actor | What happened |",
        "|---|---|---|---|",
        *[_timeline_row(event) for event in status.timeline],
        "",
        "## Contributing factors",
        "",
        "_To be written by the review: what made this possible, what made it worse, what helped._",
        "",
        "## Action items",
        "",
        "_To be agreed in the review._",
        "",
    ]
    return "\n".join(lines)


def postmortem_filename(occurrence: str) -> str:
    """One file per occurrence: a recurrence under the same incident id never overwrites an earlier draft."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", occurrence)[:200] + ".md"


def whole_timeline(archived: list[TimelineEvent], carried: list[TimelineEvent]) -> list[TimelineEvent]:
    """The archive's events, then the carried ones it does not hold yet (by seq)."""
    stored = {event.seq for event in archived}
    return archived + [event for event in carried if event.seq is None or event.seq not in stored]


class PostmortemActivities:
    def __init__(self, directory: Path, archive: TimelineArchive) -> None:
        self._directory = directory
        self._archive = archive

    @activity.defn(name="render_postmortem")
    async def render_postmortem(self, request: PostmortemRequest) -> PostmortemResult:
        archived = await asyncio.to_thread(self._archive.read, request.occurrence)
        status = request.status.model_copy(
            update={"timeline": whole_timeline(archived, request.status.timeline)}
        )
        markdown = render_postmortem_markdown(status)
        target = self._directory / postmortem_filename(request.occurrence)
        try:
            path = await asyncio.to_thread(write_atomically, target, markdown)
        except OSError as error:
            # A directory we cannot write is not fixed by retrying; the incident records it and closes.
            raise ApplicationError(
                f"cannot write the post-mortem to {target}: {error.strerror or error}", non_retryable=True
            ) from error
        return PostmortemResult(path=str(path))
