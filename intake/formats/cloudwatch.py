"""AWS CloudWatch alarms delivered by Amazon SNS: the alarm is JSON inside the SNS `Message` string.

Dedup key: the `AlarmArn`, verbatim (one alarm = one incident). `ALARM` fires, `OK` resolves it (the ARN is
its identity), `INSUFFICIENT_DATA` opens nothing: missing data is not a failure unless the alarm says so
(`TreatMissingData: breaching` makes CloudWatch send ALARM instead). Service: the `service` query parameter
of the subscription URL, else `service=<name>` in the alarm description, else the alarm name.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from intake.formats.fields import SenderModel, clip, stable_hash
from workflows.messages.alerts import Alert, AlertStatus, Impact

_SERVICE_IN_TEXT = re.compile(r"\bservice[=:]\s*([A-Za-z0-9_.-]+)")


class CloudWatchAlarm(SenderModel):
    AlarmName: str = Field(min_length=1, max_length=255)
    AlarmDescription: str | None = Field(default=None, max_length=2000)
    AlarmArn: str = Field(min_length=1, max_length=400, pattern=r"^arn:")
    NewStateValue: Literal["ALARM", "OK", "INSUFFICIENT_DATA"]
    NewStateReason: str = Field(default="", max_length=4000)
    StateChangeTime: str | None = None
    Region: str | None = None
    AWSAccountId: str | None = None
    OldStateValue: str | None = None
    Trigger: dict[str, Any] | None = None


def service_of(alarm: CloudWatchAlarm, override: str | None) -> str:
    if override:
        return override
    found = _SERVICE_IN_TEXT.search(alarm.AlarmDescription or "")
    return found.group(1) if found else alarm.AlarmName


def to_alerts(alarm: CloudWatchAlarm, service: str | None = None) -> list[Alert]:
    if alarm.NewStateValue == "INSUFFICIENT_DATA":
        return []
    region = alarm.AlarmArn.split(":")[3] if alarm.AlarmArn.count(":") >= 3 else ""
    trigger = alarm.Trigger or {}
    labels = {
        key: str(value)
        for key, value in {
            "alarm_name": alarm.AlarmName,
            "region": region,
            "account": alarm.AWSAccountId,
            "metric": trigger.get("MetricName"),
            "namespace": trigger.get("Namespace"),
            "old_state": alarm.OldStateValue,
        }.items()
        if value
    }
    return [
        Alert(
            source="cloudwatch",
            dedup_key=alarm.AlarmArn,
            event_id=stable_hash("cloudwatch", alarm.AlarmArn, alarm.NewStateValue, alarm.StateChangeTime),
            fingerprint=alarm.AlarmArn,
            status=AlertStatus.FIRING if alarm.NewStateValue == "ALARM" else AlertStatus.RESOLVED,
            service=clip(service_of(alarm, service), 200),
            summary=clip(alarm.AlarmDescription or alarm.AlarmName, 2000),
            severity_hint=None,
            labels=labels,
            annotations={"reason": clip(alarm.NewStateReason, 2000)} if alarm.NewStateReason else {},
            impact=Impact(regions=[region] if region else []),
        )
    ]
