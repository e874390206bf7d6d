"""The Dockerfile, parsed (no Docker engine here to build it): the image runs as a non-root user, bakes in no
secret, and its build context (.dockerignore) leaves env files, keys and local state out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PWD|API_KEY|PRIVATE|CREDENTIAL|_KEY$", re.IGNORECASE)
ROOT_USERS = {"root", "0"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    starts = [index for index, instruction in enumerate(instructions) if instruction.keyword == "FROM"]
    return instructions[starts[-1] :]


def env_names(instruction: Instruction) -> list[str]:
    """ENV a=b c=d (or the legacy ENV a b) and ARG a[=b]: the names they set."""
    if instruction.keyword == "ARG":
        return [instruction.arguments.partition("=")[0]]
    if "=" not in instruction.arguments.split(" ", 1)[0]:
        return [instruction.arguments.split(" ", 1)[0]]
    return re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments)


def user_of(instructions: list[Instruction]) -> str:
    users = [
        instruction.arguments for instruction in final_stage(instructions) if instruction.keyword == "USER"
    ]
    return users[-1].partition(":")[0] if users else "root"  # no USER: the image runs as root


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def test_the_image_runs_as_a_non_root_user(dockerfile: list[Instruction]) -> None:
    user = user_of(dockerfile)
    assert user not in ROOT_USERS
    assert user.isdigit(), "numeric, so an orchestrator can verify runAsNonRoot without reading /etc/passwd"
    created = [
        i.arguments for i in final_stage(dockerfile) if i.keyword == "RUN" and "useradd" in i.arguments
    ]
    assert created and f"--uid {user}" in created[0]


def test_the_checks_can_fail() -> None:
    """The parser sees what it must: a root image and a baked-in secret are caught."""
    rooted = parse_dockerfile("FROM python:3.11\nUSER app\nFROM python:3.11-slim\nUSER 0:0\n")
    assert user_of(rooted) in ROOT_USERS
    assert user_of(parse_dockerfile("FROM python:3.11\n")) in ROOT_USERS
    leaky = parse_dockerfile("FROM python:3.11\nENV PATH=/x \\\n    WARROOM_INTAKE_TOKEN=abc\nARG API_KEY\n")
    assert [name for i in leaky if i.keyword in {"ENV", "ARG"} for name in env_names(i)] == [
        "PATH", "WARROOM_INTAKE_TOKEN", "API_KEY",
    ]  # fmt: skip


def test_no_secret_is_baked_into_the_image(dockerfile: list[Instruction]) -> None:
    for instruction in dockerfile:
        if instruction.keyword in {"ENV", "ARG"}:
            for name in env_names(instruction):
                assert not SECRET_NAME.search(name), f"{instruction.keyword} {name} would bake a secret in"
        if instruction.keyword in {"COPY", "ADD"}:
            assert not re.search(r"\.env\b|secret|\.pem|\.key\b", instruction.arguments, re.IGNORECASE)


def test_the_build_context_is_an_allow_list_that_keeps_secrets_and_state_out() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "exclude everything, then name what the image is built from"
    included = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert included <= {"pyproject.toml", "README.md", "workflows", "activities", "adapters", "workers",
                        "config", "intake"}  # fmt: skip
    # Excludes after the allow-list win: no env file or key inside the package directories either.
    assert {"**/*.env", "**/*.pem", "**/*.key"} <= set(rules[rules.index("!intake/") :])


def test_the_image_starts_warroom_and_defaults_to_the_worker(dockerfile: list[Instruction]) -> None:
    last = final_stage(dockerfile)
    entrypoint = [i.arguments for i in last if i.keyword == "ENTRYPOINT"]
    command = [i.arguments for i in last if i.keyword == "CMD"]
    assert entrypoint == ['["warroom"]'] and command == ['["worker"]']
    for instruction in dockerfile:
        if instruction.keyword == "FROM":
            image = instruction.arguments.split()[0]
            assert ":" in image and not image.endswith(":latest"), image
