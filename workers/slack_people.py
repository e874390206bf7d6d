"""Who a Slack member is: the roster's `people.<name>.slack_user_id`, read from the worker's policy file.

The intake's Slack route asks this for every click. The file is re-read when it changes, so adding a person's
Slack id needs no restart, and a file that breaks later keeps the last good roster (the worker's policy
activity behaves the same). A Slack id that two people share names nobody: an approval must never guess.
"""

from __future__ import annotations

import logging
from pathlib import Path

from config.policy_file import DEFAULT_POLICY_FILE, PolicyError, load_policy_file
from workflows.roster import Roster

log = logging.getLogger("warroom.intake.slack")


def people_by_slack_id(roster: Roster) -> dict[str, str]:
    """Slack member id -> person name; ids claimed by more than one person are left out."""
    claims: dict[str, list[str]] = {}
    for name, person in roster.people.items():
        if person.slack_user_id:
            claims.setdefault(person.slack_user_id, []).append(name)
    for slack_id, names in claims.items():
        if len(names) > 1:
            log.warning(
                "slack_user_id %s belongs to %s in the roster: nobody is approved as it", slack_id, names
            )
    return {slack_id: names[0] for slack_id, names in claims.items() if len(names) == 1}


class RosterSlackPeople:
    """`SlackPeople` (intake/slack_approvals.py) over the policy file the worker runs with."""

    def __init__(self, policy_file: Path | None = None) -> None:
        self._path = policy_file or DEFAULT_POLICY_FILE
        self._people = people_by_slack_id(load_policy_file(self._path).roster)  # a bad file fails at start
        self._read_mtime = self._mtime()

    def person_for(self, slack_user_id: str) -> str | None:
        self._refresh()
        return self._people.get(slack_user_id)

    def _mtime(self) -> float | None:
        try:
            return self._path.stat().st_mtime
        except OSError:
            return None

    def _refresh(self) -> None:
        mtime = self._mtime()
        if mtime is None or mtime == self._read_mtime:
            return
        try:
            self._people = people_by_slack_id(load_policy_file(self._path).roster)
        except PolicyError as error:
            log.warning(
                "policy file changed but cannot be read; Slack ids of the last good one apply: %s", error
            )
        self._read_mtime = mtime
