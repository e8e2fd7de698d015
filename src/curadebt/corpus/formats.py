"""One reader per corpus format. Each turns one source into documents through a
:class:`~curadebt.corpus.records.RecordBuilder` (which quarantines bad records) and adds the bytes
it read to the books.

==========  ======================================================================================
format      what is a record
==========  ======================================================================================
jsonl       one JSON object per line (``.jsonl``, ``.ndjson``; ``.gz``/``.zst`` too)
json        a JSON array of objects (a file whose first character is ``[``), else read as JSONL
csv / tsv   one row, the header names the fields (``.csv``, ``.tsv``; ``.gz``/``.zst`` too)
parquet     one row
arrow       one row of an Arrow IPC file or stream (``.arrow``, a ``datasets`` shard)
dataset     a folder written by ``datasets`` ``save_to_disk`` (one split)
text        a whole file (``.txt``, ``.text``, ``.md``)
==========  ======================================================================================
"""
from __future__ import annotations

import csv
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from curadebt.corpus import quarantine as q
from curadebt.core.document import Document
from curadebt.corpus.records import CorpusError, RecordBuilder, has_lone_surrogate
from curadebt.corpus.streams import BOM, decode_text, iter_lines_bounded, open_binary

#: a JSON escape of a surrogate code point (the only way a lone surrogate gets into a JSON string)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_COMPRESSED = (".gz", ".zst")


@dataclass
class SourceFile:
    """One thing to read: a file (or a dataset folder) in a format, named ``rel`` in locations and ids."""

    path: Path
    rel: str
    format: str
    meta: dict[str, Any] = field(default_factory=dict)   # added to every record's meta (e.g. its split)
    source: str | None = None                            # the source of text files (--source-from)
    # a byte range of an uncompressed JSONL file (curadebt.corpus.units): [start, end) starts at a
    # line start, and its first line is line ``first_line`` of the file
    start: int = 0
    end: int | None = None
    first_line: int = 1


def _truncated(src: SourceFile, fh, number: int, e: Exception) -> CorpusError:
    raw = getattr(fh, "fileobj", None)
    at = f" near compressed byte {raw.tell():,} of {src.path.stat().st_size:,}" if raw is not None else ""
    return CorpusError(f"{src.rel}: truncated or corrupt compressed file{at}, after {number:,} complete lines "
                       f"({type(e).__name__}: {e}); re-copy or re-compress it")


