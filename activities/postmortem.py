"""render_postmortem: a blameless post-mortem draft built from the incident's own timeline, then published.

The timeline is read from the archive (adapters/archive) and completed with the events the request still
carries, so an incident open for weeks gets its whole timeline without passing it in one payload. The facts
are computed by the pure `workflows.postmortem_facts`, the document by `activities.postmortem_document`; the
Markdown directory always receives it, a signed webhook too when the worker configures one."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.postmortem_document import PostmortemTemplateError, render_document
from adapters.archive.timeline_files import TimelineArchive
from adapters.publish.document import PublishedDocument, Publisher
from adapters.publish.files import DirectoryPublisher
from workflows.messages.activities import PostmortemRequest, PostmortemResult
from workflows.messages.status import IncidentStatus, TimelineEvent
from workflows.postmortem_facts import PostmortemFacts, compute_facts

# The activity runs up to 5 times (ARCHIVE_RETRY); a webhook still failing at the 4th gives up on the webhook
# only, so the draft on disk is never lost to a receiver that is down.
WEBHOOK_ATTEMPTS = 4


def render_postmortem_markdown(status: IncidentStatus) -> str:
    """The document from a status alone (no policy or impact known): what older callers and tests render."""
    return render_document(compute_facts(status))


def postmortem_filename(occurrence: str) -> str:
    """One file per occurrence: a recurrence under the same incident id never overwrites an earlier draft."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", occurrence)[:200] + ".md"


def whole_timeline(archived: list[TimelineEvent], carried: list[TimelineEvent]) -> list[TimelineEvent]:
    """The archive's events, then the carried ones it does not hold yet (by seq)."""
    stored = {event.seq for event in archived}
    return archived + [event for event in carried if event.seq is None or event.seq not in stored]


def facts_of(request: PostmortemRequest, archived: list[TimelineEvent]) -> PostmortemFacts:
    status = request.status.model_copy(update={"timeline": whole_timeline(archived, request.status.timeline)})
    return compute_facts(
        status, opened_at=request.opened_at, policy=request.policy, impact=request.impact,
        false_positive=request.false_positive,
    )  # fmt: skip


class PostmortemActivities:
    def __init__(
        self,
        directory: Path,
        archive: TimelineArchive,
        template: Path | None = None,
        publishers: Sequence[Publisher] = (),
    ) -> None:
        self._files = DirectoryPublisher(directory)
        self._archive = archive
        self._template = template
        self._publishers = list(publishers)

    @activity.defn(name="render_postmortem")
    async def render_postmortem(self, request: PostmortemRequest) -> PostmortemResult:
        archived = await asyncio.to_thread(self._archive.read, request.occurrence)
        try:
            markdown = render_document(facts_of(request, archived), self._template)
        except PostmortemTemplateError as error:
            raise ApplicationError(str(error), non_retryable=True) from error
        document = PublishedDocument(
            incident_id=request.incident_id, occurrence=request.occurrence,
            filename=postmortem_filename(request.occurrence), markdown=markdown,
            idempotency_key=f"{request.occurrence}/postmortem",
        )  # fmt: skip
        try:
            path = await self._files.publish(document)
        except OSError as error:
            # A directory we cannot write is not fixed by retrying; the incident records it and closes.
            target = self._files.directory / document.filename
            raise ApplicationError(
                f"cannot write the post-mortem to {target}: {error.strerror or error}", non_retryable=True
            ) from error
        published, warning = await self._publish(document)
        return PostmortemResult(path=path, published=[self._files.name, *published], warning=warning)

    async def _publish(self, document: PublishedDocument) -> tuple[list[str], str | None]:
        """The other publishers; a failure is retried by the activity, and given up (with a warning) at last."""
        published, failures = [], []
        for publisher in self._publishers:
            try:
                await publisher.publish(document)
                published.append(publisher.name)
            except Exception as error:  # any receiver failure is reported the same way
                failures.append(f"{publisher.name}: {error}")
        if failures and activity.info().attempt < WEBHOOK_ATTEMPTS:
            raise ApplicationError("; ".join(failures))
        return published, (f"post-mortem not published to {'; '.join(failures)}" if failures else None)
