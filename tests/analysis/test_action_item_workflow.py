"""ActionItemWorkflow on the time-skipping server: the reminder sequence to the second, the escalation to the
owner's manager, extend and reassign moving the schedule, rejections in the item's history, continue-as-new.
Roster: tests/policy.yaml (tom's manager is erin, sam's is dora)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.analysis.helpers import RecordingNotifier, at_second, item_input, item_when, reminders, start_item
from tests.conftest import editable_policy, running_worker
from workers.cli.steering import send_command
from workflows.action_item import workflow as item_module
from workflows.action_item.workflow import ActionItemWorkflow
from workflows.messages.action_items import ExtendDue, ItemStatus, ReadRoster, ReassignItem

DAY = timedelta(days=1)


def due_at_five_pm(now: datetime, days: int) -> datetime:
    return (now + days * DAY).replace(hour=17, minute=0, second=0, microsecond=0)


async def test_an_item_sixty_days_overdue_reminds_on_schedule_and_escalates_to_the_manager(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client, recorder = time_skipping_env.client, RecordingNotifier()
    now = await time_skipping_env.get_current_time()
    due = due_at_five_pm(now, 14)
    async with running_worker(client, settings, {"console": recorder}):
        handle = await start_item(client, settings.task_queue, item_input(now, due=due), f"item-{uuid4()}")
        await time_skipping_env.sleep(due - now + 60 * DAY)
        view = await handle.query(ActionItemWorkflow.status)
    assert view.status is ItemStatus.OVERDUE
    sent = reminders(view, due)
    expected = [
        ("before/172800", -2 * DAY, ["tom"]),
        ("morning", -timedelta(hours=8), ["tom"]),
        ("due", timedelta(0), ["tom"]),
        ("escalate", DAY, ["tom", "erin"]),
        *[(f"overdue/{week}", 7 * week * DAY, ["tom", "erin"]) for week in range(1, 9)],
    ]
    assert [(rid, who) for rid, _, who in sent] == [(rid, who) for rid, _, who in expected]
    assert all(at_second(offset, want) for (_, offset, _), (_, want, _) in zip(sent, expected, strict=True))
    escalation = next(n for n in recorder.sent if "escalate" in n.idempotency_key)
    assert escalation.recipients == ["tom", "erin"] and escalation.subject.startswith("OVERDUE action item")
    assert view.next_reminder_at is not None and at_second(view.next_reminder_at - due, 63 * DAY)


async def test_extend_and_reassign_move_the_schedule_and_its_recipients(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    due = due_at_five_pm(now, 10)
    async with running_worker(client, settings, {"console": RecordingNotifier()}):
        handle = await start_item(client, settings.task_queue, item_input(now, due=due), f"item-{uuid4()}")
        await time_skipping_env.sleep(5 * DAY)
        later = due + 5 * DAY
        await handle.signal("extend_due", {"by": "tom", "until": later.isoformat(), "reason": "vendor patch"})
        await handle.signal("reassign", {"by": "erin", "owner": "sam", "reason": "tom is on leave"})
        # Bounded: a high-priority item may move 14 days past its first due date, not 30.
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ActionItemWorkflow.extend_due_update,
                ExtendDue(by="tom", until=due + 30 * DAY, reason="too busy"),
            )
        await handle.signal("extend_due", {"by": "tom", "until": (due + 30 * DAY).isoformat(), "reason": "x"})
        await handle.signal("reassign", {"by": "erin", "owner": "nobody-we-know", "reason": "typo"})
        await handle.signal("complete", {"by": "sam"})  # no evidence: rejected, the item stays open
        await time_skipping_env.sleep(later - now - 5 * DAY + 2 * DAY)
        view = await handle.query(ActionItemWorkflow.status)
        await handle.signal("complete", {"by": "sam", "evidence": "https://github.com/acme/inventory/pull/7"})
        result = await handle.result()
    sent = reminders(view, later)
    assert [(rid, who) for rid, _, who in sent] == [
        ("before/172800", ["sam"]),
        ("morning", ["sam"]),
        ("due", ["sam"]),
        ("escalate", ["sam", "dora"]),
    ]
    assert at_second(sent[0][1], -2 * DAY) and at_second(sent[3][1], DAY)
    assert view.due_at == later and view.original_due_at == due and view.extensions_total == 1
    assert view.extensions[0].reason == "vendor patch"
    rejected = [event.summary for event in view.history if event.kind == "rejected"]
    assert any("at most 14d past its first due date" in summary for summary in rejected)
    assert any("'nobody-we-know' is not a person in the roster" in summary for summary in rejected)
    assert any("complete rejected: invalid complete payload: evidence" in summary for summary in rejected)
    assert result.status is ItemStatus.DONE and result.completed_by == "sam"
    assert result.evidence == "https://github.com/acme/inventory/pull/7"


async def test_continue_as_new_keeps_the_item_whole(
    time_skipping_env: WorkflowEnvironment, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server never suggests continue-as-new here; the item's own history bound is lowered instead."""
    monkeypatch.setattr(item_module, "EVENTS_PER_RUN", 30)
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    due = due_at_five_pm(now, 3)
    async with running_worker(client, settings, {"console": RecordingNotifier()}):
        handle = await start_item(
            client, settings.task_queue,
            item_input(now, due=due, priority="low", tracking_link="https://github.com/acme/inv/issues/9/"),
            f"item-{uuid4()}",
        )  # fmt: skip
        await handle.signal("extend_due", {"by": "tom", "until": (due + DAY).isoformat(), "reason": "review"})
        await time_skipping_env.sleep(40 * DAY)
        view = await handle.query(ActionItemWorkflow.status)
        await handle.signal("cancel", {"by": "erin", "reason": "the service is retired"})
        result = await handle.result()
    assert view.runs >= 2
    assert view.title == "Add a replica to the inventory database" and view.priority == "low"
    assert view.tracking_link == "https://github.com/acme/inv/issues/9"
    assert view.extensions_total == 1 and view.due_at == due + DAY
    assert [rid for rid, _, _ in reminders(view, due)][-1] == "overdue/5"  # weekly, none lost across runs
    assert result.status is ItemStatus.CANCELLED and result.runs == view.runs
    assert result.closed_at is not None and len(result.history) <= 40