def read_jsonl(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    limit = b.config.max_record_bytes
    number = src.first_line - 1
    with open_binary(src.path, src.rel, src.start, src.end) as fh:
        lines = iter_lines_bounded(fh, limit, at_file_start=src.start == 0)
        while True:
            try:
                item = next(lines, None)
            except (EOFError, OSError, zlib.error) as e:  # gzip: truncated (EOFError) or corrupt
                raise _truncated(src, fh, number, e) from e
            if item is None:
                return
            line, size = item
            number += 1
            b.stats.bytes_read += size
            location = f"{src.rel}:{number}"
            if line is None:
                b.reject(location, q.TOO_LARGE, f"line of {size} bytes is over --max-record-bytes={limit}")
                continue
            if not line.strip():
                continue  # blank lines are layout, not records
            try:
                s = line.decode("utf-8")
            except UnicodeDecodeError as e:
                b.reject(location, q.INVALID_UTF8, str(e), line)
                continue
            try:
                rec = json.loads(s)
            except json.JSONDecodeError as e:
                b.reject(location, q.INVALID_JSON, str(e), line)
                continue
            doc = b.from_record(rec, location, line, check_surrogates=_SURROGATE_ESCAPE.search(line) is not None,
                                extra_meta=src.meta)
            if doc is not None:
                yield doc


def _first_byte(src: SourceFile) -> bytes:
    with open_binary(src.path, src.rel) as fh:
        head = fh.read(4096)
    head = head[len(BOM):] if head.startswith(BOM) else head
    stripped = head.lstrip()
    return stripped[:1]


def read_json(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    """A JSON array of records; a ``.json`` file that is not an array is read as JSONL."""
    if _first_byte(src) != b"[":
        yield from read_jsonl(src, b)
        return
    with open_binary(src.path, src.rel) as fh:
        try:
            raw = fh.read()
        except (EOFError, OSError, zlib.error) as e:
            raise _truncated(src, fh, 0, e) from e
    b.stats.bytes_read += len(raw)
    try:
        items = json.loads(raw[len(BOM):] if raw.startswith(BOM) else raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorpusError(f"{src.rel}: not valid JSON ({e}); a JSON array of records, or one object per line") from e
    check = _SURROGATE_ESCAPE.search(raw) is not None
    for i, rec in enumerate(items):
        doc = b.from_record(rec, f"{src.rel}:{i + 1}", json.dumps(rec, ensure_ascii=False)[:400] if not
                            isinstance(rec, dict) else b"", check_surrogates=check, extra_meta=src.meta)
        if doc is not None:
            yield doc


def _csv_reader(delimiter: str) -> Callable[[SourceFile, RecordBuilder], Iterator[Document]]:
    kind = "TSV" if delimiter == "\t" else "CSV"

    def read(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
        csv.field_size_limit(max(b.config.max_record_bytes, 1 << 17))
        with open_binary(src.path, src.rel) as raw:
            counted = _CountingReader(raw)
            text = io.TextIOWrapper(counted, encoding="utf-8-sig", errors="surrogateescape", newline="")
            rows = csv.DictReader(text, delimiter=delimiter)
            while True:
                try:
                    row = next(rows, None)
                except (EOFError, OSError, zlib.error) as e:
                    raise _truncated(src, raw, rows.line_num, e) from e
                except csv.Error as e:
                    raise CorpusError(f"{src.rel}:{rows.line_num}: not readable as {kind} ({e})") from e
                b.stats.bytes_read = b.stats.bytes_read + counted.take()
                if row is None:
                    return
                location = f"{src.rel}:{rows.line_num}"
                if None in row or None in row.values():
                    b.reject(location, q.INVALID_CSV, f"the row's fields do not match the header's "
                             f"{len(rows.fieldnames or [])}", json.dumps(row, default=str)[:400])
                    continue
                if has_lone_surrogate(row):
                    b.reject(location, q.INVALID_UTF8, "the row is not valid UTF-8", json.dumps(row, default=str)[:400])
                    continue
                doc = b.from_record(dict(row), location, extra_meta=src.meta)
                if doc is not None:
                    yield doc

    return read


class _CountingReader(io.RawIOBase):
    """Counts the bytes read through it (the books' ``bytes_read``)."""

    def __init__(self, inner):
        self.inner, self.n = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        data = self.inner.read(len(buf))
        n = len(data)
        buf[:n] = data
        self.n += n
        return n

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


def _arrow_batches(batches: Iterable, src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    row = 0
    for rb in batches:
        for rec in rb.to_pylist():
            row += 1
            doc = b.from_record(rec, f"{src.rel}:{row}", extra_meta=src.meta)
            if doc is not None:
                yield doc


def _unreadable(src: SourceFile, what: str, e: Exception) -> CorpusError:
    import pyarrow as pa

    if isinstance(e, OSError) and not isinstance(e, pa.ArrowException):
        return CorpusError(f"{src.rel}: cannot read it ({e.strerror or e}); fix its permissions or leave it out")
    return CorpusError(f"{src.rel}: not a readable {what} file ({e}); re-copy it or leave it out")


def read_parquet(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(src.path)
    except (OSError, pa.ArrowException) as e:
        raise _unreadable(src, "Parquet", e) from e
    b.stats.bytes_read += src.path.stat().st_size
    batches = pf.iter_batches(batch_size=1024)
    while True:
        try:
            rb = next(batches, None)
        except (OSError, pa.ArrowException) as e:
            raise CorpusError(f"{src.rel}: corrupt Parquet data ({e}); re-copy it or leave it out") from e
        if rb is None:
            return
        yield from _arrow_batches([rb], src, b)


def _arrow_file(path: Path, src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    import pyarrow as pa

    b.stats.bytes_read += path.stat().st_size
    try:
        with pa.memory_map(str(path)) as mm:
            try:
                reader = pa.ipc.open_stream(mm)
                batches: Iterable = reader
            except pa.ArrowInvalid:
                f = pa.ipc.open_file(mm)
                batches = (f.get_batch(i) for i in range(f.num_record_batches))
            yield from _arrow_batches(batches, src, b)
    except (OSError, pa.ArrowException) as e:
        raise _unreadable(src, "Arrow", e) from e


def read_arrow(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    yield from _arrow_file(src.path, src, b)


def read_dataset_dir(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    """A folder written by ``datasets.Dataset.save_to_disk``: the Arrow files listed in state.json."""
    state = json.loads((src.path / "state.json").read_text())
    files = [f["filename"] for f in state.get("_data_files", [])] or sorted(p.name for p in src.path.glob("*.arrow"))
    for name in files:
        part = SourceFile(src.path / name, f"{src.rel}/{name}", "arrow", src.meta)
        yield from _arrow_file(part.path, part, b)


def read_text(src: SourceFile, b: RecordBuilder) -> Iterator[Document]:
    size = src.path.stat().st_size
    b.stats.bytes_read += size
    if size > b.config.max_record_bytes:
        b.reject(src.rel, q.TOO_LARGE, f"file of {size} bytes is over --max-record-bytes={b.config.max_record_bytes}")
        return
    try:
        raw = src.path.read_bytes()
    except OSError as e:
        b.reject(src.rel, q.UNREADABLE, str(e))
        return
    text, fallback = decode_text(raw)
    meta = {"path": src.rel, **src.meta}
    if fallback:
        meta["encoding_fallback"] = fallback
    doc = b.from_text(text, src.rel, src.rel, None, raw, extra_meta=meta, source=src.source)
    if doc is not None:
        if fallback:
            b.stats.decoded_with_fallback += 1
        yield doc


READERS: dict[str, Callable[[SourceFile, RecordBuilder], Iterator[Document]]] = {
    "jsonl": read_jsonl, "json": read_json, "csv": _csv_reader(","), "tsv": _csv_reader("\t"),
    "parquet": read_parquet, "arrow": read_arrow, "dataset": read_dataset_dir, "text": read_text,
}
#: file extensions of each format (a trailing .gz or .zst is allowed where the format streams)
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "jsonl": (".jsonl", ".ndjson"), "json": (".json",), "csv": (".csv",), "tsv": (".tsv",),
    "parquet": (".parquet",), "arrow": (".arrow",), "text": (".txt", ".text", ".md"),
}
_STREAMING = ("jsonl", "json", "csv", "tsv")


def format_of(path: Path) -> str | None:
    """The format of a file by its extension (``.jsonl.gz`` is jsonl), or None."""
    name = path.name.lower()
    base = name
    for c in _COMPRESSED:
        if name.endswith(c):
            base = name[: -len(c)]
            break
    for fmt, exts in EXTENSIONS.items():
        if base.endswith(exts) and (base == name or fmt in _STREAMING):
            return fmt
    return None


def supported_text() -> str:
    exts = ", ".join(e for exts in EXTENSIONS.values() for e in exts)
    return f"{exts} (.gz/.zst for JSONL, JSON, CSV and TSV), and folders saved by datasets.save_to_disk"
