"""PostmortemReviewWorkflow on the time-skipping server: every resolution starts it, a facilitator who was not
paged is assigned, reminders go out at 24 h and 44 h to the second, the engineering manager hears when it is
overdue, and `postmortem_complete` starts action items that outlive the review and the incident."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.analysis.helpers import RecordingNotifier, at_second
from tests.conftest import declared_incident, running_worker, start_incident
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.incident.workflow import IncidentWorkflow
from workflows.messages.action_items import ActionItemSpec, ItemStatus, PostmortemComplete
from workflows.messages.common import Severity
from workflows.messages.status import EventKind
from workflows.review import workflow as review_module
from workflows.review.workflow import PostmortemReviewWorkflow

HOUR = timedelta(hours=1)


async def test_resolution_starts_the_review_which_reminds_at_24h_and_44h_and_escalates_when_overdue(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, recorder = time_skipping_env.client, RecordingNotifier()
    async with running_worker(client, settings, {"console": recorder}):
        incident = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=5))
        await incident.signal(IncidentWorkflow.acknowledge, {"by": "olivia"})
        await incident.signal(IncidentWorkflow.resolve, {"by": "olivia", "force": True})
        result = await incident.result()
        assert result.aftercare_workflow_id and result.aftercare_workflow_id.startswith("review-incident-")
        review = client.get_workflow_handle(result.aftercare_workflow_id)
        # The hand-over carries the state without the recent timeline; the incident's own stays whole.
        closed = await incident.query(IncidentWorkflow.status)
        assert {EventKind.RESOLVED, EventKind.NOTE} <= {event.kind for event in closed.timeline}
        await time_skipping_env.sleep(49 * HOUR)
        view = await review.query(PostmortemReviewWorkflow.review)
        status = await review.query(PostmortemReviewWorkflow.status)
    assert view.facilitator == "fay"  # tom, the first candidate, was paged in the incident
    assert view.incident_commander == "ivan" and view.state == "overdue"
    told = {
        str(event.details["duty"]): (event.at - view.resolved_at, event.summary.rsplit("-> ", 1)[-1])
        for event in status.timeline
        if str(event.details.get("duty", "")).startswith("review/")
    }
    assert at_second(told["review/reminder/1"][0], 24 * HOUR) and told["review/reminder/1"][1] == "ivan, fay"
    assert at_second(told["review/reminder/2"][0], 44 * HOUR) and told["review/reminder/2"][1] == "ivan, fay"
    assert at_second(told["review/overdue/0"][0], 48 * HOUR)
    assert told["review/overdue/0"][1] == "erin, ivan, fay"  # the engineering manager of payments
    assert [n.recipients for n in recorder.sent if "review/assigned" in n.idempotency_key] == [["fay"]]


async def test_postmortem_complete_starts_items_that_keep_running_after_the_incident_and_review_closed(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": RecordingNotifier()}):
        incident = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=5))
        await incident.signal(IncidentWorkflow.resolve, {"by": "olivia", "force": True})
        result = await incident.result()
        assert result.aftercare_workflow_id
        review = client.get_workflow_handle_for(PostmortemReviewWorkflow.run, result.aftercare_workflow_id)
        await review.signal(
            "postmortem_complete", {"by": "fay", "action_items": [{"title": "x", "owner": "zed"}]}
        )
        items = [
            ActionItemSpec(title="Add a read replica", owner="tom", priority="high",
                           tracking_link="https://github.com/acme/inventory/issues/12"),
            ActionItemSpec(title="Alert on replication lag", owner="sam", priority="medium"),
            ActionItemSpec(title="Document the failover", owner="sid", priority="low"),
        ]  # fmt: skip
        verdict = await review.execute_update(
            PostmortemReviewWorkflow.postmortem_complete_update,
            PostmortemComplete(
                by="fay", document_url="https://wiki/pm/42", action_items=items, command_id="pm-1"
            ),
        )
        assert verdict.outcome == "applied"
        done = await review.result()
        status = await review.query(PostmortemReviewWorkflow.status)
        assert len(done.action_items) == 3 and done.document_url == "https://wiki/pm/42"
        # No time is skipped here: this Java test server stopped skipping time (env.sleep hung) once the review
        # had completed with its abandoned children running, while a standalone item skips fine; the items'
        # reminders are therefore tested on items started directly (test_action_item_workflow.py).
        views = [
            await client.get_workflow_handle(i).query(ActionItemWorkflow.status) for i in done.action_items
        ]
        running = [(await client.get_workflow_handle(i).describe()).status for i in done.action_items]
    assert running == [WorkflowExecutionStatus.RUNNING] * 3
    assert [view.owner for view in views] == ["tom", "sam", "sid"]
    assert all(view.incident_id == result.incident_id and view.status is ItemStatus.OPEN for view in views)
    assert done.completed_at is not None
    assert at_second(views[0].due_at - done.completed_at, timedelta(days=14))  # high: policy default
    assert at_second(views[2].due_at - done.completed_at, timedelta(days=90))
    rejected = [e.summary for e in status.timeline if e.kind is EventKind.REJECTED]
    assert any("action_items[1].owner 'zed' is not a person in the roster" in summary for summary in rejected)


async def test_the_review_continues_as_new_whole_and_never_repeats_a_reminder(
    time_skipping_env: WorkflowEnvironment, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server never suggests continue-as-new here; the review's own history bound is lowered instead."""
    monkeypatch.setattr(review_module, "EVENTS_PER_RUN", 25)
    client = time_skipping_env.client
    async with running_worker(client, settings, {"console": RecordingNotifier()}):
        incident = await start_incident(client, settings, declared_incident(severity=Severity.SEV3))
        await time_skipping_env.sleep(timedelta(minutes=5))
        await incident.signal(IncidentWorkflow.resolve, {"by": "olivia", "force": True})
        result = await incident.result()
        assert result.aftercare_workflow_id
        review = client.get_workflow_handle_for(PostmortemReviewWorkflow.run, result.aftercare_workflow_id)
        await time_skipping_env.sleep(10 * 24 * HOUR)  # past the first weekly overdue repeat (2 d + 7 d)
        view = await review.query(PostmortemReviewWorkflow.review)
        status = await review.query(PostmortemReviewWorkflow.status)
        await review.signal("postmortem_complete", {"by": "fay", "document_url": "https://wiki/pm/7"})
        done = await review.result()
    assert view.runs >= 2 and view.facilitator == "fay" and view.state == "overdue"
    duties = [
        str(e.details["duty"])
        for e in status.timeline
        if str(e.details.get("duty", "")).startswith("review/")
    ]
    assert duties == ["review/reminder/1", "review/reminder/2", "review/overdue/0", "review/overdue/1"]
    assert done.state == "complete" and done.document_url == "https://wiki/pm/7" and done.runs >= view.runs
