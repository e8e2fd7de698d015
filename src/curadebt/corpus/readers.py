"""Streaming corpus readers: JSONL (.gz, .zst), Parquet, folders of text files, saved HF datasets.

Every reader yields :class:`Document` objects in a fixed order and sends bad records to a
:class:`Quarantine` instead of raising. ``ReadStats`` keeps the books:
``documents_read == documents_ok + documents_quarantined`` always holds.
"""
from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from curadebt.corpus import quarantine as q
from curadebt.corpus.document import Batch, Document

DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".jsonl.zst", ".json.zst", ".ndjson.zst")
PARQUET_SUFFIXES = (".parquet",)
# Text that is not valid UTF-8 is decoded with the first of these that works; the document is
# flagged (meta["encoding_fallback"]) and counted. cp1252 covers the usual Windows-made files;
# latin-1 never fails, so nothing is ever lost.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")


class CorpusError(Exception):
    """The corpus cannot be read at all (missing path, unknown format); raised with advice."""


@dataclass
class ReaderConfig:
    text_field: str = "text"
    id_field: str | None = None  # default: line / row number (1-based), prefixed by file when several
    source_field: str | None = None
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    batch_size: int = 1000


@dataclass
class ReadStats:
    documents_read: int = 0
    documents_ok: int = 0
    documents_quarantined: int = 0
    bytes_read: int = 0
    decoded_with_fallback: int = 0
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "documents_read": self.documents_read,
            "documents_ok": self.documents_ok,
            "documents_quarantined": self.documents_quarantined,
            "bytes_read": self.bytes_read,
            "decoded_with_fallback": self.decoded_with_fallback,
            "files": self.files,
        }


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8, else by the documented fallback. Returns (text, fallback_used)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for enc in FALLBACK_ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"  # unreachable: latin-1 decodes any byte string


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in JSONL_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _open_binary(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".zst"):
        import zstandard

        fh = open(path, "rb")
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh, closefd=True))
    return open(path, "rb")


def _iter_lines_bounded(fh: io.BufferedIOBase, limit: int) -> Iterator[tuple[bytes | None, int]]:
    """Yield (line, size) with the newline stripped; a line over ``limit`` bytes is yielded as
    (None, size) after being skipped in chunks, so one huge line never sits whole in memory."""
    chunk = limit + 1
    while True:
        line = fh.readline(chunk)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n") and len(line) - 1 <= limit:
            yield line.rstrip(b"\r\n"), len(line)
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = fh.readline(1 << 20)
            if not line:
                break
            size += len(line)
        yield None, size


class _Builder:
    """Turns raw records into Documents or quarantine entries, keeping ReadStats exact."""

    def __init__(self, config: ReaderConfig, quarantine: q.Quarantine, stats: ReadStats, multi_file: bool):
        self.config = config
        self.quarantine = quarantine
        self.stats = stats
        self.multi_file = multi_file
        self.ordinal = 0

    def default_id(self, rel: str, number: int) -> str:
        return f"{rel}:{number}" if self.multi_file else str(number)

    def reject(self, location: str, reason: str, detail: str = "", raw: bytes | str = b"") -> None:
        self.stats.documents_read += 1
        self.stats.documents_quarantined += 1
        self.quarantine.add(q.QuarantineRecord(location, reason, detail, q.preview_of(raw)))

    def from_record(self, rec: Any, location: str, default_id: str, raw: bytes | str = b"") -> Document | None:
        cfg = self.config
        if not isinstance(rec, dict):
            self.reject(location, q.NOT_AN_OBJECT, f"expected a JSON object, got {type(rec).__name__}", raw)
            return None
        if cfg.text_field not in rec or rec[cfg.text_field] is None:
            self.reject(location, q.MISSING_TEXT, f"no field {cfg.text_field!r} (use --text-field)", raw)
            return None
        text = rec[cfg.text_field]
        if not isinstance(text, str):
            self.reject(location, q.NON_STRING_TEXT, f"field {cfg.text_field!r} is {type(text).__name__}", raw)
            return None
        return self.from_text(text, location, self._id(rec, default_id), rec, raw)

    def _id(self, rec: dict, default_id: str) -> str:
        if self.config.id_field and rec.get(self.config.id_field) is not None:
            return str(rec[self.config.id_field])
        return default_id

    def from_text(self, text: str, location: str, doc_id: str, rec: dict | None = None, raw: bytes | str = b"",
                  extra_meta: dict | None = None) -> Document | None:
        cfg = self.config
        if not text.strip():
            self.reject(location, q.EMPTY_TEXT, "text is empty or whitespace", raw)
            return None
        if len(text) > cfg.max_record_bytes or len(text.encode("utf-8", "surrogatepass")) > cfg.max_record_bytes:
            self.reject(location, q.TOO_LARGE, f"text over --max-record-bytes={cfg.max_record_bytes}", raw)
            return None
        source = None
        meta: dict = dict(extra_meta or {})
        if rec is not None:
            if cfg.source_field and rec.get(cfg.source_field) is not None:
                source = str(rec[cfg.source_field])
            meta.update({k: v for k, v in rec.items() if k not in (cfg.text_field,)})
        doc = Document(id=doc_id, text=text, ordinal=self.ordinal, source=source, meta=meta)
        self.ordinal += 1
        self.stats.documents_read += 1
        self.stats.documents_ok += 1
        return doc


