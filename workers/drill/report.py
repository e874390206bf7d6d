"""The drill's report for people: the timeline (who was paged, when, on which channel) and the scorecard,
as text for a terminal or Markdown for a file. JSON is the models themselves (`--json`)."""

from __future__ import annotations

from collections.abc import Sequence

from workers.drill.compare import Comparison
from workers.drill.record import DrillRun
from workers.drill.scoring import Escalation, IncidentScore, Scorecard, business_hours_text, clock
from workflows.durations import format_duration


def text_report(run: DrillRun, card: Scorecard) -> str:
    return "\n".join(_lines(run, card, markdown=False))


def markdown_report(run: DrillRun, card: Scorecard) -> str:
    return "\n".join(_lines(run, card, markdown=True)) + "\n"


def _lines(run: DrillRun, card: Scorecard, markdown: bool) -> list[str]:
    h1, h2 = ("# ", "## ") if markdown else ("", "")
    lines = [
        f"{h1}Drill: {run.scenario}",
        f"policy '{run.policy_name}' ({run.policy_file}); started {run.started_at:%a %Y-%m-%d %H:%M} UTC, "
        f"ran to {clock(run.ended_at - run.started_at)}; business hours {business_hours_text(run.policy)}",
        "every notification went to the drill's recording channel: nobody was contacted",
    ]
    if not card.incidents:
        lines += ["", "no incident opened: check the scenario's alerts (the intake's answers are in --json)"]
    for score in card.incidents:
        lines += ["", f"{h2}Incident {score.incident_id}", *_summary(score), ""]
        lines += _timeline(score, markdown)
        lines += ["", *_scorecard(score, markdown)]
        if score.warnings:
            lines += ["", f"{'### ' if markdown else ''}Warnings the incident raised:"]
            lines += [f"- {warning}" for warning in score.warnings]
    lines += ["", f"{card.misses} miss(es) in all"]
    return lines


def _summary(score: IncidentScore) -> list[str]:
    severity = score.severity.value if score.severity else "unclassified"
    roles = ", ".join(f"{role}: {person}" for role, person in score.roles.items()) or "none"
    return [
        f"{severity} on {score.service or '-'}; MTTA {clock(score.mtta)}, MTTR {clock(score.mttr)}",
        f"paged: {', '.join(score.people_paged) or 'nobody'}; wake-ups out of business hours: {score.wake_ups}",
        f"roles: {roles}",
    ]


def _timeline(score: IncidentScore, markdown: bool) -> list[str]:
    rows = [(clock(p.at), p.kind, p.channel, ", ".join(p.recipients), p.step,
             "yes" if p.out_of_hours and p.paging else "") for p in score.pages]  # fmt: skip
    escalated = {e.duty: e for e in score.escalations}
    header = ("at", "kind", "channel", "who", "why", "woken")
    body = []
    for at, kind, channel, who, step, night in rows:
        why = escalated[step].why if step in escalated else step_label(step)
        body.append((at, kind, channel, who, why, night))
    return _table("Who was paged and notified", header, body, markdown)


def _scorecard(score: IncidentScore, markdown: bool) -> list[str]:
    header = ("", "rule", "result")
    body = [("ok" if check.ok else "MISS", check.rule, check.detail) for check in score.checks]
    fired = [(clock(e.at), e.rule, f"level {e.level}: {', '.join(e.people)} ({e.why})", _on_time(e))
             for e in score.escalations]  # fmt: skip
    return [
        *_table(
            "Escalations that fired", ("at", "rule", "what", "after the response start"), fired, markdown
        ),
        "",
        *_table("Scorecard", header, body, markdown),
    ]


def _on_time(escalation: Escalation) -> str:
    """`15m (policy: 15m)`: the measured delay beside the policy's, where the policy has one formula."""
    measured = format_duration(escalation.after_response)
    if escalation.expected is None:
        return measured
    verdict = "policy: " + format_duration(escalation.expected)
    return (
        f"{measured} ({verdict})"
        if escalation.expected == escalation.after_response
        else f"{measured} (LATE, {verdict})"
    )


def step_label(step: str) -> str:
    """Duty ids as a person reads them: `status/<anchor>/2/nudge` -> `status update 2 missed: nudge`."""
    parts = step.split("/")
    if parts[0] == "status" and len(parts) >= 4:
        return f"status update {parts[2]} missed: " + ("comms nudged" if parts[3] == "nudge" else "IC paged")
    if parts[0] == "update" and len(parts) == 2:
        return f"status update {int(parts[1]) + 1} sent"
    if parts[0] in ("business", "management") and len(parts) == 2:
        return f"{parts[0]} notice: {parts[1]}"
    if parts[0] == "regulatory" and len(parts) == 2:
        return f"regulatory {parts[1].replace('-', ' ')}"
    return step.replace("/", " ")


def _table(title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], markdown: bool) -> list[str]:
    if markdown:
        out = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return out if rows else [f"### {title}", "", "none"]
    if not rows:
        return [f"{title}: none"]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    out = [f"{title}:"]
    for row in [header, *rows]:
        out.append(
            "  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return out


def comparison_report(comparison: Comparison, markdown: bool = False) -> str:
    title = f"{comparison.scenario}: policy '{comparison.policy_a}' vs '{comparison.policy_b}'"
    if not comparison.differences:
        return f"{title}\nno difference: both policies page the same people at the same times"
    rows = [(d.incident, d.what, d.before, d.after) for d in comparison.differences]
    header = ("incident", "what", comparison.policy_a, comparison.policy_b)
    return "\n".join([("# " if markdown else "") + title, "", *_table("Differences", header, rows, markdown)])
