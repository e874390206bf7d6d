"""Markdown from untrusted text: alert summaries and notes are data, never markup."""

from __future__ import annotations

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def plain(text: object) -> str:
    """Escape HTML so a summary like `<img onerror=...>` shows as text wherever Markdown is rendered."""
    return "".join(_HTML.get(character, character) for character in str(text))


def table_cell(text: object) -> str:
    """A table cell: escaped, and no pipe or newline from user text may break the row."""
    return plain(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