def _read_jsonl(path: Path, rel: str, b: _Builder) -> Iterator[Document]:
    limit = b.config.max_record_bytes
    with _open_binary(path) as fh:
        for number, (line, size) in enumerate(_iter_lines_bounded(fh, limit), start=1):
            b.stats.bytes_read += size
            location = f"{rel}:{number}"
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
            doc = b.from_record(rec, location, b.default_id(rel, number), line)
            if doc is not None:
                yield doc


def _read_arrow_table_batches(batches: Iterable, rel: str, b: _Builder) -> Iterator[Document]:
    row = 0
    for rb in batches:
        for rec in rb.to_pylist():
            row += 1
            location = f"{rel}:{row}"
            doc = b.from_record(rec, location, b.default_id(rel, row))
            if doc is not None:
                yield doc


def _read_parquet(path: Path, rel: str, b: _Builder) -> Iterator[Document]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    b.stats.bytes_read += path.stat().st_size
    yield from _read_arrow_table_batches(pf.iter_batches(batch_size=1024), rel, b)


def _read_hf_dataset_dir(path: Path, b: _Builder) -> Iterator[Document]:
    """A folder written by ``datasets.Dataset.save_to_disk``: Arrow stream files listed in state.json."""
    import pyarrow as pa

    state = json.loads((path / "state.json").read_text())
    files = [f["filename"] for f in state.get("_data_files", [])] or sorted(p.name for p in path.glob("*.arrow"))
    for name in files:
        fp = path / name
        b.stats.bytes_read += fp.stat().st_size
        with pa.memory_map(str(fp)) as src:
            try:
                reader = pa.ipc.open_stream(src)
            except pa.ArrowInvalid:
                reader = pa.ipc.open_file(src)
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
                yield from _read_arrow_table_batches(batches, name, b)
                continue
            yield from _read_arrow_table_batches(reader, name, b)


def _read_text_file(path: Path, rel: str, b: _Builder) -> Iterator[Document]:
    size = path.stat().st_size
    b.stats.bytes_read += size
    if size > b.config.max_record_bytes:
        b.reject(rel, q.TOO_LARGE, f"file of {size} bytes is over --max-record-bytes={b.config.max_record_bytes}")
        return
    try:
        raw = path.read_bytes()
    except OSError as e:
        b.reject(rel, q.UNREADABLE, str(e))
        return
    text, fallback = decode_text(raw)
    meta = {"path": rel}
    if fallback:
        meta["encoding_fallback"] = fallback
    doc = b.from_text(text, rel, rel, None, raw, extra_meta=meta)
    if doc is not None:
        if fallback:
            b.stats.decoded_with_fallback += 1
        yield doc


def _is_hidden(p: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in p.relative_to(root).parts)


def list_corpus_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not _is_hidden(p, path))


def iter_documents(paths: str | os.PathLike | list, config: ReaderConfig | None = None,
                   quarantine: q.Quarantine | None = None, stats: ReadStats | None = None) -> Iterator[Document]:
    """Stream documents from one or more files or folders, in a fixed order."""
    config = config or ReaderConfig()
    quarantine = quarantine if quarantine is not None else q.Quarantine()
    stats = stats if stats is not None else ReadStats()
    roots = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    for root in roots:
        if not root.exists():
            raise CorpusError(f"{root}: no such file or folder. Give a JSONL(.gz/.zst), Parquet, text file, "
                              "or a folder of them (or a saved Hugging Face dataset).")
    plan: list[tuple[Path, Path]] = []
    for root in roots:
        if root.is_dir() and (root / "state.json").exists() and (root / "dataset_info.json").exists():
            plan.append((root, root))
        else:
            plan.extend((f, root) for f in list_corpus_files(root))
    if not plan:
        raise CorpusError(f"{', '.join(map(str, roots))}: no files to read.")
    b = _Builder(config, quarantine, stats, multi_file=len(plan) > 1)
    for f, root in plan:
        if f.is_dir():
            stats.files.append(str(f))
            yield from _read_hf_dataset_dir(f, b)
            continue
        rel = f.name if root.is_file() else str(f.relative_to(root))
        stats.files.append(rel)
        suf = _suffix(f)
        if suf in JSONL_SUFFIXES:
            yield from _read_jsonl(f, rel, b)
        elif suf in PARQUET_SUFFIXES:
            yield from _read_parquet(f, rel, b)
        else:
            yield from _read_text_file(f, rel, b)


def iter_batches(paths, config: ReaderConfig | None = None, quarantine: q.Quarantine | None = None,
                 stats: ReadStats | None = None, tokenizer: Callable[[str], list[str]] | None = None,
                 entity_extractor: Callable[[str], list[str]] | None = None) -> Iterator[Batch]:
    """Group documents into batches of ``config.batch_size`` consecutive documents."""
    config = config or ReaderConfig()
    buf: list[Document] = []
    for doc in iter_documents(paths, config, quarantine, stats):
        buf.append(doc)
        if len(buf) >= config.batch_size:
            yield Batch(buf, tokenizer, entity_extractor)
            buf = []
    if buf:
        yield Batch(buf, tokenizer, entity_extractor)
