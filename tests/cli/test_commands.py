"""The `warroom` commands through the real entry point, against the session dev server and a test worker."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import Result, Warroom, eventually, run_warroom
from workflows.messages.common import Phase
from workflows.messages.status import EventKind, IncidentStatus


async def declare(warroom: Warroom, *extra: str) -> str:
    result = await warroom("declare", "--service", "checkout", "--summary", "payments failing", *extra)
    assert result.code == 0, result.output
    return result.stdout.strip()


def assert_clean_failure(result: Result, code: int, message: str) -> None:
    assert result.code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


async def test_declare_prints_the_incident_id_and_status_shows_it(warroom: Warroom) -> None:
    key = f"checkout-{uuid4().hex[:8]}"
    incident_id = await declare(warroom, "--severity", "SEV-2", "--by", "alice", "--key", key)
    assert incident_id == f"incident-{key}"

    human = await warroom("status", key)  # the key works as well as the full id
    assert human.code == 0, human.output
    assert incident_id in human.stdout
    assert "SEV-2" in human.stdout
    assert "declared SEV-2 by alice" in human.stdout

    as_json = await warroom("status", incident_id, "--json")
    status = IncidentStatus.model_validate_json(as_json.stdout)
    assert status.severity == "SEV-2"
    assert status.timeline[0].kind is EventKind.DECLARED and status.timeline[0].actor == "alice"


async def test_declare_hands_the_impact_options_to_the_severity_matrix(warroom: Warroom) -> None:
    incident_id = await declare(
        warroom, "--users", "50000", "--revenue-per-hour", "250000", "--region", "eu-west-1"
    )
    await eventually_in_response(warroom, incident_id)
    shown = await warroom("status", incident_id, "--json")
    status = IncidentStatus.model_validate_json(shown.stdout)
    assert status.severity == "SEV-2"
    assert status.classification is not None and status.classification.decided_by == "matrix"
    assert {reason.dimension for reason in status.classification.reasons} >= {
        "users_affected", "revenue_per_hour"
    }  # fmt: skip


async def test_a_bad_impact_value_is_a_usage_error_and_starts_nothing(
    warroom: Warroom, dev_env: WorkflowEnvironment
) -> None:
    key = f"bad-{uuid4().hex[:8]}"
    result = await warroom(
        "declare", "--service", "checkout", "--summary", "x", "--key", key, "--revenue-per-hour", "-1"
    )
    assert_clean_failure(result, 2, "'--revenue-per-hour'")
    assert "(got -1.0)" in " ".join(result.stderr.replace("│", " ").split())
    with pytest.raises(RPCError) as missing:
        await dev_env.client.get_workflow_handle(f"incident-{key}").describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


async def test_the_static_summary_shows_only_what_is_known_at_start(
    warroom: Warroom, dev_env: WorkflowEnvironment
) -> None:
    """The Web UI's workflow list shows the static summary forever: no '[SEV-?]' for an undeclared one."""
    undeclared = await declare(warroom)
    description = await dev_env.client.get_workflow_handle(undeclared).describe()
    assert await description.static_summary() == "checkout: payments failing"

    declared = await declare(warroom, "--severity", "sev-2")
    description = await dev_env.client.get_workflow_handle(declared).describe()
    assert await description.static_summary() == "[SEV-2] checkout: payments failing"


async def test_declaring_an_open_incident_twice_is_refused(warroom: Warroom) -> None:
    key = f"dup-{uuid4().hex[:8]}"
    await declare(warroom, "--key", key, "--severity", "SEV-3")
    again = await warroom("declare", "--service", "checkout", "--summary", "again", "--key", key)
    assert_clean_failure(again, 1, "already exists")


