"""The worker's containment adapters file: named by `WARROOM_CONTAINMENT` (parsed by activities/contain_registry.py,
which knows each adapter's options). Here: the variable and the error a human must fix, so the CLI can report
a broken file like a broken channels file (exit 2, the file, the adapter and the field named)."""

from __future__ import annotations

CONTAINMENT_VARIABLE = "WARROOM_CONTAINMENT"

ENVIRONMENT_VARIABLES = {
    CONTAINMENT_VARIABLE: "YAML file of containment adapters (default: none; every action fails with the reason)",
}


class ContainmentConfigError(ValueError):
    """An adapters file a human must fix: the message names the file, the adapter and the field."""
