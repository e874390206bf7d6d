"""Grafana unified-alerting webhook contact point: Alertmanager's body plus orgId, title, state, message.

Dedup key: `grafana-` + hash of `groupKey` (Grafana's notification group), alerts identified by fingerprint,
exactly as for Alertmanager. The optional HMAC signature is checked in intake.auth before this runs.
"""

from __future__ import annotations

from intake.formats.alertmanager import AlertmanagerWebhook
from intake.formats.alertmanager import to_alerts as alertmanager_alerts
from workflows.messages.alerts import Alert


class GrafanaWebhook(AlertmanagerWebhook):
    orgId: int | None = None
    title: str | None = None
    state: str | None = None
    message: str | None = None


def to_alerts(webhook: GrafanaWebhook) -> list[Alert]:
    return alertmanager_alerts(webhook, source="grafana", prefix="grafana")
