"""`warroom policy check|explain` through the real entry point, as an operator or CI runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.policy_file import DEFAULT_POLICY_FILE

REPO = Path(__file__).parents[2]
BROKEN = """
roster:
  people: {alice: {}, bob: {}}
  rotations:
    primary:
      shifts: [{person: alice, end: "12:00"}]
  teams:
    payments: {services: [checkout], oncall: [rotation:primary], tech_lead: bob}
escalation:
  fallback_targets: [bob]
  levels:
    - {name: on-call, targets: [team:oncall]}
    - {name: management, targets: [team:director]}
    - {name: executive, targets: [bob]}
"""


def warroom(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WARROOM_")}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "policy", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )


def test_check_passes_the_shipped_policy() -> None:
    result = warroom("check", DEFAULT_POLICY_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith(f"OK: {DEFAULT_POLICY_FILE} (")
    assert "error " not in result.stdout


def test_check_fails_a_policy_with_an_empty_level_and_a_rotation_gap(tmp_path: Path) -> None:
    policy = tmp_path / "broken.yaml"
    policy.write_text(BROKEN)
    result = warroom("check", policy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "error    roster.rotations.primary.shifts: nobody on call mon 12:00-24:00, tue 12:00-24:00, "
        "wed 12:00-24:00, thu 12:00-24:00, fri 12:00-24:00, sat 12:00-24:00, sun 12:00-24:00 "
        "(fix: add shifts covering these hours (UTC); a shift with no end runs to 24:00)"
    ) in lines
    assert (
        "error    escalation.levels[0].targets: level 1 (on-call) resolves to nobody for team payments "
        "(e.g. mon 12:00 UTC) (fix: add a person or function:X to the level (only fallback_targets would be paged))"
    ) in lines
    assert lines[-1].startswith(f"FAILED: {policy} (")


def test_check_reports_invalid_yaml_with_the_file_and_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("escalation: [unclosed\n")
    result = warroom("check", policy)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {policy}: not valid YAML")
    assert "Traceback" not in result.stderr


def test_check_reports_schema_errors_with_the_path_inside_the_file(tmp_path: Path) -> None:
    policy = tmp_path / "schema.yaml"
    policy.write_text("escalation:\n  levels: []\n")
    result = warroom("check", policy)
    assert result.returncode == 2
    assert (
        f"error: {policy}: invalid policy\n  escalation.levels: List should have at least 1 item"
        in result.stderr
    )


def test_explain_prints_classification_team_roles_and_timeline() -> None:
    result = warroom(
        "explain",
        DEFAULT_POLICY_FILE,
        "--service",
        "checkout",
        "--users",
        "50000",
        "--revenue-per-hour",
        "250000",
        "--at",
        "2026-11-27T09:00",
        "--hours",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "severity: SEV-2",
        "  SEV-2  users_affected: 50,000 users affected",
        "  SEV-2  revenue_per_hour: $250,000/h revenue at risk",
        "team: payments",
        "roles at 2026-11-27 09:00 UTC: incident_commander judy, tech_lead carol, communications peggy, "
        "business_liaison rupert",
        "timeline if nobody acknowledges (next 1h):",
        "+00:00:00  2026-11-27 09:00 UTC  page level 1 (on-call) -> alice, carol, dave",
        "+00:30:00  2026-11-27 09:30 UTC  page level 2 (management) if nobody acknowledges -> erin, frank",
        "+00:30:00  2026-11-27 09:30 UTC  notify customer support (within 30m) -> mallory",
        "+01:00:00  2026-11-27 10:00 UTC  page level 3 (executive) if nobody acknowledges -> grace, heidi, rupert",
        "+01:00:00  2026-11-27 10:00 UTC  status update due: nudge communications -> peggy",
    ]


def test_explain_with_an_acknowledgement_and_a_declared_severity() -> None:
    result = warroom(
        "explain",
        DEFAULT_POLICY_FILE,
        "--service",
        "search",
        "--severity",
        "sev-1",
        "--at",
        "2026-11-28T13:00:00+00:00",
        "--hours",
        "0.5",
        "--ack-after",
        "10m",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "severity: SEV-1 (declared; the matrix says SEV-3)"
    assert "+00:10:00  2026-11-28 13:10 UTC  acknowledged" in lines
    assert "timeline if acknowledged after 10m (next 30m):" in lines
    assert not any("page level 2" in line for line in lines)


def test_explain_rejects_a_bad_option_with_its_name_and_exit_2() -> None:
    result = warroom("explain", DEFAULT_POLICY_FILE, "--service", "checkout", "--at", "yesterday")
    assert result.returncode == 2
    assert "'--at'" in result.stderr and "not an ISO 8601 date-time" in result.stderr
    result = warroom("explain", DEFAULT_POLICY_FILE, "--service", "checkout", "--user-scope", "everyone")
    assert result.returncode == 2
    assert "'--user-scope'" in result.stderr


def test_check_refuses_zero_and_negative_durations_and_says_why(tmp_path: Path) -> None:
    policy = tmp_path / "zero.yaml"
    policy.write_text("status_updates:\n  every: {SEV-1: 0s}\nrouting:\n  delivery_budget: -30\n")
    result = warroom("check", policy)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        "  status_updates.every.SEV-1: Value error, must be longer than 0s, got 0s",
        "  routing.delivery_budget: Value error, must be longer than 0s, got -30s",
    ]


def test_check_explains_the_per_severity_form_of_an_old_open_escalation(tmp_path: Path) -> None:
    policy = tmp_path / "old.yaml"
    policy.write_text(
        "escalation:\n  open_escalations:\n    - {level: 3, after: 4h, immediately_for: [SEV-1]}\n"
    )
    result = warroom("check", policy)
    assert result.returncode == 2
    assert (
        "escalation.open_escalations.0: Value error, 'after' takes one duration per severity now"
        in result.stderr
    )
