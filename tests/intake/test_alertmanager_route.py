"""Alertmanager webhook end to end: the shared payload with the real sender's headers, through a real
uvicorn server, into an incident on the dev server; repeats, resolves and late alerts."""

from __future__ import annotations

from typing import Any

from intake.formats.alertmanager import group_dedup_key
from tests.conftest import events
from tests.intake.conftest import Intake, payload_json, signalled_alerts, unique_group
from workflows.messages.common import Phase
from workflows.messages.status import EventKind

SENDER = {"User-Agent": "Alertmanager/0.28.1"}


def am_key(document: dict[str, Any]) -> str:
    return group_dedup_key("am", document["groupKey"])


def resolved(document: dict[str, Any], *indexes: int) -> dict[str, Any]:
    alerts = [
        {**alert, "status": "resolved", "endsAt": "2025-03-18T14:30:00Z"} if i in indexes else alert
        for i, alert in enumerate(document["alerts"])
    ]
    return {**document, "alerts": alerts, "status": "resolved" if len(indexes) == len(alerts) else "firing"}


async def test_a_firing_group_opens_one_incident_with_service_hint_key_and_timeline(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    answer = await intake.post("/v1/alerts/alertmanager", group, SENDER)
    assert answer.status_code == 202, answer.text
    key = am_key(group)
    assert answer.json()["incidents"] == [{"incident_id": f"incident-{key}", "alerts": 3}]

    status = await intake.status_when(key, lambda s: s.alert_count == 3 and bool(events(s, EventKind.PAGED)))
    assert status.service == "checkout"
    alerts = events(status, EventKind.ALERT)
    assert {event.details["dedup_key"] for event in alerts} == {key}
    assert {event.details["severity_hint"] for event in alerts} == {"critical"}
    assert {event.summary for event in alerts} == {
        "firing: Checkout 5xx ratio above 5% in us-east-1",
        "firing: Checkout 5xx ratio above 5% in eu-west-1",
    }
    assert status.severity is not None and status.phase is Phase.RESPONSE
    assert len(events(status, EventKind.PAGED)) == 1
    # The workflow list shows only what was known at start: no severity (it was decided later).
    summary = await (await intake.handle(key).describe()).static_summary()
    assert summary in {f"checkout: {event.summary.removeprefix('firing: ')}" for event in alerts}


async def test_a_byte_identical_resend_is_dropped_at_the_door_without_a_signal(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    key = am_key(group)
    first = await intake.post("/v1/alerts/alertmanager", group, SENDER)
    assert first.status_code == 202 and first.json()["repeats"] == []
    await intake.status_when(key, lambda s: len(events(s, EventKind.PAGED)) == 1)
    before = await intake.handle(key).describe()
    for _ in range(3):  # Alertmanager's repeat_interval
        again = await intake.post("/v1/alerts/alertmanager", group, SENDER)
        assert again.status_code == 202
        assert again.json()["incidents"] == [] and "a repeat" in again.json()["note"]
        assert again.json()["repeats"] == [{"incident_id": f"incident-{key}", "alerts": 3}]
    # Before: every repeat was a signal (12 in all) the incident then recognised; now none reaches it.
    assert len(await signalled_alerts(intake.handle(key))) == 3
    assert (await intake.handle(key).describe()).run_id == before.run_id
    status = await intake.status(key)
    assert status.alert_count == 3 and len(events(status, EventKind.PAGED)) == 1


async def test_a_resolve_and_a_re_fire_after_it_still_go_through_the_door(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    key = am_key(group)
    assert (await intake.post("/v1/alerts/alertmanager", group, SENDER)).status_code == 202
    # One alert resolves: its resolve goes through, the two unchanged alerts of the group are repeats.
    answer = await intake.post("/v1/alerts/alertmanager", resolved(group, 0), SENDER)
    assert answer.json()["incidents"] == [{"incident_id": f"incident-{key}", "alerts": 1}]
    assert answer.json()["repeats"] == [{"incident_id": f"incident-{key}", "alerts": 2}]
    # It fires again, byte-identical to its first delivery: not a repeat of the last one, so it goes through.
    answer = await intake.post("/v1/alerts/alertmanager", group, SENDER)
    assert answer.json()["incidents"] == [{"incident_id": f"incident-{key}", "alerts": 1}]
    assert [alert.status.value for alert in await signalled_alerts(intake.handle(key), at_least=5)][3:] == [
        "resolved",
        "firing",
    ]
    # A human resolves the incident while the alerts still fire: the next repeat opens a new incident.
    first_run = (await intake.handle(key).describe()).run_id
    await intake.handle(key).signal("resolve", {"by": "tester"})
    await intake.handle(key).result()
    reopened = await intake.post("/v1/alerts/alertmanager", group, SENDER)
    assert reopened.json()["incidents"] == [{"incident_id": f"incident-{key}", "alerts": 3}]
    assert (await intake.handle(key).describe()).run_id != first_run
    await intake.status_when(key, lambda s: bool(events(s, EventKind.PAGED)))
    await intake.handle(key).signal("resolve", {"by": "tester"})


async def test_resolving_every_alert_of_the_group_resolves_the_incident(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    key = am_key(group)
    assert (await intake.post("/v1/alerts/alertmanager", group, SENDER)).status_code == 202
    await intake.status_when(key, lambda s: s.phase is Phase.RESPONSE)

    mixed = await intake.post("/v1/alerts/alertmanager", resolved(group, 0, 1), SENDER)
    assert mixed.status_code == 202
    status = await intake.status_when(key, lambda s: s.alert_count == 5)
    assert status.resolved_by is None and status.phase is Phase.RESPONSE  # one alert still fires

    last = await intake.post("/v1/alerts/alertmanager", resolved(group, 0, 1, 2), SENDER)
    assert last.status_code == 202
    await intake.handle(key).result()
    status = await intake.status(key)
    assert status.phase is Phase.CLOSED
    assert status.resolved_by == "alertmanager (all alerts resolved)"
    assert events(status, EventKind.RESOLVED)


async def test_a_resolve_for_an_incident_that_does_not_exist_opens_nothing(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    answer = await intake.post("/v1/alerts/alertmanager", resolved(group, 0, 1, 2), SENDER)
    assert answer.status_code == 202, answer.text
    assert answer.json()["incidents"] == [] and answer.json()["not_open"] == [f"incident-{am_key(group)}"]
    assert "nothing was opened" in answer.json()["note"]
    assert not await intake.exists(am_key(group))


async def test_zero_ends_at_and_truncated_alerts_are_read(intake: Intake) -> None:
    group = unique_group(payload_json("alertmanager_firing.json")) | {"truncatedAlerts": 7}
    key = am_key(group)
    assert (await intake.post("/v1/alerts/alertmanager", group, SENDER)).status_code == 202
    await intake.status_when(key, lambda s: s.alert_count == 3)
    alerts = await signalled_alerts(intake.handle(key))
    assert [alert.truncated_alerts for alert in alerts] == [7, 7, 7]
    assert [alert.ends_at for alert in alerts] == [None, None, None]  # zero endsAt = not ended, not year 1
    assert {alert.fingerprint for alert in alerts} == {
        "001c176ab9b27767",
        "0af55d38b87bbf42",
        "6f3c140d250ccc99",
    }


async def test_an_alert_after_the_incident_closed_opens_a_new_incident_under_the_same_id(
    intake: Intake,
) -> None:
    group = unique_group(payload_json("alertmanager_firing.json"))
    key = am_key(group)
    assert (await intake.post("/v1/alerts/alertmanager", group, SENDER)).status_code == 202
    first_run = (await intake.handle(key).describe()).run_id
    assert (await intake.post("/v1/alerts/alertmanager", resolved(group, 0, 1, 2), SENDER)).status_code == 202
    await intake.handle(key).result()

    # Still firing later (e.g. a flapping alert): the closed incident stays closed, a new one opens.
    again = await intake.post("/v1/alerts/alertmanager", group, SENDER)
    assert again.status_code == 202
    second = await intake.handle(key).describe()
    assert second.run_id != first_run
    status = await intake.status_when(key, lambda s: bool(events(s, EventKind.PAGED)))
    assert status.alert_count == 3 and len(events(status, EventKind.PAGED)) == 1
    await intake.handle(key).signal("resolve", {"by": "tester"})
    await intake.handle(key).result()