async def test_ack_is_accepted_and_a_second_ack_is_reported_as_ignored(warroom: Warroom) -> None:
    incident_id = await declare(warroom, "--severity", "SEV-1")

    first = await warroom("ack", incident_id, "--by", "bob", "--note", "on it")
    assert first.code == 0, first.output
    assert "applied: acknowledged: on it" in first.stdout

    second = await warroom("ack", incident_id, "--by", "carol")
    assert second.code == 0, second.output
    assert "ignored: already acknowledged by bob" in second.stdout


async def test_a_note_appears_in_the_timeline(warroom: Warroom) -> None:
    incident_id = await declare(warroom, "--severity", "SEV-3")

    noted = await warroom("note", incident_id, "db pool exhausted on replica 2", "--by", "dana")
    assert noted.code == 0, noted.output
    assert "applied: note added" in noted.stdout

    status = await warroom("status", incident_id)
    assert "dana" in status.stdout and "db pool exhausted on replica 2" in status.stdout


async def test_resolve_closes_the_incident_and_status_of_the_closed_incident_still_works(
    warroom: Warroom, dev_env: WorkflowEnvironment
) -> None:
    incident_id = await declare(warroom, "--severity", "SEV-2")

    resolved = await warroom("resolve", incident_id, "--note", "rolled back", "--by", "erin")
    assert resolved.code == 0, resolved.output
    assert "applied: resolved" in resolved.stdout
    await dev_env.client.get_workflow_handle(incident_id).result()  # the workflow has closed

    closed = await warroom("status", incident_id, "--json")
    assert closed.code == 0, closed.output
    status = IncidentStatus.model_validate_json(closed.stdout)
    assert status.phase is Phase.CLOSED and status.resolved_by == "erin"

    late_ack = await warroom("ack", incident_id)
    assert_clean_failure(late_ack, 1, "already closed")


async def test_reclassify_with_a_bad_severity_is_a_usage_error_naming_the_field() -> None:
    result = await run_warroom("reclassify", "some-incident", "--severity", "SEV-9", "--reason", "worse")
    assert result.code == 2, result.output
    assert "--severity" in result.stderr and "SEV-9" in result.stderr
    assert "Traceback" not in result.output


async def test_list_by_phase_finds_the_open_incident_and_not_under_closed(warroom: Warroom) -> None:
    service = f"svc-{uuid4().hex[:8]}"  # unique, so other tests' incidents never match
    incident_id = await declare(warroom, "--severity", "SEV-2", "--service", service)

    async def listed_in_response() -> bool:
        result = await warroom("list", "--phase", "response", "--service", service)
        assert result.code == 0, result.output
        return incident_id in result.stdout

    await eventually(listed_in_response)
    closed = await warroom("list", "--phase", "closed", "--service", service)
    assert closed.code == 0, closed.output
    assert incident_id not in closed.stdout


async def test_list_with_an_unknown_phase_is_a_usage_error() -> None:
    result = await run_warroom("list", "--phase", "nonsense")
    assert result.code == 2, result.output
    assert "--phase" in result.stderr and "nonsense" in result.stderr and "response" in result.stderr


async def test_an_unknown_incident_is_reported_without_a_traceback(warroom: Warroom) -> None:
    assert_clean_failure(await warroom("status", "no-such-key"), 1, "no incident 'incident-no-such-key'")
    assert_clean_failure(await warroom("ack", "no-such-key"), 1, "no incident")


