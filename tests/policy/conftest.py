"""Small policies built in the tests: a base that lints clean, and a helper to change one thing in it."""

from __future__ import annotations

import copy
from typing import Any

from workflows.policy import Policy

BASE: dict[str, Any] = {
    "name": "small",
    "roster": {
        "people": {name: {"email": f"{name}@example.com"} for name in ("alice", "bob", "carol", "dave")},
        "rotations": {
            "payments-primary": {"shifts": [{"person": "alice"}]},
            "incident-commander": {"shifts": [{"person": "carol"}]},
            "communications": {"shifts": [{"person": "bob"}]},
        },
        "teams": {
            "payments": {
                "services": ["checkout"],
                "oncall": ["rotation:payments-primary"],
                "tech_lead": "bob",
                "service_owner": "bob",
                "engineering_manager": "carol",
                "director": "carol",
            }
        },
        "functions": {
            "executives": ["dave"],
            "business_stakeholders": ["dave"],
            "customer_support": ["dave"],
            "compliance": ["dave"],
            "business_liaison": ["dave"],
        },
    },
    "escalation": {"fallback_targets": ["carol"]},
}


def small_policy(**changes: Any) -> Policy:
    """The base policy with top-level sections merged one level deep (roster.teams replaces roster.teams)."""
    document = copy.deepcopy(BASE)
    for section, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(section), dict):
            document[section] = {**document[section], **value}
        else:
            document[section] = value
    return Policy.model_validate(document)


def with_roster(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE["roster"]), **changes}
