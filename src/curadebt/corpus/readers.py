"""Streaming corpus readers: JSONL (.gz, .zst), Parquet, folders of text files, saved HF datasets.

Every reader yields :class:`Document` objects in a fixed order and sends bad records to a
:class:`Quarantine` instead of raising. ``ReadStats`` keeps the books:
``documents_read == documents_ok + documents_quarantined`` always holds.

What is read, exactly:

- JSONL lines end at ``\n``, ``\r\n`` or a lone ``\r`` (JSON strings cannot hold a raw line break,
  so this never splits a record); a UTF-8 byte order mark at the start of a file is skipped.
- Compressed files (``.gz``, ``.zst``) are read to their end marker: a truncated or corrupt file
  stops the run with a :class:`CorpusError` naming the file and how far it got; it is never read
  as a shorter corpus.
- A record whose text (or any other string) holds a lone surrogate (``"\ud800"``: valid JSON, not
  Unicode text, and not writable as UTF-8) is quarantined as ``unencodable_text``.
- A record id that is not a string (an integer, a list) is shown and matched as its compact JSON
  (``123``, ``["x"]``); the record itself keeps the original value.
- Folders are walked in sorted order; hidden entries, symlinked folders (not followed), dangling
  links and anything that is not a regular file (FIFOs, sockets) are skipped and listed in
  ``ReadStats.skipped`` with the reason. Links to files are read.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from curadebt.errors import EXIT_INPUT, CuradebtError
from curadebt.corpus import quarantine as q
from curadebt.corpus.document import Batch, Document

DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".jsonl.zst", ".json.zst", ".ndjson.zst")
PARQUET_SUFFIXES = (".parquet",)
# Text that is not valid UTF-8 is decoded with the first of these that works; the document is
# flagged (meta["encoding_fallback"]) and counted. cp1252 covers the usual Windows-made files;
# latin-1 never fails, so nothing is ever lost.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")


class CorpusError(CuradebtError):
    """The corpus cannot be read at all (missing path, unknown format, a truncated or corrupt
    compressed file, no document in it); raised with advice."""

    exit_code = EXIT_INPUT


class EmptyCorpusError(CorpusError):
    """The corpus holds no document to work on (no records, or every record quarantined)."""


@dataclass
class ReaderConfig:
    text_field: str = "text"
    id_field: str | None = None  # default: line / row number (1-based), prefixed by file when several
    source_field: str | None = None
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    batch_size: int = 1000


#: How many distinct field names :attr:`ReadStats.fields_without_text` remembers.
MAX_FIELDS_SEEN = 50


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

    def to_json(self) -> dict:
        return {
            "documents_read": self.documents_read,
            "documents_ok": self.documents_ok,
            "documents_quarantined": self.documents_quarantined,
            "bytes_read": self.bytes_read,
            "decoded_with_fallback": self.decoded_with_fallback,
            "files": self.files,
            "skipped": self.skipped,
        }


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (a leading byte order mark dropped), else by the documented fallback.
    Returns (text, fallback_used)."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
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


_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 20
#: a JSON escape of a surrogate code point (the only way a lone surrogate gets into a JSON string)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in JSONL_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(s):
            return s
    return path.suffix.lower()


class _ZstdReader(io.RawIOBase):
    """A zstd stream read to its end: a frame cut short or corrupt data raises CorpusError
    (``zstandard``'s own stream reader returns the truncated data as if it were all)."""

    def __init__(self, raw, name: str):
        import zstandard

        self._zstd = zstandard
        self._raw, self._name = raw, name
        self._dec = zstandard.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._in_frame = False
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._buf and not self._eof:
            chunk = self._raw.read(_BLOCK)
            if not chunk:
                if self._in_frame:
                    raise CorpusError(f"{self._name}: truncated zstd file (the last frame ends early, at compressed "
                                      f"byte {self._raw.tell():,}); re-copy or re-compress it")
                self._eof = True
                return
            try:
                out = []
                while chunk:
                    self._in_frame = True
                    out.append(self._dec.decompress(chunk))
                    if not self._dec.eof:
                        break
                    self._in_frame = False
                    chunk = self._dec.unused_data
                    self._dec = self._zstd.ZstdDecompressor().decompressobj()
                self._buf = b"".join(out)
            except self._zstd.ZstdError as e:
                raise CorpusError(f"{self._name}: corrupt zstd data near compressed byte {self._raw.tell():,}: {e}") from e

    def readinto(self, b) -> int:
        self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_binary(path: Path, name: str) -> io.BufferedIOBase:
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise CorpusError(f"{name}: cannot read it ({e.strerror or e}); fix its permissions or leave it out") from e
    lower = path.name.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if lower.endswith(".zst"):
        return io.BufferedReader(_ZstdReader(raw, name), buffer_size=_BLOCK)
    return raw


def _iter_lines_bounded(fh: io.BufferedIOBase, limit: int) -> Iterator[tuple[bytes | None, int]]:
    """Yield (line, size) with its line end stripped; lines end at ``\n``, ``\r\n`` or ``\r``, and
    a UTF-8 byte order mark at the start is skipped (counted in the first line's size). A line over
    ``limit`` bytes is yielded as (None, size) without ever being held whole in memory."""
    carry = b""
    skipped = -1   # bytes of an over-long line counted so far; -1 when not in one
    extra = 0      # bytes to add to the next line's size (a byte order mark)
    first = True
    while True:
        chunk = fh.read(_BLOCK)
        if first:
            first = False
            if chunk.startswith(_BOM):
                chunk, extra = chunk[len(_BOM):], len(_BOM)
        eof = not chunk
        data = carry + chunk if carry else chunk
        carry = b""
        lines = data.splitlines(keepends=True) if data else []
        if lines and not eof and not lines[-1].endswith(b"\n"):
            carry = lines.pop()  # unfinished (a final '\r' may be the first half of '\r\n')
        for line in lines:
            size = len(line) + extra
            extra = 0
            if skipped >= 0:  # the end of an over-long line
                yield None, skipped + size
                skipped = -1
                continue
            body = line.rstrip(b"\r\n")
            yield (body if len(body) <= limit else None), size
        if len(carry) > limit + 1:  # an over-long line: count its bytes, never hold them
            keep = b"\r" if carry.endswith(b"\r") else b""
            skipped = max(skipped, 0) + len(carry) - len(keep) + extra
            extra = 0
            carry = keep
        if eof:
            if skipped >= 0:
                yield None, skipped + extra
            elif extra:  # a file holding only a byte order mark
                yield b"", extra
            return


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def id_string(value: Any) -> str:
    """A record id as a string: strings as they are, anything else as compact JSON (``123``,
    ``["x"]``, ``true``), so two different values never read as the same id."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


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

    def from_record(self, rec: Any, location: str, default_id: str, raw: bytes | str = b"",
                    check_surrogates: bool = False) -> Document | None:
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
        if check_surrogates and _has_lone_surrogate(rec):
            self.reject(location, q.UNENCODABLE_TEXT, "a string holds a lone surrogate (e.g. \\ud800): not Unicode "
                        "text, and no UTF-8 output can hold it", raw)
            return None
        return self.from_text(text, location, self._id(rec, default_id), rec, raw)

    def _id(self, rec: dict, default_id: str) -> str:
        if self.config.id_field and rec.get(self.config.id_field) is not None:
            return id_string(rec[self.config.id_field])
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
    number = 0
    with _open_binary(path, rel) as fh:
        lines = _iter_lines_bounded(fh, limit)
        while True:
            try:
                item = next(lines, None)
            except (EOFError, OSError, zlib.error) as e:  # gzip: truncated (EOFError) or corrupt
                raw = getattr(fh, "fileobj", None)
                at = f" near compressed byte {raw.tell():,} of {path.stat().st_size:,}" if raw is not None else ""
                raise CorpusError(f"{rel}: truncated or corrupt compressed file{at}, after {number:,} complete "
                                  f"lines ({type(e).__name__}: {e}); re-copy or re-compress it") from e
            if item is None:
                return
            line, size = item
            number += 1
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
            doc = b.from_record(rec, location, b.default_id(rel, number), line,
                                check_surrogates=_SURROGATE_ESCAPE.search(line) is not None)
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except OSError as e:
        if isinstance(e, PermissionError) or not isinstance(e, pa.ArrowException):
            raise CorpusError(f"{rel}: cannot read it ({e.strerror or e}); fix its permissions or leave it out") from e
        raise CorpusError(f"{rel}: not a readable Parquet file ({e}); re-copy it or leave it out") from e
    except pa.ArrowException as e:
        raise CorpusError(f"{rel}: not a readable Parquet file ({e}); re-copy it or leave it out") from e
    b.stats.bytes_read += path.stat().st_size
    batches = pf.iter_batches(batch_size=1024)
    while True:
        try:
            rb = next(batches, None)
        except (OSError, pa.ArrowException) as e:
            raise CorpusError(f"{rel}: corrupt Parquet data ({e}); re-copy it or leave it out") from e
        if rb is None:
            return
        yield from _read_arrow_table_batches([rb], rel, b)


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


SKIP_HIDDEN = "hidden"
SKIP_SYMLINKED_FOLDER = "symlinked_folder"
SKIP_DANGLING_LINK = "dangling_symlink"
SKIP_NOT_REGULAR = "not_a_regular_file"


def walk_corpus_folder(path: Path) -> tuple[list[Path], list[dict]]:
    """The files of a corpus folder in sorted order, and the entries skipped with their reason
    (hidden entries, symlinked folders, dangling links, FIFOs / sockets / devices)."""
    files: list[Path] = []
    skipped: list[dict] = []

    def skip(p: Path, reason: str) -> None:
        skipped.append({"path": str(p), "reason": reason})

    def visit(folder: Path) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            raise CorpusError(f"{folder}: cannot list the folder ({e.strerror or e})") from e
        for e in entries:
            p = Path(e.path)
            if e.name.startswith("."):
                skip(p, SKIP_HIDDEN)
            elif e.is_symlink() and not p.exists():
                skip(p, SKIP_DANGLING_LINK)
            elif e.is_dir(follow_symlinks=False):
                visit(p)
            elif e.is_symlink() and p.is_dir():
                skip(p, SKIP_SYMLINKED_FOLDER)
            elif e.is_file(follow_symlinks=True):
                files.append(p)
            else:
                skip(p, SKIP_NOT_REGULAR)

    visit(path)
    return files, skipped


def list_corpus_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return walk_corpus_folder(path)[0]


def iter_documents(paths: str | os.PathLike | list, config: ReaderConfig | None = None,
                   quarantine: q.Quarantine | None = None, stats: ReadStats | None = None) -> Iterator[Document]:
    """Stream documents from one or more files or folders, in a fixed order."""
    config = config or ReaderConfig()
    quarantine = quarantine if quarantine is not None else q.Quarantine()
    stats = stats if stats is not None else ReadStats()
    roots = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    for root in roots:
        if not root.exists():
            what = "a dangling symbolic link" if root.is_symlink() else "no such file or folder"
            raise CorpusError(f"{root}: {what}. Give a JSONL(.gz/.zst), Parquet, text file, "
                              "or a folder of them (or a saved Hugging Face dataset).")
        if not root.is_dir() and not root.is_file():
            raise CorpusError(f"{root}: not a regular file or folder (a FIFO or device?); give a file or a folder")
    plan: list[tuple[Path, Path]] = []
    for root in roots:
        if root.is_dir() and (root / "state.json").exists() and (root / "dataset_info.json").exists():
            plan.append((root, root))
        elif root.is_file():
            plan.append((root, root))
        else:
            files, skipped = walk_corpus_folder(root)
            plan.extend((f, root) for f in files)
            stats.skipped.extend(skipped)
    if not plan:
        seen = f" (skipped: {', '.join(s['path'] + ' [' + s['reason'] + ']' for s in stats.skipped[:5])})" \
            if stats.skipped else ""
        raise CorpusError(f"{', '.join(map(str, roots))}: no files to read{seen}.")
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


def no_documents_message(paths, stats: ReadStats, quarantine: q.Quarantine, text_field: str) -> str:
    """Why a read gave no document, and what to do (for :class:`EmptyCorpusError`)."""
    where = ", ".join(str(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths]))
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
    buf: list[Document] = []
    for doc in iter_documents(paths, config, quarantine, stats):
        buf.append(doc)
        if len(buf) >= config.batch_size:
            yield Batch(buf, tokenizer, entity_extractor)
            buf = []
    if buf:
        yield Batch(buf, tokenizer, entity_extractor)
