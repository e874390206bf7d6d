"""The workflow id a stored incident history was recorded under.

Replay must use it: the post-mortem review's child id is derived from the incident's occurrence (its workflow
id and opening time), so replaying under another id commands a different child and fails as nondeterministic.
The id is read back from that child's start event (`review-<workflow id>@<opened>`); histories without one
replay under their file name as before."""

from __future__ import annotations

import json
from pathlib import Path

REVIEW_PREFIX = "review-"


def recorded_workflow_id(path: Path, text: str) -> str:
    for event in json.loads(text).get("events", []):
        started = event.get("startChildWorkflowExecutionInitiatedEventAttributes")
        child = started.get("workflowId", "") if started else ""
        if child.startswith(REVIEW_PREFIX) and "@" in child:
            return child[len(REVIEW_PREFIX) :].rsplit("@", 1)[0]
    return path.stem
