"""load_policy: the worker's policy, read once per incident so the snapshot is pinned in its history."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
from config.settings import Settings
from workflows.messages.activities import LoadPolicyRequest
from workflows.policy import Policy


class PolicyActivities:
    def __init__(self, settings: Settings) -> None:
        """Fail at worker start on a broken policy file (PolicyError names the file and the path in it),
        not at the first incident; each incident still reads the file afresh when it opens."""
        self._settings = settings
        load_policy_file(self._path)

    @property
    def _path(self) -> Path:
        return self._settings.policy_file or DEFAULT_POLICY_FILE

    @activity.defn(name="load_policy")
    async def load_policy(self, request: LoadPolicyRequest) -> Policy:
        return load_policy_file(self._path)
