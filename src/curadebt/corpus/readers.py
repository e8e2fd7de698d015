"""Streaming corpus readers: documents in a fixed order from files, folders, globs, saved HF datasets
or records in memory; bad records go to a :class:`Quarantine`, never lost.

``ReadStats`` keeps the books: ``documents_read == documents_ok + documents_quarantined`` always
holds. The pieces:

- :mod:`curadebt.corpus.sources`: what to read (formats by extension, globs, dataset folders, what
  is skipped and why);
- :mod:`curadebt.corpus.formats`: one reader per format (JSONL, JSON arrays, CSV/TSV, Parquet,
  Arrow, datasets folders, text files);
- :mod:`curadebt.corpus.streams`: compressed files read to their end, bounded universal lines, text
  decoding;
- :mod:`curadebt.corpus.records`: from record to document (the id rule, quarantine reasons).

What is read, exactly:

- JSONL lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (JSON strings cannot hold a raw line break,
  so this never splits a record); a UTF-8 byte order mark at the start of a file is skipped.
- Compressed files (``.gz``, ``.zst``) are read to their end marker: a truncated or corrupt file
  stops the run with a :class:`CorpusError` naming the file and how far it got; it is never read
  as a shorter corpus.
- A record whose text (or any other string) holds a lone surrogate (``"\\ud800"``: valid JSON, not
  Unicode text, and not writable as UTF-8) is quarantined as ``unencodable_text``.
- Ids: the id field (default ``id``), non-strings as compact JSON; else the record's location
  ``path:line`` (see :mod:`curadebt.corpus.records`).
"""
from __future__ import annotations

import os
from typing import Callable, Iterator

from curadebt.corpus import quarantine as q
from curadebt.corpus.batch import Batch, batches_of
from curadebt.core.document import Document
from curadebt.corpus.formats import READERS
from curadebt.corpus.records import (DEFAULT_MAX_RECORD_BYTES, CorpusError, EmptyCorpusError, ReaderConfig, ReadStats,
                                     RecordBuilder, id_string)
from curadebt.corpus.sources import MemorySource, expand_inputs, plan_sources
from curadebt.corpus.streams import FALLBACK_ENCODINGS, decode_text

__all__ = ["CorpusError", "DEFAULT_MAX_RECORD_BYTES", "EmptyCorpusError", "FALLBACK_ENCODINGS", "MemorySource",
           "ReadStats", "ReaderConfig", "decode_text", "expand_inputs", "id_string", "iter_batches",
           "iter_documents", "no_documents_message"]


def _read_memory(src: MemorySource, b: RecordBuilder) -> Iterator[Document]:
    field = b.config.text_field
    for i, rec in enumerate(src.records(), start=1):
        if isinstance(rec, str):
            rec = {field: rec}
        doc = b.from_record(rec, f"{src.name}:{i}", check_surrogates=True, extra_meta=src.meta)
        if doc is not None:
            yield doc


def iter_documents(paths, config: ReaderConfig | None = None, quarantine: q.Quarantine | None = None,
                   stats: ReadStats | None = None) -> Iterator[Document]:
    """Stream documents from files, folders, quoted globs or :class:`MemorySource` s, in a fixed order."""
    config = config or ReaderConfig()
    quarantine = quarantine if quarantine is not None else q.Quarantine()
    stats = stats if stats is not None else ReadStats()
    plan = plan_sources(paths, config)
    stats.skipped.extend(plan.skipped)
    for w in plan.warnings:
        stats.warn(w)
    if not plan.items:
        where = ", ".join(os.fspath(p) if not isinstance(p, MemorySource) else p.name for p in expand_inputs(paths))
        seen = f" (skipped: {', '.join(s['path'] + ' [' + s['reason'] + ']' for s in stats.skipped[:5])})" \
            if stats.skipped else ""
        raise CorpusError(f"{where}: no files to read{seen}.")
    b = RecordBuilder(config, quarantine, stats)
    for item in plan.items:
        if isinstance(item, MemorySource):
            stats.files.append(item.name)
            yield from _read_memory(item, b)
        else:
            stats.files.append(item.rel)
            yield from READERS[item.format](item, b)


def no_documents_message(paths, stats: ReadStats, quarantine: q.Quarantine, text_field: str) -> str:
    """Why a read gave no document, and what to do (for :class:`EmptyCorpusError`)."""
    where = ", ".join(p.name if isinstance(p, MemorySource) else os.fspath(p) for p in expand_inputs(paths))
    if stats.documents_read == 0:
        return f"{where}: no records to read (the corpus is empty); nothing was written"
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(quarantine.counts.items()))
    msg = f"{where}: no document to work on: all {stats.documents_read:,} records were quarantined ({reasons})"
    if stats.fields_without_text:
        names = ", ".join(repr(k) for k, _ in stats.fields_without_text.most_common(12))
        msg += f"; the records have no field {text_field!r}, their fields are {names}: choose one with --text-field"
    return msg + "; nothing was written"


def iter_batches(paths, config: ReaderConfig | None = None, quarantine: q.Quarantine | None = None,
                 stats: ReadStats | None = None, tokenizer: Callable[[str], list[str]] | None = None,
                 entity_extractor: Callable[[str], list[str]] | None = None) -> Iterator[Batch]:
    """Group documents into batches of ``config.batch_size`` consecutive documents."""
    config = config or ReaderConfig()
    yield from batches_of(iter_documents(paths, config, quarantine, stats), config.batch_size, tokenizer,
                          entity_extractor)
