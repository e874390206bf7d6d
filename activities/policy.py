"""load_policy: the worker's policy, read once per incident so the snapshot is pinned in its history."""

from __future__ import annotations

from temporalio import activity

from config.policy_file import DEFAULT_POLICY_FILE, load_policy_file
from config.settings import Settings
from workflows.messages import LoadPolicyRequest
from workflows.policy import Policy


class PolicyActivities:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @activity.defn(name="load_policy")
    async def load_policy(self, request: LoadPolicyRequest) -> Policy:
        return load_policy_file(self._settings.policy_file or DEFAULT_POLICY_FILE)
