"""Publish a document as a file, atomically, so a retried activity never leaves half a file behind."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from adapters.publish.document import PublishedDocument


def write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path.resolve()


class DirectoryPublisher:
    """One Markdown file per occurrence in a directory; rewriting the same file on a retry is harmless."""

    name = "directory"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def publish(self, document: PublishedDocument) -> str:
        path = await asyncio.to_thread(
            write_atomically, self.directory / document.filename, document.markdown
        )
        return str(path)
