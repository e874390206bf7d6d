"""`warroom postmortem complete` and `warroom action-items ...` as real processes against the dev server:
items are found through visibility (the ActionItem* search attributes) and steered through their updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from tests.analysis.helpers import item_input, start_item
from tests.cli.conftest import Warroom, eventually, run_warroom
from tests.cli.test_commands import assert_clean_failure, declare, eventually_in_response
from tests.conftest import editable_policy, running_worker
from workflows.messages.status import IncidentStatus


async def test_list_overdue_by_owner_finds_exactly_the_overdue_items_of_that_owner(
    warroom: Warroom, dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    now = datetime.now(UTC)
    incident = f"incident-cli-{uuid4()}"
    plan = {
        "tom-late": ("tom", now - timedelta(days=3)),
        "tom-later": ("tom", now + timedelta(days=10)),
        "sam-late": ("sam", now - timedelta(days=1)),
    }
    ids = {}
    for name, (owner, due) in plan.items():
        inp = item_input(now, owner=owner, due=due).model_copy(update={"incident_id": incident})
        ids[name] = (
            await start_item(dev_env.client, settings.task_queue, inp, f"action-item-{name}-{uuid4()}")
        ).id

    async def listed(*options: str) -> list[str]:
        result = await warroom("action-items", "list", "--incident", incident, *options, "--json")
        assert result.code == 0, result.output
        return sorted(row["item_id"] for row in json.loads(result.stdout))

    async def all_visible() -> bool:
        return len(await listed()) == 3

    await eventually(all_visible)
    assert await listed("--overdue", "--owner", "tom") == [ids["tom-late"]]
    assert await listed("--overdue") == sorted([ids["tom-late"], ids["sam-late"]])
    assert await listed("--owner", "tom") == sorted([ids["tom-late"], ids["tom-later"]])

    table = await warroom("action-items", "list", "--incident", incident, "--owner", "sam")
    assert "Add a replica to the inventory database" in table.stdout and "overdue" in table.stdout
    done = await warroom("action-items", "complete", ids["sam-late"], "--by", "sam", "--evidence", "PR 7")
    assert done.code == 0 and "applied: done by sam" in done.stdout, done.output
    refused = await warroom(
        "action-items", "extend", ids["tom-later"], "--until", "2000-01-01", "--reason", "x"
    )
    assert refused.code == 1 and "is not in the future" in refused.stdout, refused.output
    shown = await warroom("action-items", "show", ids["tom-later"])
    assert "owner tom (manager erin)" in shown.stdout, shown.output

    async def sam_done() -> bool:
        return await listed("--owner", "sam") == []

    await eventually(sam_done)
    closed_item = ids["sam-late"]
    again = await warroom("action-items", "complete", closed_item, "--by", "sam", "--evidence", "PR 7")
    assert_clean_failure(again, 1, f"action item '{closed_item}' is already closed (completed)")
    assert f"See `warroom action-items show {closed_item}`" in again.stderr
    missing = await warroom("action-items", "show", "action-item-nobody")
    assert_clean_failure(missing, 1, "no action item 'action-item-nobody' (try `warroom action-items list`)")


async def test_postmortem_complete_from_a_file_starts_the_items_of_the_incident(
    warroom: Warroom, tmp_path: Path
) -> None:
    incident = await declare(warroom, "--severity", "SEV-3")
    await eventually_in_response(warroom, incident)
    assert (await warroom("resolve", incident, "--by", "olivia", "--force")).code == 0

    async def closed_with_review() -> bool:
        result = await warroom("status", incident, "--json")
        status = IncidentStatus.model_validate_json(result.stdout) if result.code == 0 else None
        return status is not None and bool(status.aftercare_workflow_id) and status.phase.value == "closed"

    await eventually(closed_with_review)
    items = tmp_path / "items.yaml"
    items.write_text(yaml.safe_dump({"action_items": [
        {"title": "Add a read replica", "owner": "tom", "priority": "high",
         "tracking_link": "https://github.com/acme/inventory/issues/12"},
        {"title": "Alert on replication lag", "owner": "sam"},
    ]}))  # fmt: skip
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump([{"title": "x", "owner": "tom", "priority": "urgent"}]))
    refused = await warroom("postmortem", "complete", incident, "--by", "fay", "--items", str(bad))
    assert refused.code == 2 and "--items" in refused.output, refused.output
    done = await warroom("postmortem", "complete", incident, "--by", "fay", "--items", str(items),
                         "--document-url", "https://wiki/pm/1")  # fmt: skip
    assert done.code == 0 and "applied: post-mortem review completed by fay: 2 action items" in done.stdout, (
        done.output
    )

    async def both_listed() -> bool:
        result = await warroom("action-items", "list", "--incident", incident, "--json")
        return result.code == 0 and len(json.loads(result.stdout)) == 2

    await eventually(both_listed)


async def test_reassign_reads_the_roster_first_so_someone_added_since_can_own_the_item(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """The item read the roster when it told tom; dan joins the policy file after. `reassign` has the item read
    it again before asking, so dan is not refused for being newer than the item's last message."""
    policy = editable_policy(tmp_path)
    live = settings.model_copy(update={"policy_file": policy.path})
    env = {
        "WARROOM_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WARROOM_TASK_QUEUE": live.task_queue,
    }
    now = datetime.now(UTC)
    async with running_worker(dev_env.client, live):
        handle = await start_item(dev_env.client, live.task_queue, item_input(now, due=now + timedelta(days=10)),
                                  f"action-item-hire-{uuid4()}")  # fmt: skip

        async def roster_read() -> bool:  # the local activity's marker: the item has told tom
            history = await handle.fetch_history()
            return any(event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for event in history.events)

        await eventually(roster_read)
        policy.set_person("dan", email="dan@example.com", manager="dora")
        moved = await run_warroom("action-items", "reassign", handle.id, "--owner", "dan", "--reason", "joined",
                                  "--by", "erin", env=env)  # fmt: skip
        assert moved.code == 0 and "applied: now owned by dan" in moved.stdout, moved.output
        shown = await run_warroom("action-items", "show", handle.id, env=env)
    assert "owner dan (manager dora)" in shown.stdout, shown.output
