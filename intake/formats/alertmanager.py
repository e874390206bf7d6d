"""Prometheus Alertmanager webhook, version 4. Grafana's contact point posts a superset of it (grafana.py).

Dedup key: `am-` + hash of `groupKey`. The group is Alertmanager's own unit of notification, and its key is
the same on every replica of an HA pair, so both replicas' deliveries land in one incident. Each alert of the
group is one `Alert` with its `fingerprint` as identity; its event id hashes the alert as sent, so a
re-sent group (retry, `repeat_interval`) is a repeat and pages nobody again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from intake.formats.fields import SenderModel, clip, impact_from, real_time, stable_hash, string_map
from workflows.messages.alerts import Alert, AlertStatus

URL_ANNOTATIONS = ("runbook_url", "dashboard", "dashboard_url", "playbook")


class WebhookAlert(SenderModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str | None = Field(default=None, max_length=200)


class AlertmanagerWebhook(SenderModel):
    """The body Alertmanager posts to a webhook receiver."""

    version: str = "4"
    groupKey: str = Field(min_length=1, max_length=10000)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=1000)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)


def group_dedup_key(prefix: str, group_key: str) -> str:
    return f"{prefix}-{stable_hash(group_key, length=20)}"


def to_alerts(webhook: AlertmanagerWebhook, source: str = "alertmanager", prefix: str = "am") -> list[Alert]:
    dedup_key = group_dedup_key(prefix, webhook.groupKey)
    return [_alert(webhook, alert, source, dedup_key) for alert in webhook.alerts]


def _alert(webhook: AlertmanagerWebhook, alert: WebhookAlert, source: str, dedup_key: str) -> Alert:
    labels = {**webhook.commonLabels, **alert.labels}
    annotations = {**webhook.commonAnnotations, **alert.annotations}
    fingerprint = alert.fingerprint or stable_hash(sorted(labels.items()), length=16)
    summary = annotations.get("summary") or annotations.get("description") or labels.get("alertname")
    links = [alert.generatorURL] if alert.generatorURL else []
    links += [annotations[key] for key in URL_ANNOTATIONS if annotations.get(key, "").startswith("http")]
    return Alert(
        source=source,
        dedup_key=dedup_key,
        event_id=stable_hash(source, webhook.groupKey, alert.model_dump(mode="json")),
        fingerprint=fingerprint,
        status=AlertStatus(alert.status),
        service=clip(labels.get("service") or labels.get("job") or labels.get("app") or "unknown", 200),
        summary=clip(summary or "alert without summary", 2000),
        severity_hint=clip(labels["severity"], 64) if labels.get("severity") else None,
        labels=string_map(labels),
        annotations=string_map(annotations),
        links=[clip(link, 2000) for link in links],
        starts_at=real_time(alert.startsAt),
        ends_at=real_time(alert.endsAt),
        impact=impact_from(labels, annotations, regions=[labels.get("region", "")]),
        truncated_alerts=webhook.truncatedAlerts,
    )
