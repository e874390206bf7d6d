"""Grafana, CloudWatch via SNS, Datadog, PagerDuty v2 and generic JSON end to end: each shared payload with
its sender's headers, into an incident with the right service, severity hint, dedup key and timeline."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from uuid import uuid4

from intake.formats.alertmanager import group_dedup_key
from intake.formats.datadog import DatadogWebhook, dedup_key_of
from tests.conftest import events
from tests.intake.conftest import GRAFANA_SECRET, Intake, SnsSigner, payload, payload_json, unique_group
from workflows.messages.common import Phase
from workflows.messages.status import EventKind


def grafana_headers(body: bytes, secret: str = GRAFANA_SECRET, sent: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if sent is None else sent))
    signature = hmac.new(secret.encode(), f"{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Grafana-Alerting-Signature": signature, "X-Grafana-Alerting-Signature-Timestamp": timestamp}


async def test_grafana_with_a_valid_hmac_opens_an_incident(intake: Intake) -> None:
    group = unique_group(payload_json("grafana_firing.json"))
    body = json.dumps(group).encode()
    answer = await intake.post("/v1/alerts/grafana", body, grafana_headers(body))
    assert answer.status_code == 202, answer.text
    key = group_dedup_key("grafana", group["groupKey"])
    status = await intake.status_when(key, lambda s: s.alert_count == 2)
    assert status.service == "inventory-db"
    alert = events(status, EventKind.ALERT)[0]
    assert alert.actor == "grafana" and alert.details["severity_hint"] == "critical"


async def test_grafana_with_a_wrong_or_missing_hmac_is_refused_and_opens_nothing(intake: Intake) -> None:
    group = unique_group(payload_json("grafana_firing.json"))
    body = json.dumps(group).encode()
    wrong = await intake.post("/v1/alerts/grafana", body, grafana_headers(body, "not-the-secret"))
    assert wrong.status_code == 403 and wrong.json()["problems"][0]["field"] == "X-Grafana-Alerting-Signature"
    missing = await intake.post("/v1/alerts/grafana", body)
    assert missing.status_code == 401
    tampered = await intake.post("/v1/alerts/grafana", body.replace(b"97.4", b"12.0"), grafana_headers(body))
    assert tampered.status_code == 403
    replayed = await intake.post("/v1/alerts/grafana", body, grafana_headers(body, sent=time.time() - 3600))
    assert replayed.status_code == 403
    assert replayed.json()["problems"][0]["field"] == "X-Grafana-Alerting-Signature-Timestamp"
    assert not await intake.exists(group_dedup_key("grafana", group["groupKey"]))


def sns_headers(message: dict[str, Any]) -> dict[str, str]:
    return {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-message-id": message["MessageId"],
        "x-amz-sns-topic-arn": message["TopicArn"],
    }


def alarm_notification(
    state: str, alarm_arn: str, changed: str = "2025-03-18T14:04:12.557+0000"
) -> dict[str, Any]:
    envelope = payload_json("cloudwatch_sns_alarm.json")
    alarm = json.loads(envelope["Message"]) | {
        "AlarmArn": alarm_arn, "NewStateValue": state, "StateChangeTime": changed,
    }  # fmt: skip
    return envelope | {"Message": json.dumps(alarm), "MessageId": str(uuid4())}


async def test_cloudwatch_alarm_via_signed_sns_opens_and_ok_resolves(
    intake: Intake, sns_signer: SnsSigner
) -> None:
    arn = f"arn:aws:cloudwatch:us-east-1:482113905716:alarm:checkout-5xx-{uuid4()}"
    alarm = sns_signer.sign(alarm_notification("ALARM", arn), version="1")
    answer = await intake.post("/v1/alerts/cloudwatch?service=checkout", alarm, sns_headers(alarm))
    assert answer.status_code == 202, answer.text
    status = await intake.status_when(arn, lambda s: s.phase is Phase.RESPONSE)
    assert status.service == "checkout"
    assert events(status, EventKind.ALERT)[0].details["dedup_key"] == arn
    assert sns_signer.fetched == ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"]

    ok = sns_signer.sign(alarm_notification("OK", arn, "2025-03-18T14:20:00.000+0000"), version="2")
    assert (await intake.post("/v1/alerts/cloudwatch", ok, sns_headers(ok))).status_code == 202
    await intake.handle(arn).result()
    assert (await intake.status(arn)).resolved_by == "cloudwatch (all alerts resolved)"


async def test_cloudwatch_insufficient_data_opens_nothing(intake: Intake, sns_signer: SnsSigner) -> None:
    arn = f"arn:aws:cloudwatch:us-east-1:482113905716:alarm:quiet-{uuid4()}"
    message = sns_signer.sign(alarm_notification("INSUFFICIENT_DATA", arn))
    answer = await intake.post("/v1/alerts/cloudwatch", message, sns_headers(message))
    assert answer.status_code == 202 and "INSUFFICIENT_DATA opens nothing" in answer.json()["note"]
    assert not await intake.exists(arn)


async def test_sns_with_a_bad_signature_or_a_foreign_certificate_url_is_refused(
    intake: Intake, sns_signer: SnsSigner
) -> None:
    arn = f"arn:aws:cloudwatch:us-east-1:482113905716:alarm:forged-{uuid4()}"
    forged = sns_signer.sign(alarm_notification("ALARM", arn))
    forged["Message"] = forged["Message"].replace("ALARM", "ALARM ")  # changed after signing
    refused = await intake.post("/v1/alerts/cloudwatch", forged, sns_headers(forged))
    assert refused.status_code == 403 and refused.json()["problems"][0]["field"] == "Signature"

    # The real payload's signature is not ours: refused too.
    real = payload("cloudwatch_sns_alarm.json")
    assert (
        await intake.post("/v1/alerts/cloudwatch", real, sns_headers(json.loads(real)))
    ).status_code == 403

    for evil in ("https://evil.example.com/cert.pem", "http://sns.us-east-1.amazonaws.com/x.pem",
                 "https://sns.us-east-1.amazonaws.com.evil.io/x.pem"):  # fmt: skip
        message = sns_signer.sign(alarm_notification("ALARM", arn)) | {"SigningCertURL": evil}
        answer = await intake.post("/v1/alerts/cloudwatch", message, sns_headers(message))
        assert answer.status_code == 403 and answer.json()["problems"][0]["field"] == "SigningCertURL"
    stale = sns_signer.sign(alarm_notification("ALARM", arn), fresh=False)  # the payload's 2025 Timestamp
    answer = await intake.post("/v1/alerts/cloudwatch", stale, sns_headers(stale))
    assert answer.status_code == 403 and answer.json()["problems"][0]["field"] == "Timestamp"
    assert all(url.startswith("https://sns.us-east-1.amazonaws.com/") for url in sns_signer.fetched)
    assert not await intake.exists(arn)


async def test_sns_subscription_is_confirmed_only_to_a_genuine_sns_host(
    intake: Intake, sns_signer: SnsSigner
) -> None:
    confirmation = sns_signer.sign(payload_json("cloudwatch_sns_subscription_confirmation.json"))
    answer = await intake.post("/v1/alerts/cloudwatch", confirmation, sns_headers(confirmation))
    assert answer.status_code == 200 and answer.json()["status"] == "confirmed"
    assert sns_signer.confirmed == [confirmation["SubscribeURL"]]

    evil = sns_signer.sign(confirmation | {"SubscribeURL": "https://attacker.example.com/?Action=Confirm"})
    refused = await intake.post("/v1/alerts/cloudwatch", evil, sns_headers(evil))
    assert refused.status_code == 400 and refused.json()["problems"][0]["field"] == "SubscribeURL"
    assert sns_signer.confirmed == [confirmation["SubscribeURL"]]


async def test_sns_accepts_basic_auth_in_the_url(intake: Intake, sns_signer: SnsSigner) -> None:
    arn = f"arn:aws:cloudwatch:us-east-1:482113905716:alarm:basic-{uuid4()}"
    alarm = sns_signer.sign(alarm_notification("ALARM", arn))
    url = intake.url.replace("http://", "http://sns:intake-test-token-5f1d0c2e@")
    answer = await intake.http.post(f"{url}/v1/alerts/cloudwatch", json=alarm, headers=sns_headers(alarm))
    assert answer.status_code == 202, answer.text
    await intake.status_when(arn, lambda s: s.alert_count == 1)
    await intake.handle(arn).signal("resolve", {"by": "tester"})


def datadog(title: str, monitor: str) -> dict[str, Any]:
    body = payload_json("datadog_triggered.json")
    return body | {"title": title, "body": body["body"].replace("148923551", monitor), "id": str(uuid4())}


async def test_datadog_default_template_opens_and_recovered_resolves(intake: Intake) -> None:
    monitor = str(uuid4().int)[:9]
    scope = "{env:prod,region:us-east-1,service:checkout}"
    triggered = datadog(f"[P1] [Triggered on {scope}] Checkout API error rate above 5%", monitor)
    key = dedup_key_of(DatadogWebhook.model_validate(triggered))
    assert key.startswith(f"datadog-{monitor}-")
    assert (await intake.post("/v1/alerts/datadog", triggered)).status_code == 202
    status = await intake.status_when(key, lambda s: s.phase is Phase.RESPONSE)
    alert = events(status, EventKind.ALERT)[0]
    assert status.service == "checkout" and alert.details["severity_hint"] == "critical"
    assert alert.summary == "firing: Checkout API error rate above 5%"

    recovered = datadog(f"[P1] [Recovered on {scope}] Checkout API error rate above 5%", monitor)
    assert dedup_key_of(DatadogWebhook.model_validate(recovered)) == key
    assert (await intake.post("/v1/alerts/datadog", recovered)).status_code == 202
    await intake.handle(key).result()


async def test_datadog_rich_template_uses_the_aggregation_key_and_transition(intake: Intake) -> None:
    aggregation = uuid4().hex
    rich = payload_json("datadog_triggered.json") | {
        "aggregation_key": aggregation, "alert_transition": "Warn", "tags": "service:search,region:eu-west-1",
    }  # fmt: skip
    assert (await intake.post("/v1/alerts/datadog", rich)).status_code == 202
    status = await intake.status_when(f"datadog-{aggregation}", lambda s: s.alert_count == 1)
    assert status.service == "search"
    assert events(status, EventKind.ALERT)[0].details["severity_hint"] == "warning"
    await intake.handle(f"datadog-{aggregation}").signal("resolve", {"by": "tester"})


async def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(intake: Intake) -> None:
    event = payload_json("pagerduty_v2_trigger.json") | {"dedup_key": f"payments-api/health/{uuid4()}"}
    key = event["dedup_key"]
    answer = await intake.post("/v2/enqueue", event, token=None)  # PagerDuty's path, no bearer token
    assert answer.status_code == 202, answer.text
    assert answer.json()["dedup_key"] == key and answer.json()["message"] == "Event processed"
    status = await intake.status_when(key, lambda s: s.phase is Phase.RESPONSE)
    assert status.service == "payments-api"
    assert events(status, EventKind.ALERT)[0].details["severity_hint"] == "critical"

    ack = {"routing_key": event["routing_key"], "event_action": "acknowledge", "dedup_key": key}
    assert (await intake.post("/v1/alerts/pagerduty", ack, token=None)).status_code == 202
    status = await intake.status_when(key, lambda s: s.acknowledged_by is not None)
    assert status.acknowledged_by == "pagerduty (alert acknowledged)"

    resolve = ack | {"event_action": "resolve"}
    assert (await intake.post("/v1/alerts/pagerduty", resolve, token=None)).status_code == 202
    await intake.handle(key).result()
    assert (await intake.status(key)).resolved_by == "pagerduty (all alerts resolved)"


async def test_pagerduty_with_a_wrong_routing_key_is_refused_and_opens_nothing(intake: Intake) -> None:
    event = payload_json("pagerduty_v2_trigger.json") | {
        "dedup_key": f"pd-{uuid4()}", "routing_key": "0" * 32,
    }  # fmt: skip
    answer = await intake.post("/v2/enqueue", event, token=None)
    assert answer.status_code == 403 and answer.json()["problems"][0]["field"] == "routing_key"
    assert "0" * 32 not in answer.text
    assert not await intake.exists(event["dedup_key"])


async def test_generic_json_opens_an_incident_and_names_an_unknown_field(intake: Intake) -> None:
    key = f"generic-{uuid4()}"
    alert = {"dedup_key": key, "service": "ledger", "summary": "ledger lag 40 min", "severity": "warning",
             "impact": {"users_affected": 2000, "error_rate": 0.12}}  # fmt: skip
    assert (await intake.post("/v1/alerts/generic", alert)).status_code == 202
    status = await intake.status_when(key, lambda s: s.alert_count == 1)
    assert status.service == "ledger"

    typo = await intake.post(
        "/v1/alerts/generic", alert | {"sevrity": "critical", "dedup_key": f"x-{uuid4()}"}
    )
    assert typo.status_code == 422
    assert typo.json()["problems"][0] == {"field": "sevrity", "problem": "Extra inputs are not permitted"}
    await intake.handle(key).signal("resolve", {"by": "tester"})
