"""Datadog Webhooks integration: the default template, and a richer documented template (docs/intake.md).

Dedup key, first that applies: `datadog-<aggregation_key>` (rich template, `$AGGREG_KEY`); else
`datadog-<alert_id or monitor id>-<hash of the scope>` (monitor id read from the monitor link in the default
`body`, the scope from the title's `on {...}`); else `datadog-<hash of the title without its status>`.
Status from `alert_transition` (`$ALERT_TRANSITION`) or else the title's `[Triggered]` / `[Recovered]` ...
"""

from __future__ import annotations

import re

from pydantic import Field

from intake.formats.fields import SenderModel, clip, impact_from, stable_hash
from workflows.messages.alerts import Alert, AlertStatus

_MONITOR = re.compile(r"/monitors/(\d+)")
_SCOPE = re.compile(r"\bon \{([^}]*)\}")
_TITLE_STATUS = re.compile(r"^\s*(?:\[P\d\]\s*)?\[([A-Za-z -]+?)(?: on \{[^}]*\})?\]\s*")
_PRIORITY = re.compile(r"\[(P[1-5])\]")
_RESOLVED = {"recovered", "resolved"}
_PRIORITY_HINT = {"P1": "critical", "P2": "high", "P3": "warning", "P4": "low", "P5": "info"}


class DatadogOrg(SenderModel):
    id: str | int | None = None
    name: str | None = None


class DatadogWebhook(SenderModel):
    """Default template fields, plus the optional fields of warroom's richer template."""

    id: str | int | None = Field(default=None, description="$ID: the event id")
    title: str = Field(min_length=1, max_length=2000, description="$EVENT_TITLE")
    body: str = Field(default="", max_length=20000, description="$EVENT_MSG")
    date: str | int | None = None
    last_updated: str | int | None = None
    event_type: str | None = None
    org: DatadogOrg | None = None
    alert_id: str | int | None = Field(default=None, description="$ALERT_ID (rich template)")
    aggregation_key: str | None = Field(default=None, max_length=300, description="$AGGREG_KEY")
    alert_transition: str | None = Field(default=None, max_length=64, description="$ALERT_TRANSITION")
    alert_priority: str | None = Field(default=None, max_length=8, description="$ALERT_PRIORITY")
    alert_scope: str | None = Field(default=None, max_length=2000, description="$ALERT_SCOPE")
    tags: str | None = Field(default=None, max_length=5000, description="$TAGS")
    link: str | None = Field(default=None, max_length=2000, description="$LINK")


def _pairs(text: str) -> dict[str, str]:
    pairs = (item.strip().split(":", 1) for item in text.split(",") if ":" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _scope(hook: DatadogWebhook) -> str:
    if hook.alert_scope:
        return hook.alert_scope
    found = _SCOPE.search(hook.title)
    return found.group(1) if found else ""


def dedup_key_of(hook: DatadogWebhook) -> str:
    if hook.aggregation_key:
        return f"datadog-{hook.aggregation_key}"
    monitor = hook.alert_id or (found.group(1) if (found := _MONITOR.search(hook.body)) else None)
    if monitor:
        return f"datadog-{monitor}-{stable_hash(_scope(hook), length=12)}"
    return f"datadog-{stable_hash(_TITLE_STATUS.sub('', hook.title), length=20)}"


def _transition(hook: DatadogWebhook) -> str:
    if hook.alert_transition:
        return hook.alert_transition
    found = _TITLE_STATUS.match(hook.title)
    return found.group(1) if found else "Triggered"


def to_alerts(hook: DatadogWebhook) -> list[Alert]:
    transition = _transition(hook)
    tags = _pairs(",".join(part for part in (_scope(hook), hook.tags or "") if part))
    found = _PRIORITY.search(hook.title)
    priority = hook.alert_priority or (found.group(1) if found else None)
    hint = "warning" if "warn" in transition.lower() else _PRIORITY_HINT.get(priority or "")
    links = [hook.link] if hook.link else re.findall(r"\((https://[^)\s]+)\)", hook.body)[:5]
    return [
        Alert(
            source="datadog",
            dedup_key=dedup_key_of(hook),
            event_id=stable_hash("datadog", hook.model_dump(mode="json")),
            status=AlertStatus.RESOLVED if transition.lower() in _RESOLVED else AlertStatus.FIRING,
            service=clip(tags.get("service") or "unknown", 200),
            summary=clip(_TITLE_STATUS.sub("", hook.title).strip() or hook.title, 2000),
            severity_hint=hint,
            labels={key: clip(value, 2000) for key, value in tags.items()},
            annotations={"body": clip(hook.body, 2000), "transition": clip(transition, 64)},
            links=links,
            impact=impact_from(tags, regions=[tags.get("region", "")]),
        )
    ]
