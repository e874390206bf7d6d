"""Message text from Jinja2 templates: the built-in ones in templates/, overridable file by file by a
directory the worker names (`WARROOM_TEMPLATES_DIR`).

Each kind has `<kind>.txt.j2`; e-mail wraps it in `email.html.j2`. Whatever comes from an incident (summary,
notes, names) is data: every `{{ expression }}` is escaped for the dialect it lands in (HTML autoescape for
e-mail, Slack's `& < >` control characters, Teams markdown), while the template's own text is trusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from workflows.messages.notifications import Notification

Dialect = Literal["plain", "slack", "teams"]

SEVERITY_COLOURS = {"SEV-1": "#D00000", "SEV-2": "#FF7A00", "SEV-3": "#F2C744", "SEV-4": "#439FE0"}
NO_SEVERITY_COLOUR = "#808080"
_TEAMS_MARKDOWN = re.compile(r"([\\`*_\[\]<>#~])")


def slack_escape(text: str) -> str:
    """Slack's rule: escape & < > so `<!channel>` or `<http://evil|click>` in a summary stays plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_escape(text: str) -> str:
    """Adaptive Card TextBlocks render markdown: backslash-escape it so a summary cannot forge links."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", text)


_ESCAPERS: dict[Dialect, Callable[[str], str]] = {
    "plain": lambda text: text,
    "slack": slack_escape,
    "teams": teams_escape,
}


def severity_colour(severity: str | None) -> str:
    return SEVERITY_COLOURS.get(severity or "", NO_SEVERITY_COLOUR)


def safe_links(links: list[str]) -> list[str]:
    """Only http(s) links become clickable: a `javascript:` link from an alert stays out."""
    return [link for link in links if link.startswith(("https://", "http://"))]


class Templates:
    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[Any] = [PackageLoader("adapters.notify", "templates")]
        if override_dir is not None:
            loaders.insert(0, FileSystemLoader(str(override_dir)))
        loader = ChoiceLoader(loaders)
        self._text = {
            dialect: Environment(
                loader=loader,
                autoescape=False,
                undefined=StrictUndefined,
                keep_trailing_newline=False,
                trim_blocks=True,
                lstrip_blocks=True,
                finalize=lambda value, escape=escape: escape(str(value)) if value is not None else "",
            )
            for dialect, escape in _ESCAPERS.items()
        }
        self._html = Environment(
            loader=loader, autoescape=select_autoescape(default=True), undefined=StrictUndefined
        )

    @staticmethod
    def context(notification: Notification) -> dict[str, Any]:
        severity = notification.severity.value if notification.severity else None
        return {
            "kind": notification.kind.value,
            "incident_id": notification.incident_id,
            "severity": severity,
            "major": severity in ("SEV-1", "SEV-2"),
            "service": notification.service or "unknown service",
            "subject": notification.subject,
            "body": notification.body,
            "recipients": notification.recipients,
            "facts": notification.facts,
            "links": safe_links(notification.links),
            "colour": severity_colour(severity),
        }

    def text(self, notification: Notification, dialect: Dialect = "plain") -> str:
        template = self._text[dialect].get_template(f"{notification.kind.value}.txt.j2")
        return template.render(self.context(notification)).strip()

    def html(self, notification: Notification) -> str:
        """The e-mail HTML: the plain text of the kind (escaped) inside the HTML layout."""
        context = self.context(notification)
        context["text"] = self.text(notification, "plain")
        rendered: str = self._html.get_template("email.html.j2").render(context)
        return str(Markup(rendered))
