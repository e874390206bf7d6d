"""render_postmortem: a blameless post-mortem draft built from the incident's own timeline."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from temporalio import activity

from adapters.publish.files import write_atomically
from workflows.markdown import plain, table_cell
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
        f"# Post-mortem: {plain(status.summary or status.incident_id)}",
        "",
        "_Blameless: this document describes what the system and the process did, not who is at fault._",
        "",
        "| | |",
        "|---|---|",
        f"| Incident | `{status.incident_id}` |",
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
            f"- {reason.dimension}: {plain(reason.explanation)} ({reason.severity.value})"
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


def postmortem_filename(incident_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", incident_id)[:200] + ".md"


class PostmortemActivities:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    @activity.defn(name="render_postmortem")
    async def render_postmortem(self, request: PostmortemRequest) -> PostmortemResult:
        markdown = render_postmortem_markdown(request.status)
        path = write_atomically(self._directory / postmortem_filename(request.incident_id), markdown)
        return PostmortemResult(path=str(path))
