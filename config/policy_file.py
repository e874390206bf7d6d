"""Load a policy YAML into the `Policy` model; errors name the file, the path inside it and the fix."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from workflows.messages.validation import validation_problems
from workflows.policy import FROM_FILE, Policy

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
# libyaml's safe loader parses ~10x faster than the pure-Python one; the same documents, the same errors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyError(ValueError):
    """A policy file that cannot be used; the message is meant for the operator as it is."""


# The last policy parsed from each file, by the text it was parsed from. Every incident re-reads its file (so
# an edit reaches the next incident), but parsing YAML took ~25 ms of the first workflow task's ~50 ms, before
# the first page: an unchanged text is answered from here (docs/performance.md).
_PARSED: dict[Path, tuple[str, Policy]] = {}


def load_policy_file(path: Path) -> Policy:
    """The policy in the file now, as a private copy the caller may change."""
    return shared_policy(path).model_copy(deep=True)


def shared_policy(path: Path) -> Policy:
    """The policy in the file now, shared with every other caller: read it, never change it. For callers that
    only serialize it (the load_policy activity), which would otherwise pay ~1.5 ms for a deep copy."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"{path}: cannot read policy file ({error.strerror})") from error
    cached = _PARSED.get(path)
    if cached is not None and cached[0] == text:
        return cached[1]
    policy = _parse(path, text)
    _PARSED[path] = (text, policy)
    return policy


def _parse(path: Path, text: str) -> Policy:
    try:
        document = yaml.load(text, Loader=_SafeLoader)  # the C build of the *safe* loader
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML: {error}") from error
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise PolicyError(
            f"{path}: the top level must be a mapping (key: value), not {type(document).__name__}"
        )
    try:
        return Policy.model_validate(document, context=FROM_FILE)
    except ValidationError as error:
        problems = validation_problems(error, rename=_top_level, limit=None)
        raise PolicyError(
            f"{path}: invalid policy\n" + "\n".join(f"  {line}" for line in problems)
        ) from error


def _top_level(path: str) -> str:
    return "(top level)" if path == "payload" else path