async def test_reminders_reach_people_as_the_roster_has_them_now_and_keep_their_timings(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """An item lives for months, and its people change meanwhile. After the due date tom gets a new address
    and a new manager (dora, was erin) in the policy file: the escalation reaches tom at his new address and
    dora, on the schedule the item was created with. Then tom leaves the roster: he is still reminded, as
    before, and the item's history says to reassign it."""
    client, recorder = time_skipping_env.client, RecordingNotifier()
    policy = editable_policy(tmp_path)
    live = settings.model_copy(update={"policy_file": policy.path})
    now = await time_skipping_env.get_current_time()
    due = due_at_five_pm(now, 14)
    async with running_worker(client, live, {"console": recorder}):
        handle = await start_item(client, live.task_queue,
                                  item_input(now, due=due), f"item-{uuid4()}")  # fmt: skip
        await time_skipping_env.sleep(due - now + timedelta(hours=1))  # reminded up to the due date
        policy.set_person("tom", email="tom@new.example.com", manager="dora")
        await time_skipping_env.sleep(DAY)  # the escalation, a day after the due date
        policy.remove_person("tom")
        await time_skipping_env.sleep(7 * DAY)  # the first weekly overdue reminder
        view = await handle.query(ActionItemWorkflow.status)
    sent = reminders(view, due)
    assert [(rid, who) for rid, _, who in sent] == [
        ("before/172800", ["tom"]),
        ("morning", ["tom"]),
        ("due", ["tom"]),
        ("escalate", ["tom", "dora"]),
        ("overdue/1", ["tom", "dora"]),
    ]
    assert at_second(sent[3][1], DAY) and at_second(sent[4][1], 7 * DAY)  # the timings it was created with
    # An idempotency key is <item>/<due date>/<reminder id>/<channel>.
    addresses = {
        "/".join(n.idempotency_key.split("/")[2:-1]): {c.name: c.email for c in n.contacts}
        for n in recorder.sent
    }
    assert addresses["due"]["tom"] == "tom@example.com"
    assert addresses["escalate"] == {"tom": "tom@new.example.com", "dora": "dora@example.com"}
    assert addresses["overdue/1"]["tom"] == "tom@new.example.com"  # the last roster that named him
    changes = [event.summary for event in view.history if event.kind in ("roster", "warning")]
    assert changes == [
        "tom's manager is now dora (was erin): the roster changed",
        "tom is no longer in the roster: reached as before; reassign the item to someone who is",
    ]


async def test_someone_added_to_the_roster_can_own_the_item_once_it_reads_the_roster_again(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """An item checks a new owner against the roster it last read, at its last message: days ago, perhaps. A
    new hire added to the policy file since is refused by name (the refusal says what to do), known once the
    item has read the roster again (read_roster), and then reminded with their manager."""
    client, recorder = time_skipping_env.client, RecordingNotifier()
    policy = editable_policy(tmp_path)
    live = settings.model_copy(update={"policy_file": policy.path})
    now = await time_skipping_env.get_current_time()
    due = due_at_five_pm(now, 14)
    give_to_dan = ReassignItem(by="erin", owner="dan", reason="dan joined payments", command_id="r1")
    async with running_worker(client, live, {"console": recorder}):
        handle = await start_item(client, live.task_queue, item_input(now, due=due), f"item-{uuid4()}")
        await time_skipping_env.sleep(timedelta(hours=1))  # told tom: the roster was read then
        policy.set_person("dan", email="dan@example.com", manager="dora")

        refused = await send_command(handle, "reassign", give_to_dan)
        assert refused.outcome == "rejected", refused
        assert "'dan' is not a person in the roster as this item last read it" in refused.reason
        assert "send read_roster first" in refused.reason
        with pytest.raises(WorkflowUpdateFailedError):  # a payload that does not parse changes nothing
            await handle.execute_update("read_roster", {"by": ""})
        read = await send_command(handle, "read_roster", ReadRoster(by="erin"))
        assert read.outcome == "applied" and "dan" in read.reason, read
        moved = await send_command(handle, "reassign", give_to_dan)
        assert moved.outcome == "applied" and moved.reason == "now owned by dan", moved
        await time_skipping_env.sleep(due - now + DAY + timedelta(minutes=1))  # up to the escalation
        view = await handle.query(ActionItemWorkflow.status)
    assert view.owner == "dan" and view.manager == "dora"
    sent = reminders(view, due)
    assert [(rid, who) for rid, _, who in sent] == [
        ("before/172800", ["dan"]),
        ("morning", ["dan"]),
        ("due", ["dan"]),
        ("escalate", ["dan", "dora"]),
    ]
    addresses = {
        c.name: c.email
        for n in recorder.sent
        if n.idempotency_key.endswith("/due/console")
        for c in n.contacts
    }
    assert addresses == {"dan": "dan@example.com"}
    # A refused update leaves no trace; the read is recorded with who asked, and no manager changed.
    assert [event.kind for event in view.history].count("reassigned") == 1
    assert [(event.actor, event.summary.split(":")[0]) for event in view.history if event.kind == "read"] == [
        ("erin", "roster read")
    ]
    assert not [event for event in view.history if event.kind in ("rejected", "roster", "warning")]


async def test_from_the_web_ui_a_read_roster_signal_lets_a_new_hire_take_the_item_and_a_bad_one_is_recorded(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """The same through signals, as typed into the Web UI: the refused reassignment and a malformed read_roster
    are rejected into the item's history; read_roster then reassign gives dan the item."""
    client = time_skipping_env.client
    policy = editable_policy(tmp_path)
    live = settings.model_copy(update={"policy_file": policy.path})
    now = await time_skipping_env.get_current_time()
    give_to_dan = {"by": "erin", "owner": "dan", "reason": "dan joined payments"}
    async with running_worker(client, live, {"console": RecordingNotifier()}):
        handle = await start_item(client, live.task_queue, item_input(now, due=due_at_five_pm(now, 14)),
                                  f"item-{uuid4()}")  # fmt: skip
        await time_skipping_env.sleep(timedelta(hours=1))
        policy.set_person("dan", email="dan@example.com", manager="dora")
        await handle.signal("reassign", give_to_dan)
        await handle.signal("read_roster", {"by": ""})
        await handle.signal("read_roster", {"by": "erin"})
        # As a person in the Web UI would: reassign once the item's history shows the roster read.
        await item_when(handle, lambda view: any(event.kind == "read" for event in view.history))
        await handle.signal("reassign", give_to_dan)
        await time_skipping_env.sleep(timedelta(minutes=1))
        view = await handle.query(ActionItemWorkflow.status)
    assert view.owner == "dan" and view.manager == "dora"
    rejected = [event.summary for event in view.history if event.kind == "rejected"]
    assert len(rejected) == 2, rejected
    assert rejected[0].startswith(
        "reassign rejected: owner 'dan' is not a person in the roster as this item last"
    )
    assert rejected[1].startswith("read_roster rejected: invalid read_roster payload: by:")
    assert [event.summary for event in view.history if event.kind == "reassigned"] == [
        "owner tom -> dan: dan joined payments"
    ]
