"""From raw records to documents: the reader's settings, its books, and the one id rule.

:class:`RecordBuilder` turns a record (a JSON object, a Parquet/Arrow/CSV row, a text file, a dict
from memory) into a :class:`~curadebt.corpus.batch.Document` or a quarantine entry, and keeps
``ReadStats`` exact: ``documents_read == documents_ok + documents_quarantined``.

**Ids**: the record's ``id_field`` (default ``id``) when it has one; a value that is not a string
(an integer, a list) is shown and matched as its compact JSON (``123``, ``["x"]``), while the record
keeps the original value. A record without one gets its location ``path:line`` (``path:row`` for
tables), and a text file its path; the path is relative to the input, prefixed by the input's own
name when several inputs are read together, so ids never collide across inputs.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curadebt.corpus import quarantine as q
from curadebt.core.config import setting
from curadebt.core.document import Document
from curadebt.core.errors import EXIT_INPUT, CuradebtError

DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024
#: How many distinct field names :attr:`ReadStats.fields_without_text` remembers.
MAX_FIELDS_SEEN = 50


class CorpusError(CuradebtError):
    """The corpus cannot be read at all (missing path, unknown format, a truncated or corrupt
    compressed file, no document in it); raised with advice."""

    exit_code = EXIT_INPUT


class EmptyCorpusError(CorpusError):
    """The corpus holds no document to work on (no records, or every record quarantined)."""


@dataclass
class ReaderConfig:
    """How records become documents: which fields hold the text, id and source, and what is too big."""

    text_field: str = setting("text", help="Field holding the document text (JSONL/Parquet/HF).")
    id_field: str | None = setting("id", help="Field holding the document id; a record without it is named by "
                                              "its location (file:line).")
    source_field: str | None = setting(None, help="Field naming the document's source (the mixture and order "
                                                  "measures and the mixture op need one; the index build takes a "
                                                  "'source' field when present).")
    max_record_bytes: int = setting(DEFAULT_MAX_RECORD_BYTES, help="Records larger than this are quarantined "
                                                                   "as too_large.")
    batch_size: int = setting(1000, help="Documents per batch.")
    format: str | None = setting(None, flag="--input-format",
                                 help="Read every input file as this format: jsonl, json, csv, tsv, parquet, arrow, "
                                      "text (default: by extension; an unknown extension is an error).")
    split: str | None = setting(None, help="The split of a saved Hugging Face DatasetDict to read (default: "
                                           "every split, each record's meta naming it).")
    source_from: str | None = setting(None, help="Text files have no fields: take their source from their "
                                                 "'folder' (the top folder under the input, or the input's name) "
                                                 "or their 'file' name.")


@dataclass
class ReadStats:
    documents_read: int = 0
    documents_ok: int = 0
    documents_quarantined: int = 0
    bytes_read: int = 0
    decoded_with_fallback: int = 0
    files: list[str] = field(default_factory=list)
    #: paths under the given folders that were not read, each {"path", "reason"}
    skipped: list[dict] = field(default_factory=list)
    #: field names of the records that had no text field (to say which fields there are)
    fields_without_text: Counter = field(default_factory=Counter)
    #: things the user should know about how the input was read (e.g. an option that cannot apply)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "documents_read": self.documents_read,
            "documents_ok": self.documents_ok,
            "documents_quarantined": self.documents_quarantined,
            "bytes_read": self.bytes_read,
            "decoded_with_fallback": self.decoded_with_fallback,
            "files": self.files,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def id_string(value: Any) -> str:
    """A record id as a string: strings as they are, anything else as compact JSON (``123``,
    ``["x"]``, ``true``), so two different values never read as the same id."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


class RecordBuilder:
    """Turns raw records into Documents or quarantine entries, keeping ReadStats exact."""

    def __init__(self, config: ReaderConfig, quarantine: q.Quarantine, stats: ReadStats):
        self.config = config
        self.quarantine = quarantine
        self.stats = stats
        self.ordinal = 0

    def reject(self, location: str, reason: str, detail: str = "", raw: bytes | str = b"") -> None:
        self.stats.documents_read += 1
        self.stats.documents_quarantined += 1
        self.quarantine.add(q.QuarantineRecord(location, reason, detail, q.preview_of(raw)))

    def from_record(self, rec: Any, location: str, raw: bytes | str = b"", check_surrogates: bool = False,
                    extra_meta: dict | None = None) -> Document | None:
        """``location`` (``path:line``) is also the id of a record without an id field."""
        cfg = self.config
        if not isinstance(rec, dict):
            self.reject(location, q.NOT_AN_OBJECT, f"expected a JSON object, got {type(rec).__name__}", raw)
            return None
        if cfg.text_field not in rec or rec[cfg.text_field] is None:
            fields = self.stats.fields_without_text
            for k in rec:
                if k in fields or len(fields) < MAX_FIELDS_SEEN:
                    fields[str(k)] += 1
            self.reject(location, q.MISSING_TEXT, f"no field {cfg.text_field!r} (use --text-field)", raw)
            return None
        text = rec[cfg.text_field]
        if not isinstance(text, str):
            self.reject(location, q.NON_STRING_TEXT, f"field {cfg.text_field!r} is {type(text).__name__}", raw)
            return None
        if check_surrogates and has_lone_surrogate(rec):
            self.reject(location, q.UNENCODABLE_TEXT, "a string holds a lone surrogate (e.g. \\ud800): not Unicode "
                        "text, and no UTF-8 output can hold it", raw)
            return None
        doc_id = location
        if cfg.id_field and rec.get(cfg.id_field) is not None:
            doc_id = id_string(rec[cfg.id_field])
        return self.from_text(text, location, doc_id, rec, raw, extra_meta)

    def from_text(self, text: str, location: str, doc_id: str, rec: dict | None = None, raw: bytes | str = b"",
                  extra_meta: dict | None = None, source: str | None = None) -> Document | None:
        cfg = self.config
        if not text.strip():
            self.reject(location, q.EMPTY_TEXT, "text is empty or whitespace", raw)
            return None
        if len(text) > cfg.max_record_bytes or len(text.encode("utf-8", "surrogatepass")) > cfg.max_record_bytes:
            self.reject(location, q.TOO_LARGE, f"text over --max-record-bytes={cfg.max_record_bytes}", raw)
            return None
        meta: dict = {}
        if rec is not None:
            if cfg.source_field and rec.get(cfg.source_field) is not None:
                source = str(rec[cfg.source_field])
            meta.update({k: v for k, v in rec.items() if k != cfg.text_field})
        for k, v in (extra_meta or {}).items():  # never over a field of the record itself
            meta.setdefault(k, v)
        doc = Document(id=doc_id, text=text, ordinal=self.ordinal, source=source, meta=meta)
        self.ordinal += 1
        self.stats.documents_read += 1
        self.stats.documents_ok += 1
        return doc
