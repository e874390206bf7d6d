"""load_policy: the worker's policy, read once per incident so the snapshot is pinned in its history; and
load_people: the roster and routing a months-long action item reaches people with, read before each message.

An incident must always page someone: when the file is missing or broken after the worker started, the
answer is the policy the worker validated at start, with a warning the incident records in its timeline
(and the worker logs and counts). Retrying the read instead would hold every new incident until a human
fixes the file, while alerts keep being accepted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from temporalio import activity

from config.policy_file import DEFAULT_POLICY_FILE, PolicyError, load_policy_file, shared_policy
from config.settings import Settings
from workflows.messages.activities import (
    LoadedPeople,
    LoadedPolicy,
    LoadPeopleRequest,
    LoadPolicyRequest,
    People,
)
from workflows.policy import Policy

FALLBACK_METRIC = "warroom_policy_fallbacks"


class PolicyActivities:
    def __init__(self, settings: Settings) -> None:
        """Fail at worker start on a broken policy file (PolicyError names the file and the path in it),
        not at the first incident; the policy validated here is the fallback for the worker's lifetime."""
        self._settings = settings
        self._validated_at_start = load_policy_file(self._path)
        self._people: tuple[Policy, People, str] | None = None

    @property
    def _path(self) -> Path:
        return self._settings.policy_file or DEFAULT_POLICY_FILE

    @activity.defn(name="load_policy")
    async def load_policy(self, request: LoadPolicyRequest) -> LoadedPolicy:
        return self._current(request.incident_id)

    @activity.defn(name="load_people")
    async def load_people(self, request: LoadPeopleRequest) -> LoadedPeople:
        """The roster, routing and page channel an action item reaches people with, as the file has them now;
        only the digest when they are what the item already holds. An unusable file (logged and counted)
        leaves the item with the people it holds: unlike a new incident it has some, and the start-up
        policy's may be older, so a file broken and mended would flip its people back and forth."""
        loaded = self._current(request.item_id)
        if loaded.warning is not None:
            return LoadedPeople(digest=request.known, people=None)
        policy = loaded.policy
        if self._people is None or self._people[0] is not policy:  # the file changed: hash its people once
            people = People(roster=policy.roster, routing=policy.routing, page_channel=policy.page_channel)
            self._people = (policy, people, people_digest(people))
        _, people, digest = self._people
        return LoadedPeople(digest=digest, people=None if digest == request.known else people)

    def _current(self, workflow_id: str) -> LoadedPolicy:
        try:
            # Shared, not copied: the result is serialized at once, and nothing here changes it.
            return LoadedPolicy(policy=shared_policy(self._path))
        except PolicyError as error:
            fallback = self._validated_at_start
            warning = f"{error}\nusing the policy '{fallback.name}' this worker validated at start instead"
            activity.logger.warning("policy file unusable for %s: %s", workflow_id, warning)
            activity.metric_meter().create_counter(
                FALLBACK_METRIC,
                "policy reads that found the file unusable (incidents got the start-up policy)",
            ).add(1)
            return LoadedPolicy(policy=fallback, warning=warning)


def people_digest(people: People) -> str:
    """Stable across workers and restarts: the JSON of the people, hashed."""
    return hashlib.sha256(people.model_dump_json().encode()).hexdigest()[:32]
