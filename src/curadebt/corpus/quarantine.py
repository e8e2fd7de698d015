"""Quarantine: bad records are kept, with where they came from and why, never dropped silently."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Reasons a record can be quarantined; stable strings, used as keys in report.json.
INVALID_JSON = "invalid_json"
INVALID_UTF8 = "invalid_utf8"
MISSING_TEXT = "missing_text"
NON_STRING_TEXT = "non_string_text"
EMPTY_TEXT = "empty_text"
TOO_LARGE = "too_large"
NOT_AN_OBJECT = "not_an_object"
UNREADABLE = "unreadable"
UNENCODABLE_TEXT = "unencodable_text"
INVALID_CSV = "invalid_csv"

PREVIEW_BYTES = 200


@dataclass
class QuarantineRecord:
    location: str  # e.g. "corpus.jsonl:17" or "docs/a.txt"
    reason: str
    detail: str = ""
    preview: str = ""  # first bytes of the raw record, decoded with replacement

    def to_json(self) -> dict:
        return {"location": self.location, "reason": self.reason, "detail": self.detail, "preview": self.preview}


def preview_of(raw: bytes | str) -> str:
    if isinstance(raw, bytes):
        return raw[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    return raw[:PREVIEW_BYTES]


@dataclass
class Quarantine:
    """Collects quarantined records; optionally streams them to a JSONL file as they arrive."""

    path: Path | None = None
    counts: Counter = field(default_factory=Counter)
    _fh: IO[str] | None = None

    def __post_init__(self) -> None:
        if self.path is not None:
            self.path = Path(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = self.path.with_name(self.path.name + ".tmp")
            self._fh = open(self._tmp, "w", encoding="utf-8")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, record: QuarantineRecord) -> None:
        self.counts[record.reason] += 1
        if self._fh is not None:
            self._fh.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Finish the file atomically (a killed run never leaves a half-written quarantine.jsonl)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._tmp.replace(self.path)
