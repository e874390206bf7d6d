"""Blaming phrasing in a post-mortem's human-written sections, with a systems wording to use instead (pure).

The guide asks for a blameless review: describe the conditions that made an action possible or likely, not the
person who took it. `warroom postmortem lint FILE` runs this over the sections people write (what went well,
contributing factors, five whys, action items, lessons learned) and exits 1 when it finds something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The sections of the built-in template that people write; a document without any of them is read whole.
HUMAN_SECTIONS = ("what went well", "contributing factors", "five whys", "action items", "lessons learned")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    suggestion: str


def _rule(pattern: str, suggestion: str) -> Rule:
    return Rule(re.compile(pattern, re.IGNORECASE), suggestion)


RULES = (
    # A person failing (a name, a pronoun, a role), not "the health check failed to run", which is a system.
    Rule(re.compile(r"\b(?:(?i:he|she|they|we|you|i|the (?:engineer|operator|developer|on-?call|responder|"
                    r"reviewer|admin|team))|[A-Z][a-z]+) failed to\b"),
         'name the step, not the person: "the deploy check did not run because ..."'),
    _rule(r"\bhuman errors?\b",
          "describe the condition that made the slip possible (a missing safeguard, an ambiguous tool, fatigue)"),
    _rule(r"\bshould(?:n't| not)? have\b|\bshould've\b",
          "say what was known at that moment and what would make the right action easier next time"),
    _rule(r"\bcareless(?:ly|ness)?\b|\bsloppy\b|\blazy\b|\bnegligen(?:t|ce)\b|\bincompeten(?:t|ce)\b",
          "describe the pressure or conditions (time, load, unclear tooling) rather than a trait of a person"),
    _rule(r"\bforg(?:o|e)t(?:ten)?\b",
          'the step was left out: "the runbook relies on memory for this step; a checklist or automation would '
          'carry it"'),
    _rule(r"\bdid(?:n't| not) bother\b",
          "the step was skipped: what made it look unnecessary or costly at the time?"),
    _rule(r"\b(?:his|her|their|\w+'s) fault\b|\bto blame\b|\bblamed?\b",
          "write contributing factors of the system; a review assigns no fault"),
    _rule(r"\bignored (?:the|an?|our) (?:alert|warning|page|alarm)s?\b",
          '"the alert was not acted on": what made it easy to miss (noise, routing, timing)?'),
    _rule(r"\bdropped the ball\b|\bscrewed up\b|\bmessed up\b",
          "describe what happened and the conditions around it, in neutral words"),
    _rule(r"\b(?:operator|engineer|developer|user) error\b",
          "describe the condition that made the slip possible (a missing safeguard, an ambiguous tool, fatigue)"),
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    line: int
    phrase: str
    suggestion: str
    text: str


def human_written_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the human-written sections, or of the whole text if it has none of them."""
    lines = text.splitlines()
    chosen: list[tuple[int, str]] = []
    inside, level, seen = False, 0, False
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.match(line)
        if heading:
            depth, title = len(heading.group(1)), heading.group(2).strip().lower()
            if any(title.startswith(section) for section in HUMAN_SECTIONS):
                inside, level, seen = True, depth, True
                continue
            if inside and depth <= level:
                inside = False
        if inside:
            chosen.append((number, line))
    return chosen if seen else list(enumerate(lines, start=1))


def lint(text: str) -> list[Finding]:
    findings = []
    for number, line in human_written_lines(text):
        for rule in RULES:
            for match in rule.pattern.finditer(line):
                findings.append(Finding(number, match.group(0), rule.suggestion, line.strip()))
    return sorted(findings, key=lambda finding: finding.line)
