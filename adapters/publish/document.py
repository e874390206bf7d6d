"""What a publisher receives, and the shape every publisher has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PublishedDocument:
    incident_id: str
    occurrence: str
    filename: str
    markdown: str
    idempotency_key: str


class Publisher(Protocol):
    name: str

    async def publish(self, document: PublishedDocument) -> str:
        """Store or send the document; return where it went (a path or a URL). Raise on failure."""
        ...
