"""Load a policy YAML into the `Policy` model; errors name the file, the path inside it and the fix."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from workflows.messages.validation import validation_problems
from workflows.policy import FROM_FILE, Policy

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message is meant for the operator as it is."""


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"{path}: cannot read policy file ({error.strerror})") from error
    try:
        document = yaml.safe_load(text)
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
