"""Who can be paged: people with their contacts, teams with the services they own and their chain of command.

Contacts are addresses, not secrets (an email address, a Slack member id); channel credentials stay with the
worker. A person's `channels` lists the channels to try for them, in fallback order.
"""

from __future__ import annotations

from pydantic import Field

from workflows.messages import Contract


class Person(Contract):
    email: str | None = None
    slack_user_id: str | None = Field(default=None, description="for @-mentions in Slack messages")
    phone: str | None = None
    channels: list[str] = Field(default_factory=list, description="channels to reach this person, in order")


class Team(Contract):
    services: list[str] = Field(default_factory=list, description="services this team owns")
    oncall: list[str] = Field(default_factory=list, description="on-call rotation, primary first")
    tech_lead: str | None = None
    service_owner: str | None = None
    engineering_manager: str | None = None
    director: str | None = None


class Roster(Contract):
    people: dict[str, Person] = Field(default_factory=dict)
    teams: dict[str, Team] = Field(default_factory=dict)

    def team_of(self, service: str | None) -> str | None:
        """The team that owns a service, if any."""
        return next((name for name, team in self.teams.items() if service in team.services), None)
