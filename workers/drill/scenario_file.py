"""Read a scenario YAML: every problem names the file, the LINE and the field, and nothing is started.

pydantic reports where a problem is as a path (`script.2.by`); the YAML parser knows where each node sits
(`node.start_mark`). Composing the document once gives both, so `script.2.by` becomes "line 41".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workers.drill.scenario import COMMANDS, AlertStep, Location, Scenario, script_problems
from workers.drill.senders import body_problems
from workflows.messages.validation import field_path


class ScenarioError(ValueError):
    """A scenario a human must fix; the message is meant to be printed as it is."""


def line_of(root: yaml.Node, location: Location) -> int:
    """The 1-based line of the deepest part of the location the YAML has: a mapping entry's line is its key's
    (`body:`), a list item's is its dash. Parts the YAML does not have (pydantic's union tags such as
    `post_update`, or a required field left out) are skipped: the nearest enclosing entry is the line the
    author has to look at."""
    node, line = root, root.start_mark.line
    for part in location:
        found = _child(node, part)
        if found is not None:
            node, line = found
    return line + 1


def _child(node: yaml.Node, part: int | str) -> tuple[yaml.Node, int] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value, key.start_mark.line
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item, item.start_mark.line
    return None


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"{source}:{where} not valid YAML: {problem}") from None
    if root is None or not isinstance(document, dict):
        raise ScenarioError(f"{source}: line 1: the top level must be a mapping (name:, alerts:, ...)")
    problems = _body_problems(document)  # every problem at once: the senders' bodies too
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        problems = [(tuple(item["loc"]), item["msg"]) for item in error.errors()] + problems
        raise ScenarioError(_describe(source, root, problems)) from None
    problems = script_problems(scenario) + problems
    if problems:
        raise ScenarioError(_describe(source, root, problems))
    return scenario


def _body_problems(document: dict[str, Any]) -> list[tuple[Location, str]]:
    """Each alert's body against its sender's wire model, for the alerts whose step itself is readable."""
    problems: list[tuple[Location, str]] = []
    alerts = document.get("alerts")
    for index, raw in enumerate(alerts if isinstance(alerts, list) else []):
        try:
            alert = AlertStep.model_validate(raw)
        except ValidationError:
            continue  # the scenario's own validation names what is wrong with the step
        problems += [(("alerts", index, "body", *where), message) for where, message in body_problems(alert)]
    return problems


def _describe(source: str, root: yaml.Node, problems: list[tuple[Location, str]]) -> str:
    lines = [f"{source}: invalid scenario"]
    for location, message in problems:
        lines.append(f"  line {line_of(root, location)}: {_readable(location)}: {message}")
    return "\n".join(lines)


def _readable(location: Location) -> str:
    """`script.2.post_update.text` -> `script.2.text`: the union's tag is pydantic's, not the author's."""
    kept = [part for part in location if not (isinstance(part, str) and ("[" in part or _is_tag(part)))]
    return field_path(tuple(kept))


def _is_tag(part: str) -> bool:
    return part in COMMANDS


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario ({error.strerror})") from None
    return parse_scenario(text, str(path))