async def test_an_unreachable_server_is_reported_without_a_traceback() -> None:
    result = await run_warroom("status", "anything", env={"WARROOM_TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert_clean_failure(result, 1, "cannot reach Temporal at 127.0.0.1:1")


async def test_help_lists_the_commands() -> None:
    result = await run_warroom("--help")
    assert result.code == 0, result.output
    for command in ("run", "worker", "declare", "ack", "note", "mitigate", "resolve", "reclassify", "status",
                    "list"):  # fmt: skip
        assert f" {command} " in result.stdout


async def test_escalation_commands_report_what_the_incident_did(warroom: Warroom) -> None:
    sev1 = await declare(warroom, "--severity", "SEV-1")
    await eventually_in_response(warroom, sev1)

    assigned = await warroom(
        "assign", sev1, "--role", "incident_commander", "--person", "tom", "--by", "erin"
    )
    assert "applied: incident_commander: tom" in assigned.stdout, assigned.output
    stranger = await warroom("assign", sev1, "--role", "incident_commander", "--person", "mallory")
    assert stranger.code == 1 and "unknown person 'mallory'" in stranger.stdout
    bad_role = await warroom("assign", sev1, "--role", "captain", "--person", "tom")
    assert_clean_failure(bad_role, 2, "--role")

    updated = await warroom("update", sev1, "rollback 50% done", "--by", "cora")
    assert "applied: internal update posted; it goes out now" in updated.stdout, updated.output
    snoozed = await warroom("snooze", sev1, "--duration", "30m", "--reason", "flaky")
    assert snoozed.code == 1 and "a SEV-1 cannot be snoozed" in snoozed.stdout
    escalated = await warroom("escalate", sev1, "--level", "3", "--reason", "exec call")
    assert "level 3 is already engaged" in escalated.stdout, escalated.output  # SEV-1 engages it at once

    status = await warroom("status", sev1)
    assert "incident_commander tom" in status.stdout and "next:" in status.stdout
    not_due = await warroom("regulator-notified", sev1, "--reference", "x")
    assert not_due.code == 1 and "no regulatory notification is due" in not_due.stdout


async def eventually_in_response(warroom: Warroom, incident_id: str) -> None:
    async def in_response() -> bool:
        result = await warroom("status", incident_id, "--json")
        return result.code == 0 and IncidentStatus.model_validate_json(result.stdout).phase is Phase.RESPONSE

    await eventually(in_response)


async def test_a_worker_with_a_broken_channels_or_policy_file_stops_with_the_file_named(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    address = dev_env.client.service_client.config.target_host
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels: [1, 2]\n")
    broken = await run_warroom(
        "worker", env={"WARROOM_TEMPORAL_ADDRESS": address, "WARROOM_CHANNELS": str(channels)}
    )
    assert_clean_failure(broken, 2, f"error: {channels}")
    policy = tmp_path / "policy.yaml"
    policy.write_text("escalation: {levels: []}\n")
    broken = await run_warroom(
        "worker", env={"WARROOM_TEMPORAL_ADDRESS": address, "WARROOM_POLICY": str(policy)}
    )
    assert_clean_failure(broken, 2, "escalation.levels: List should have at least 1 item")
    assert str(policy) in broken.stderr


async def test_a_worker_with_an_unknown_log_format_stops_at_once_with_the_variable_named() -> None:
    result = await run_warroom(
        "worker", env={"WARROOM_LOG_FORMAT": "pretty", "WARROOM_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    )
    assert_clean_failure(result, 2, "error: WARROOM_LOG_FORMAT='pretty' is not one of: auto, json, console")


async def test_regulator_notified_after_resolution_reaches_the_aftercare_workflow(warroom: Warroom) -> None:
    breach = await declare(warroom, "--security-breach", "--users", "5000")
    await eventually_in_response(warroom, breach)
    resolved = await warroom("resolve", breach, "--by", "tom")
    assert "applied: resolved" in resolved.stdout, resolved.output

    async def closed_with_aftercare() -> bool:
        result = await warroom("status", breach, "--json")
        status = IncidentStatus.model_validate_json(result.stdout) if result.code == 0 else None
        return status is not None and status.phase is Phase.CLOSED and bool(status.aftercare_workflow_id)

    await eventually(closed_with_aftercare)
    recorded = await warroom("regulator-notified", breach, "--reference", "DPA-42", "--by", "lex")
    assert (
        recorded.code == 0
        and "applied: regulatory notification recorded (reference DPA-42)" in recorded.stdout
    )
    again = await warroom("regulator-notified", breach, "--reference", "DPA-42", "--by", "lex")
    assert "ignored: already recorded by lex" in again.stdout or "closed" in again.output
