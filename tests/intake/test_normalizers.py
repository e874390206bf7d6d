"""The pure parts of the intake: dedup-key and event-id rules per format, impact from labels, SNS canonical
form and host check, the correlation decision, the all-resolved rule, settings and credentials parsing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import Headers

from intake.auth import presented_secret
from intake.config import IntakeConfig
from intake.formats import alertmanager, cloudwatch, datadog, pagerduty
from intake.formats.fields import impact_from
from intake.handoff import STATIC_SUMMARY_BYTES, static_summary
from intake.sns import SnsMessage, is_genuine_sns_url, string_to_sign
from tests.intake.conftest import payload_json
from workflows import correlation
from workflows.alert_book import AlertBook
from workflows.correlation import bound, decide, decide_all, record
from workflows.messages.alerts import Alert, AlertStatus
from workflows.messages.correlation import CorrelationInput, RouteBatch, RouteRequest, RoutesTaken


def test_alertmanager_event_ids_ignore_key_order_and_change_with_content() -> None:
    document = payload_json("alertmanager_firing.json")
    reordered = json.loads(json.dumps(document, sort_keys=True))
    first, again = (
        alertmanager.to_alerts(alertmanager.AlertmanagerWebhook.model_validate(document)),
        alertmanager.to_alerts(alertmanager.AlertmanagerWebhook.model_validate(reordered)),
    )
    assert [a.event_id for a in first] == [a.event_id for a in again]
    document["alerts"][0]["status"] = "resolved"
    changed = alertmanager.to_alerts(alertmanager.AlertmanagerWebhook.model_validate(document))
    assert changed[0].event_id != first[0].event_id and changed[1].event_id == first[1].event_id


def test_both_replicas_of_an_ha_alertmanager_pair_share_a_dedup_key() -> None:
    document = payload_json("alertmanager_firing.json")
    replica = document | {"externalURL": "https://alertmanager-1.example.com", "receiver": "other"}
    keys = {
        a.dedup_key for a in alertmanager.to_alerts(alertmanager.AlertmanagerWebhook.model_validate(document))
    }
    keys |= {
        a.dedup_key for a in alertmanager.to_alerts(alertmanager.AlertmanagerWebhook.model_validate(replica))
    }
    assert len(keys) == 1 and keys.pop().startswith("am-")


def test_impact_reads_labels_and_skips_values_that_do_not_parse() -> None:
    impact = impact_from(
        {"users_affected": "5000", "security_breach": "true", "revenue_per_hour": "lots"},
        {"error_rate": "0.07"},
        regions=["eu-west-1", "", "eu-west-1"],
    )
    assert impact.users_affected == 5000 and impact.security_breach and impact.error_rate == 0.07
    assert impact.revenue_per_hour is None and impact.regions == ["eu-west-1"]


def test_pagerduty_trigger_without_dedup_key_gets_a_stable_key_and_no_routing_key() -> None:
    event = payload_json("pagerduty_v2_trigger.json")
    del event["dedup_key"]
    first = pagerduty.to_alerts(pagerduty.PagerDutyEvent.model_validate(event))[0]
    other_key = pagerduty.to_alerts(pagerduty.PagerDutyEvent.model_validate(event | {"routing_key": "k2"}))[0]
    assert first.dedup_key.startswith("pd-") and first.dedup_key == other_key.dedup_key
    assert event["routing_key"] not in first.model_dump_json()
    assert first.status is AlertStatus.FIRING and first.service == "payments-api"
    odd = event | {"payload": event["payload"] | {"custom_details": {"regions": 5, "region": ["x"]}}}
    assert pagerduty.to_alerts(pagerduty.PagerDutyEvent.model_validate(odd))[0].impact.regions == []
    listed = event | {"payload": event["payload"] | {"custom_details": {"regions": ["eu-west-1", 3]}}}
    assert pagerduty.to_alerts(pagerduty.PagerDutyEvent.model_validate(listed))[0].impact.regions == [
        "eu-west-1"
    ]


def test_datadog_titles_statuses_and_keys() -> None:
    default = datadog.DatadogWebhook.model_validate(payload_json("datadog_triggered.json"))
    [alert] = datadog.to_alerts(default)
    assert alert.dedup_key.startswith("datadog-148923551-") and alert.severity_hint == "critical"
    assert alert.service == "checkout" and alert.impact.regions == ["us-east-1"]
    recovered = default.model_copy(update={"title": default.title.replace("Triggered", "Recovered")})
    [resolved] = datadog.to_alerts(recovered)
    assert resolved.status is AlertStatus.RESOLVED and resolved.dedup_key == alert.dedup_key
    rich = default.model_copy(update={"aggregation_key": "abc", "alert_transition": "Warn"})
    assert datadog.to_alerts(rich)[0].dedup_key == "datadog-abc"
    assert datadog.to_alerts(rich)[0].severity_hint == "warning"


def test_cloudwatch_service_region_and_insufficient_data() -> None:
    alarm = cloudwatch.CloudWatchAlarm.model_validate(
        json.loads(payload_json("cloudwatch_sns_alarm.json")["Message"])
    )
    [alert] = cloudwatch.to_alerts(alarm)
    assert alert.dedup_key == alarm.AlarmArn and alert.impact.regions == ["us-east-1"]
    assert alert.service == "checkout-alb-target-5xx-high"
    assert cloudwatch.to_alerts(alarm, "checkout")[0].service == "checkout"
    described = alarm.model_copy(update={"AlarmDescription": "Runbook x. service=payments"})
    assert cloudwatch.to_alerts(described)[0].service == "payments"
    assert cloudwatch.to_alerts(alarm.model_copy(update={"NewStateValue": "INSUFFICIENT_DATA"})) == []
    assert (
        cloudwatch.to_alerts(alarm.model_copy(update={"NewStateValue": "OK"}))[0].status
        is AlertStatus.RESOLVED
    )


def test_only_genuine_sns_hosts_over_https_are_trusted() -> None:
    assert is_genuine_sns_url("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem")
    assert is_genuine_sns_url("https://sns.cn-north-1.amazonaws.com.cn/x.pem")
    for url in (
        "http://sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.io/x.pem",
        "https://evil.io/sns.us-east-1.amazonaws.com/x.pem",
        "https://user@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",
        "https://s3.amazonaws.com/x.pem",
    ):
        assert not is_genuine_sns_url(url), url


def test_sns_string_to_sign_follows_the_aws_canonical_form() -> None:
    message = SnsMessage.model_validate(payload_json("cloudwatch_sns_alarm.json"))
    text = string_to_sign(message).decode()
    assert text.startswith("Message\n{") and text.endswith("Type\nNotification\n")
    assert "\nSubject\nALARM:" in text and "SigningCertURL" not in text
    without_subject = string_to_sign(message.model_copy(update={"Subject": None})).decode()
    assert "Subject" not in without_subject


def test_correlation_joins_within_the_window_and_opens_anew_after_it() -> None:
    state = CorrelationInput(service="checkout", window_seconds=300)
    now = datetime(2025, 3, 18, 14, 0, tzinfo=UTC)
    assert decide(state, RouteRequest(dedup_key="a", source="am"), now).incident_key == "a"
    joined = decide(state, RouteRequest(dedup_key="b", source="dd"), now + timedelta(minutes=4))
    assert joined.incident_key == "a" and joined.correlation and "dd alert b" in joined.correlation
    again = decide(state, RouteRequest(dedup_key="b", source="dd", firing=False), now + timedelta(hours=2))
    assert again.incident_key == "a" and again.correlation is None  # its resolve finds the joined incident
    late = decide(state, RouteRequest(dedup_key="c", source="dd"), now + timedelta(minutes=6))
    assert late.incident_key == "c" and late.correlation is None
    unknown = decide(state, RouteRequest(dedup_key="z", source="dd", firing=False), now)
    assert unknown.incident_key == "z" and "z" not in state.routes


def test_the_last_resolved_alert_is_the_one_that_may_resolve_the_incident() -> None:
    book = AlertBook()
    book.fire("am:1")
    book.fire("am:2")
    book.fire("am:2")
    assert book.resolve("am:9") is False
    assert book.resolve("am:1") is False
    assert book.resolve("am:2") is True and book.firing == [] and book.resolved_count == 2


def test_intake_settings_from_the_environment_never_show_secrets() -> None:
    config = IntakeConfig.from_env(
        {
            "WARROOM_INTAKE_TOKEN": "t1",
            "WARROOM_INTAKE_TOKENS": "t2, t3",
            "WARROOM_INTAKE_ADDRESS": "0.0.0.0:9000",
            "WARROOM_INTAKE_CORRELATION_WINDOW": "0",
            "WARROOM_INTAKE_GRAFANA_HMAC_SECRET": "hmac-secret",
        }
    )
    assert [t.get_secret_value() for t in config.tokens] == ["t1", "t2", "t3"]
    assert (config.host, config.port, config.correlation_window) == ("0.0.0.0", 9000, timedelta(0))
    assert config.routing_keys == config.tokens  # one token is enough to start
    assert "t1" not in repr(config) and "hmac-secret" not in repr(config)
    assert IntakeConfig.from_env({}).correlation_window == timedelta(minutes=5)
    assert IntakeConfig.from_env({}).repeat_window == timedelta(hours=6)
    assert IntakeConfig.from_env({"WARROOM_INTAKE_REPEAT_WINDOW": "0"}).repeat_window == timedelta(0)


def test_credentials_from_bearer_or_basic_auth() -> None:
    basic = base64.b64encode(b"sns:secret").decode()
    user_only = base64.b64encode(b"secret:").decode()
    assert presented_secret(Headers({"authorization": "Bearer abc"})) == "abc"
    assert presented_secret(Headers({"authorization": f"Basic {basic}"})) == "secret"
    assert presented_secret(Headers({"authorization": f"Basic {user_only}"})) == "secret"
    assert presented_secret(Headers({"authorization": "Basic !!!"})) is None
    assert presented_secret(Headers({})) is None


def test_an_incidents_static_summary_is_service_and_summary_clipped_to_whole_characters() -> None:
    alert = Alert(source="generic", dedup_key="k", service="checkout", summary="5xx above 5%\nin eu-west-1")
    assert static_summary(alert) == "checkout: 5xx above 5% in eu-west-1"
    long = static_summary(alert.model_copy(update={"summary": "é" * 500}))
    assert len(long.encode()) <= STATIC_SUMMARY_BYTES + len("…".encode()) and long.endswith("é…")


def test_a_batch_is_decided_in_order_and_a_taken_route_beats_the_routers_memory() -> None:
    state = CorrelationInput(service="checkout", window_seconds=300)
    now = datetime(2025, 3, 18, 14, 0, tzinfo=UTC)
    requests = [RouteRequest(dedup_key=key, source="am") for key in ("a", "b", "c")]
    decided = decide_all(state, RouteBatch(requests=requests), now)
    assert [d.incident_key for d in decided.decisions] == ["a", "a", "a"]
    assert decided.decisions[0].correlation is None and decided.decisions[2].correlation
    # The intake sent "d" to its own incident without the router's answer; a late update must not move it.
    record(state, RoutesTaken(routes={"d": "d"}))
    late = decide_all(state, RouteBatch(requests=[RouteRequest(dedup_key="d", source="am")]), now)
    assert late.decisions[0].incident_key == "d"


def test_the_router_forgets_its_least_recently_used_routes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(correlation, "ROUTES_LIMIT", 3)
    state = CorrelationInput(service="checkout", window_seconds=300)
    now = datetime(2025, 3, 18, 14, 0, tzinfo=UTC)
    for key in ("a", "b", "c"):
        decide_all(state, RouteBatch(requests=[RouteRequest(dedup_key=key, source="am")]), now)
    decide_all(state, RouteBatch(requests=[RouteRequest(dedup_key="a", source="am", firing=False)]), now)
    decide_all(state, RouteBatch(requests=[RouteRequest(dedup_key="d", source="am")]), now)
    assert list(state.routes) == ["c", "a", "d"]  # "b" was the idlest
    monkeypatch.setattr(correlation, "ROUTES_CHARS_LIMIT", 4)  # two routes of one-letter keys
    bound(state)
    assert list(state.routes) == ["a", "d"]
