"""Markdown from untrusted text: alert summaries and notes are data, never markup."""

from __future__ import annotations

import re

_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# What CommonMark would read as markup inside running text: an HTML tag or autolink (`<` + letter, `/`, `!`,
# `?`), an entity (`&name;`, `&#..;`), emphasis, code, links, and the backslash itself.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)|[\\`*_\[\]]")


def plain(text: object) -> str:
    """For the Web UI's details panel (rendered as HTML): escape HTML so `<img onerror=...>` shows as text."""
    return str(text).translate(_HTML)  # one C pass: the details panel re-renders on every workflow task


def markdown_text(text: object) -> str:
    """For Markdown documents people also read raw (the post-mortem): backslash-escape only what would become
    markup, so `->` stays `->` and `<script>` renders as text."""
    return _MARKUP.sub(lambda match: "\\" + match.group(0), str(text))


def table_cell(text: object) -> str:
    """A Markdown table cell: no markup, and no pipe or newline from user text may break the row."""
    return markdown_text(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
