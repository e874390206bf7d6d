"""Who can be paged: people with contacts, rotations with shifts, teams with their chain of command, functions.

Contacts are addresses, not secrets (an email address, a Slack member id); channel credentials stay with the
worker. Targets in the policy are *references* resolved here, at the moment of paging:

    alice                      a person (or any literal name)
    rotation:payments-primary  whoever is on shift now
    team:tech_lead             the incident's owning team's tech lead (also oncall, service_owner, ...)
    cross_team:tech_lead       that role in every *other* team the incident touches
    function:compliance        a named group (customer_support, executives, compliance, ...)
    role:incident_commander    whoever holds that incident role now

All times are UTC so resolution stays deterministic inside the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Literal

from pydantic import Field, model_validator

from workflows.messages.common import Contract

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TEAM_FIELDS = ("oncall", "tech_lead", "service_owner", "engineering_manager", "director")


class Person(Contract):
    email: str | None = None
    slack_user_id: str | None = Field(
        default=None,
        description="the Slack member id (U...): @-mentions, and who clicked Approve / Reject in Slack",
    )
    phone: str | None = None
    channels: list[str] = Field(default_factory=list, description="channels to reach this person, in order")
    manager: str | None = Field(
        default=None, description="who hears about this person's overdue action items (a person's name)"
    )


class Shift(Contract):
    person: str = Field(min_length=1)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: time = time(0, 0)
    end: time | None = Field(default=None, description="exclusive; empty means end of day (24:00)")

    @model_validator(mode="after")
    def _end_after_start(self) -> Shift:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"shift of {self.person} ends ({self.end}) before it starts ({self.start})")
        return self

    def covers(self, moment: datetime) -> bool:
        if WEEKDAYS[moment.weekday()] not in self.days:
            return False
        clock = moment.time().replace(tzinfo=None)
        return self.start <= clock and (self.end is None or clock < self.end)


class Rotation(Contract):
    """Shifts in UTC; the first shift covering a moment is on call."""

    shifts: list[Shift] = Field(min_length=1)

    def on_call(self, moment: datetime) -> str | None:
        return next((shift.person for shift in self.shifts if shift.covers(moment)), None)


class Team(Contract):
    services: list[str] = Field(default_factory=list, description="services this team owns")
    oncall: list[str] = Field(default_factory=list, description="people or rotation:NAME, primary first")
    tech_lead: str | None = None
    service_owner: str | None = None
    engineering_manager: str | None = None
    director: str | None = None


class Roster(Contract):
    people: dict[str, Person] = Field(default_factory=dict)
    rotations: dict[str, Rotation] = Field(default_factory=dict)
    teams: dict[str, Team] = Field(default_factory=dict)
    functions: dict[str, list[str]] = Field(
        default_factory=dict, description="named groups: customer_support, executives, compliance, ..."
    )

    def manager_of(self, person: str, service: str | None = None) -> str | None:
        """The person's own manager, else the engineering manager of the team owning `service`."""
        spec = self.people.get(person)
        if spec is not None and spec.manager:
            return spec.manager
        team = self.teams.get(self.team_of(service) or "")
        manager = team.engineering_manager if team else None
        return manager if manager != person else None

    def team_of(self, service: str | None) -> str | None:
        """The team that owns a service, if any."""
        return next((name for name, team in self.teams.items() if service in team.services), None)

    def resolve(
        self,
        reference: str,
        *,
        team: str | None,
        other_teams: list[str],
        roles: dict[str, str],
        moment: datetime,
        depth: int = 0,
    ) -> list[str]:
        """The people a reference means right now; an empty list when it resolves to nobody."""
        kind, _, name = reference.partition(":")
        if not name:
            return [reference]
        if depth > 4:
            return []

        def again(inner: str) -> list[str]:
            return self.resolve(
                inner, team=team, other_teams=other_teams, roles=roles, moment=moment, depth=depth + 1
            )

        if kind == "rotation":
            rotation = self.rotations.get(name)
            person = rotation.on_call(moment) if rotation else None
            return [person] if person else []
        if kind == "team":
            return self._team_field(team, name, again)
        if kind == "cross_team":
            return [person for other in other_teams for person in self._team_field(other, name, again)]
        if kind == "function":
            return [person for member in self.functions.get(name, []) for person in again(member)]
        if kind == "role":
            return [roles[name]] if name in roles else []
        return [reference]

    def _team_field(self, team: str | None, field: str, again: Callable[[str], list[str]]) -> list[str]:
        spec = self.teams.get(team or "")
        if spec is None or field not in TEAM_FIELDS:
            return []
        value = getattr(spec, field)
        members = value if isinstance(value, list) else [value] if value else []
        resolved: list[str] = []
        for member in members:
            resolved += again(member)
        return resolved
