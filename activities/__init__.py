"""Side effects, one activity per verb. `build_activities` wires them to the worker's settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities.channels import build_notifiers
from activities.contain import ContainmentActivities
from activities.contain_registry import load_adapters
from activities.health import check_health
from activities.notify import NotifyActivities
from activities.observe import observe_health
from activities.policy import PolicyActivities
from activities.postmortem import PostmortemActivities
from activities.timeline import TimelineActivities
from adapters.archive.timeline_files import TimelineArchive
from adapters.contain.base import ContainmentAdapter
from adapters.contain.journal import ActionJournal
from adapters.notify.base import Notifier
from adapters.publish.document import Publisher
from adapters.publish.webhook import SignedWebhookPublisher
from config.channels import load_channels
from config.secrets import SecretSource
from config.settings import Settings


def default_notifiers() -> dict[str, Notifier]:
    """The channels in `WARROOM_CHANNELS` (plus the built-in `console`); secrets resolve at send time."""
    return build_notifiers(load_channels())


WEBHOOK_SECRET = "WARROOM_POSTMORTEM_WEBHOOK_SECRET"


def postmortem_publishers(settings: Settings) -> list[Publisher]:
    """Beside the Markdown directory: the signed webhook when a URL is configured. Its secret is looked up at
    each send (environment, else the secrets file), so it never sits in settings, history or logs."""
    if not settings.postmortem_webhook_url:
        return []
    secrets = SecretSource()
    return [SignedWebhookPublisher(settings.postmortem_webhook_url, lambda: secrets.lookup(WEBHOOK_SECRET))]


def containment_activities(
    settings: Settings, adapters: Mapping[str, ContainmentAdapter] | None = None
) -> ContainmentActivities:
    """The adapters in `WARROOM_CONTAINMENT`; completed actions are journaled under the data dir."""
    secrets = SecretSource()
    chosen = adapters if adapters is not None else load_adapters(secrets, settings.data_dir)
    return ContainmentActivities(chosen, ActionJournal(settings.data_dir / "containment"), secrets.redact)


def build_activities(
    settings: Settings,
    notifiers: Mapping[str, Notifier] | None = None,
    adapters: Mapping[str, ContainmentAdapter] | None = None,
) -> list[Callable[..., Any]]:
    archive = TimelineArchive(settings.data_dir / "timeline")
    policy = PolicyActivities(settings)
    return [
        policy.load_policy,
        policy.load_people,
        NotifyActivities(notifiers if notifiers is not None else default_notifiers()).notify,
        check_health,
        PostmortemActivities(
            settings.postmortems, archive, settings.postmortem_template, postmortem_publishers(settings)
        ).render_postmortem,
        TimelineActivities(archive).archive_timeline,
        containment_activities(settings, adapters).run_containment_action,
        observe_health,
    ]
