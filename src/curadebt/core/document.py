"""The unit of data: a document (id, text, meta), with its place in reading order."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Document:
    """One training document.

    ``ordinal`` is the 0-based position in reading order (taken as training order); it is
    what makes results independent of how the corpus was split into batches or workers.
    """

    id: str
    text: str
    ordinal: int
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
