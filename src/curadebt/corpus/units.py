"""Read units: a corpus cut into pieces that workers read for themselves.

A worker that reads its own bytes spares the driver the parsing and the shipping of every document
(the driver of a parallel pass used to read and pickle the whole corpus, and was the bottleneck).
The driver only plans:

- An uncompressed JSONL file is cut into byte ranges of about ``unit_bytes``, each starting right
  after a ``\\n`` (so no line is split), with the number of its first line counted in the same
  planning read, so locations and location ids (``corpus.jsonl:17``) are those of one sequential
  read. Any other source (compressed files, JSON arrays, CSV, Parquet, Arrow, datasets folders, text
  files) is read whole by one worker; consecutive small sources share a unit.
- Document ordinals depend on which records are quarantined, which only a parse can tell, so a
  worker reads a unit first with local ordinals (0, 1, ...) and reports how many documents it
  holds; once every earlier unit has reported, the driver sends the unit's *base* and the worker
  shifts its documents to their global ordinals (:func:`rebase`) before any measure sees them. A
  unit whose base is known when it is handed out is read and measured in one go.
- Each unit's books (:class:`~curadebt.corpus.records.ReadStats`) and quarantine entries come back
  with it and are merged in unit order (:func:`merge_stats`), so ``read = audited + quarantined``,
  the quarantine file and every count equal one sequential read.

Records held in memory (:class:`~curadebt.corpus.sources.MemorySource`) cannot be read by another
process; :func:`plan_units` returns None for them and the driver feeds the workers instead.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Iterator

from curadebt.core.document import Document
from curadebt.corpus.formats import READERS, SourceFile
from curadebt.corpus.quarantine import Quarantine, QuarantineRecord
from curadebt.corpus.records import MAX_FIELDS_SEEN, ReaderConfig, ReadStats, RecordBuilder
from curadebt.corpus.sources import MemorySource, plan_sources

#: target bytes of a unit: small enough that a worker may hold one parsed, large enough that the
#: messages per unit cost nothing
UNIT_BYTES = 2 << 20
#: a unit larger than this (a big compressed file) is never held: it waits until its base is known
HOLD_BYTES = 64 << 20
_BLOCK = 8 << 20


@dataclass(frozen=True)
class Segment:
    """One source of a unit: ``items[item]`` whole, or bytes ``[start, end)`` of it (a JSONL file)."""

    item: int
    start: int = 0
    end: int | None = None
    first_line: int = 1


@dataclass(frozen=True)
class ReadUnit:
    index: int
    segments: tuple[Segment, ...]
    nbytes: int


@dataclass
class UnitPlan:
    """The sources of a corpus (as :func:`~curadebt.corpus.sources.plan_sources` lists them) and
    its units, in reading order."""

    items: list[SourceFile]
    units: list[ReadUnit]
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(u.nbytes for u in self.units)


def _splittable(src: SourceFile) -> bool:
    name = src.path.name.lower()
    return src.format == "jsonl" and not name.endswith((".gz", ".zst"))


def line_ranges(path, unit_bytes: int) -> list[tuple[int, int, int]]:
    """``(start, end, first_line)`` ranges of about ``unit_bytes`` covering the file, each starting
    right after a ``\n``; lines are counted as :func:`~curadebt.corpus.streams.iter_lines_bounded`
    yields them (``\n``, ``\r\n`` and a lone ``\r`` end a line; a byte order mark is no line)."""
    size = os.path.getsize(path)
    starts, first_lines = [0], [1]
    pos, ends, prev_cr = 0, 0, False
    next_cut = unit_bytes
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            i = 0
            while next_cut <= pos + len(block):
                j = block.find(b"\n", max(i, next_cut - 1 - pos))
                if j < 0:
                    break
                ends += _line_ends(block[i:j + 1], prev_cr)
                prev_cr, i = False, j + 1
                starts.append(pos + i)
                first_lines.append(1 + ends)
                next_cut = pos + i + unit_bytes
            rest = block[i:]
            ends += _line_ends(rest, prev_cr)
            if rest:
                prev_cr = rest.endswith(b"\r")
            pos += len(block)
    if len(starts) > 1 and starts[-1] >= size:  # the file ends right at a cut
        starts.pop()
        first_lines.pop()
    return [(s, e, f) for s, e, f in zip(starts, starts[1:] + [size], first_lines)]


def _line_ends(data: bytes, prev_cr: bool) -> int:
    """Line ends in ``data`` (``\\r\\n`` counts once), given whether the byte before it was ``\\r``."""
    n = data.count(b"\n")
    if b"\r" in data:  # rare: one scan more only where it occurs
        n += data.count(b"\r") - data.count(b"\r\n")
    if prev_cr and data.startswith(b"\n"):
        n -= 1  # the '\n' of a '\r\n' cut between blocks
    return n


def plan_units(paths, config: ReaderConfig, unit_bytes: int = UNIT_BYTES) -> UnitPlan | None:
    """The units of a corpus (see the module docstring); None when it holds records in memory or
    nothing to read."""
    plan = plan_sources(paths, config)
    if not plan.items or any(isinstance(i, MemorySource) for i in plan.items):
        return None  # nothing to read (the sequential reader says why), or records in memory
    units: list[ReadUnit] = []
    group: list[Segment] = []
    group_bytes = 0

    def close_group() -> None:
        nonlocal group, group_bytes
        if group:
            units.append(ReadUnit(len(units), tuple(group), group_bytes))
            group, group_bytes = [], 0

    for k, src in enumerate(plan.items):
        size = _size(src)
        if _splittable(src) and size > unit_bytes:
            close_group()
            for start, end, first in line_ranges(src.path, unit_bytes):
                units.append(ReadUnit(len(units), (Segment(k, start, end, first),), end - start))
            continue
        if group_bytes + size > unit_bytes:
            close_group()
        group.append(Segment(k))
        group_bytes += size
    close_group()
    return UnitPlan(list(plan.items), units, list(plan.skipped), list(plan.warnings))


def source_sizes(plan: UnitPlan) -> list[int]:
    """The size of every source as this machine sees it (a worker elsewhere checks its own)."""
    return [_size(src) for src in plan.items]


def _size(src: SourceFile) -> int:
    if src.path.is_dir():
        return sum(p.stat().st_size for p in src.path.rglob("*") if p.is_file())
    return src.path.stat().st_size


# ---------------------------------------------------------------------------------------------
# reading a unit (in a worker)
# ---------------------------------------------------------------------------------------------

class CollectingQuarantine(Quarantine):
    """A quarantine that keeps its records, to be added to the run's in unit order."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.records: list[QuarantineRecord] = []

    def add(self, record: QuarantineRecord) -> None:
        super().add(record)
        self.records.append(record)


