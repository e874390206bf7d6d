"""Golden file: the post-mortem of the guide's Black-Friday cascade, rendered from a real run, compared whole.

Regenerate with `python -m tests.golden.black_friday` after an intended change, and review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.black_friday import GOLDEN, comparable, render


@pytest.mark.timeout(120)
async def test_the_black_friday_postmortem_matches_the_golden_file(tmp_path: Path) -> None:
    rendered = await render(tmp_path)
    assert comparable(rendered) == comparable(GOLDEN.read_text(encoding="utf-8"))
