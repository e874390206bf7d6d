"""Incidents whose pages travel over real channels: a policy with routing, a worker with those channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.settings import Settings
from tests.conftest import write_policy


def routed_settings(
    settings: Settings, tmp_path: Path, routing: dict[str, Any], people: dict[str, Any] | None = None
) -> Settings:
    """Page `alice` at level 1 only (nothing escalates during a test), route as given, retry fast."""
    policy = {
        "name": "notify-test",
        "escalation": {
            "levels": [{"name": "on-call", "targets": ["alice"]}],
            "final_level_repeats": 0,
            "open_escalations": [],
            "cross_team_level": None,
        },
        "roster": {"people": people or {"alice": {"email": "alice@example.com"}}},
        "routing": {"retry_initial_seconds": 0.05, **routing},
    }
    return settings.model_copy(update={"policy_file": write_policy(tmp_path / "policy.yaml", policy)})