@dataclass
class UnitRead:
    """A unit's books after its read: documents read, its stats and quarantine entries."""

    index: int
    documents: int
    stats: ReadStats
    quarantined: list[QuarantineRecord]
    tokens: int = 0             # when read and measured in one go (and the pass counts tokens)


def iter_unit(unit: ReadUnit, items: list[SourceFile], config: ReaderConfig, base: int = 0
              ) -> tuple[Iterator[Document], ReadStats, CollectingQuarantine]:
    """The unit's documents with ordinals from ``base``, and the books they fill as they are read."""
    stats, quarantine = ReadStats(), CollectingQuarantine()
    builder = RecordBuilder(config, quarantine, stats)
    builder.ordinal = base

    def docs() -> Iterator[Document]:
        for seg in unit.segments:
            src = items[seg.item]
            if seg.end is not None:
                src = dataclasses.replace(src, start=seg.start, end=seg.end, first_line=seg.first_line)
            yield from READERS[src.format](src, builder)

    return docs(), stats, quarantine


def rebase(docs: list[Document], base: int) -> list[Document]:
    """Documents read with local ordinals (from 0), moved to start at ``base``."""
    if not base:
        return docs
    return [Document(d.id, d.text, d.ordinal + base, d.source, d.meta) for d in docs]


def merge_stats(total: ReadStats, part: ReadStats) -> None:
    """Add a unit's books to the run's (units in reading order give one sequential read's books)."""
    total.documents_read += part.documents_read
    total.documents_ok += part.documents_ok
    total.documents_quarantined += part.documents_quarantined
    total.bytes_read += part.bytes_read
    total.decoded_with_fallback += part.decoded_with_fallback
    fields = total.fields_without_text
    for k, v in part.fields_without_text.items():
        if k in fields or len(fields) < MAX_FIELDS_SEEN:
            fields[k] += v
    for w in part.warnings:
        total.warn(w)


def open_books(plan: UnitPlan, stats: ReadStats) -> None:
    """What a sequential read puts in the books before and between its documents: skipped paths,
    warnings, the files read (all of them: a pass reads every unit)."""
    stats.skipped.extend(plan.skipped)
    for w in plan.warnings:
        stats.warn(w)
    stats.files.extend(src.rel for src in plan.items)
