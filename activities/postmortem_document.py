"""The post-mortem document: facts (workflows/postmortem_facts.py) rendered through a Jinja2 Markdown template.

The built-in template is `activities/templates/postmortem.md.j2`; a team can point `WARROOM_POSTMORTEM_TEMPLATE`
at its own (same variables: `f` the facts, `lenses` the contributing-factor lenses). Text from alerts and people
is escaped by the template's `md` and `cell` filters, never trusted as markup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2

from workflows.markdown import markdown_text, table_cell
from workflows.postmortem_facts import PostmortemFacts, human_duration

BUILT_IN = Path(__file__).parent / "templates" / "postmortem.md.j2"


@dataclass(frozen=True)
class Lens:
    name: str
    questions: tuple[str, ...]


# The incident guide's four lenses, with the questions a review answers in each.
LENSES = (
    Lens("Technical", (
        "What failed first, and what let the failure spread to other services?",
        "Which single points of failure, capacity limits or missing safeguards (timeouts, circuit breakers) were involved?",
        "When did monitoring show the problem, and what did it not show?",
        "Which recent changes (deploys, configuration, traffic) were in play?",
    )),
    Lens("Process", (
        "Did a runbook exist for this, and did it help?",
        "Did paging, escalation and status updates follow the policy, and did the policy fit this incident?",
        "Which approvals or hand-offs made containment faster or slower?",
        "How were the changes involved reviewed and tested, and what could that process not catch?",
    )),
    Lens("Human factors", (
        "What did responders know at each decision point (see the table above), and what was missing?",
        "What made the safe action hard or the risky action easy (tooling, alerts, dashboards)?",
        "Were responders tired, interrupted or juggling other work, and what in the system allowed that?",
        "Was it clear who was doing what (roles, the bridge, the incident commander)?",
    )),
    Lens("Organizational", (
        "Were ownership and on-call coverage of the services involved clear?",
        "Did priorities, deadlines or staffing shape the risk that was taken?",
        "Had earlier incidents or action items pointed at this, and what kept them from being done?",
        "Do the teams involved share the knowledge and access they needed?",
    )),
)  # fmt: skip


def one_line(text: object) -> str:
    """Running text that must stay on one line (a heading): escaped, line breaks folded into spaces."""
    return " ".join(markdown_text(text).split())


def timestamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment is not None else "n/a"


def money(amount: float | None) -> str:
    return f"${amount:,.0f}" if amount is not None else "unknown"


@lru_cache(maxsize=8)
def template_environment(directory: Path) -> jinja2.Environment:
    """One environment per template directory for the process: it keeps each template compiled (compiling the
    built-in one cost ~100 ms of event-loop time per post-mortem) and still reloads a file edited on disk."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=False,  # Markdown, not HTML: the md/cell filters escape what must not become markup
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=True,  # a team editing its template sees the edit in the next post-mortem, no restart
    )
    environment.filters.update(
        md=markdown_text, oneline=one_line, cell=table_cell, dur=human_duration, ts=timestamp, money=money
    )
    return environment


class PostmortemTemplateError(ValueError):
    """A configured template that cannot be read or rendered: names the file and the error."""


def render_document(facts: PostmortemFacts, template: Path | None = None) -> str:
    path = template or BUILT_IN
    try:
        loaded = template_environment(path.parent).get_template(path.name)
        return loaded.render(f=facts, lenses=LENSES)
    except (OSError, jinja2.TemplateError) as error:
        raise PostmortemTemplateError(
            f"post-mortem template {path}: {type(error).__name__}: {error}"
        ) from error
