"""The writer: stream the corpus again and apply the decisions, never holding the corpus in memory.

Output order differs from input order, so the writer is an external bucket sort:

1. **Plan shards.** Output positions are cut into shards of about ``shard_bytes`` (from the byte
   sizes the scan recorded).
2. **Spill.** One streaming pass over the input: every kept document's record is serialised once
   per copy and appended, with its output position, to its shard's spill file.
3. **Finish shards.** One shard at a time: read its spill file, sort by position, check that every
   position is there exactly once, write the shard atomically (temp file, fsync, rename), delete
   the spill file.

Peak memory is one shard (plus the per-document arrays), whatever the corpus size.

Records: the input record's fields (the reader's ``meta``) as they were, the text field last (a text
file's record is its id, its path and its text). Copy 0
of a document is its input record: the id keeps its JSON value (an integer stays an integer, a
missing id stays missing). Copy ``j >= 1`` of a document kept x k gets the string id ``"<id>#<j>"``
(``<id>`` as the ledger shows it) and ``curadebt_copy_of``: the input id's original value (or that
string where the record had no id). JSON is written with ``ensure_ascii=False``, one record per
line; Parquet shards hold the same records (``pyarrow.Table.from_pylist``; a field whose values
have different types in one shard cannot be a Parquet column, and is an error that says so).
"""
from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from curadebt.core.errors import EXIT_INPUT, CuradebtError
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import ReaderConfig, ReadStats, iter_documents
from curadebt.core.atomic import write_bytes_atomic

RECORD_OVERHEAD = 48  # bytes of JSON around the text, for shard sizing only
_HDR = struct.Struct("<qI")
MAX_OPEN_SPILLS = 128


class WriterError(CuradebtError, RuntimeError):
    exit_code = EXIT_INPUT


@dataclass
class ShardPlan:
    starts: np.ndarray      # first output position of each shard
    ends: np.ndarray        # one past the last
    names: list[str]        # file names relative to the output folder

    def shard_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    def locations(self, positions: np.ndarray) -> list[str]:
        sh = self.shard_of(positions)
        return [f"{self.names[s]}:{int(p - self.starts[s]) + 1}" for s, p in zip(sh.tolist(), positions.tolist())]


def plan_shards(item_bytes: np.ndarray, shard_bytes: int, fmt: str, folder: str = "data") -> ShardPlan:
    n = len(item_bytes)
    ext = "jsonl" if fmt == "jsonl" else "parquet"
    if n == 0:
        return ShardPlan(np.zeros(1, np.int64), np.zeros(1, np.int64), [f"{folder}/part-00000.{ext}"])
    size = item_bytes.astype(np.int64) + RECORD_OVERHEAD
    cum = np.cumsum(size)
    shard = (cum - size) // max(1, int(shard_bytes))  # shard of each item by where it starts
    # renumber so shard ids are consecutive
    _, shard = np.unique(shard, return_inverse=True)
    starts = np.flatnonzero(np.concatenate([[True], shard[1:] != shard[:-1]]))
    ends = np.concatenate([starts[1:], [n]])
    names = [f"{folder}/part-{i:05d}.{ext}" for i in range(len(starts))]
    return ShardPlan(starts.astype(np.int64), ends.astype(np.int64), names)


COPY_OF_FIELD = "curadebt_copy_of"


def output_id(doc_id: str, copy: int) -> str:
    return doc_id if copy == 0 else f"{doc_id}#{copy}"


def _record_bytes(doc, text_field: str, id_key: str, copy: int) -> bytes:
    if copy == 0:
        rec = {k: v for k, v in doc.meta.items() if k != text_field}
        if id_key not in rec and doc.meta.get("path") == doc.id:  # a text file: its id is its path
            rec = {id_key: doc.id, **rec}
            if doc.source is not None:  # --source-from
                rec.setdefault("source", doc.source)
    else:
        rec = {id_key: output_id(doc.id, copy), COPY_OF_FIELD: doc.meta.get(id_key, doc.id)}
        rec.update((k, v) for k, v in doc.meta.items() if k not in (id_key, text_field, COPY_OF_FIELD))
    rec[text_field] = doc.text
    # the reader quarantines lone surrogates (unencodable_text), so this always encodes
    return json.dumps(rec, ensure_ascii=False).encode("utf-8")


class _Spills:
    def __init__(self, folder: Path, n: int):
        self.folder = folder
        self.paths = [folder / f"spill-{i:05d}.bin" for i in range(n)]
        self.open: dict[int, io.BufferedWriter] = {}
        self.started: set[int] = set()

    def write(self, shard: int, position: int, data: bytes) -> None:
        fh = self.open.get(shard)
        if fh is None:
            if len(self.open) >= MAX_OPEN_SPILLS:
                self.close()
            fh = open(self.paths[shard], "ab" if shard in self.started else "wb", buffering=1 << 20)
            self.started.add(shard)
            self.open[shard] = fh
        fh.write(_HDR.pack(position, len(data)))
        fh.write(data)

    def close(self) -> None:
        for fh in self.open.values():
            fh.close()
        self.open.clear()


def _read_spill(path: Path) -> list[tuple[int, bytes]]:
    out = []
    if not path.exists():
        return out
    data = path.read_bytes()
    i, n = 0, len(data)
    while i < n:
        pos, ln = _HDR.unpack_from(data, i)
        i += _HDR.size
        out.append((pos, data[i:i + ln]))
        i += ln
    return out


def _parquet_bytes(lines: list[bytes], name: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pylist([json.loads(b) for b in lines])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise WriterError(f"{name}: the records cannot be one Parquet table ({e}): a field holds values of "
                          "different types (e.g. integer and string ids, or copies' string ids '<id>#<k>' beside "
                          "integer ids); use --format jsonl, which keeps every value as it is") from e
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=10_000)
    return buf.getvalue()


def write_output(paths, reader: ReaderConfig, ids: list[str], positions_off: np.ndarray, positions: np.ndarray,
                 copy_index: np.ndarray, shards: ShardPlan, out_dir: Path, work_dir: Path, fmt: str,
                 id_key: str, expected_read: int, on_doc=None, checkpoint=None) -> dict:
    """Stream the input, spill every output copy to its shard, then finish the shards atomically.

    ``positions_off``/``positions``/``copy_index``: for document ``d`` its copies' output positions
    are ``positions[positions_off[d]:positions_off[d+1]]`` with copy indices ``copy_index[...]``.
    ``on_doc(doc)`` sees every document read. Returns counts for the reconciliation, and each shard's
    XXH3-128 as written.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    spills = _Spills(work_dir, len(shards.names))
    stats = ReadStats()
    written = 0
    n_docs = len(ids)
    try:
        for doc in iter_documents(paths, reader, Quarantine(), stats):
            o = doc.ordinal
            if o >= n_docs or ids[o] != doc.id:
                raise WriterError(f"the input changed between passes: document {o} is {doc.id!r}, "
                                  f"expected {ids[o] if o < n_docs else 'no more documents'!r}")
            a, b = positions_off[o], positions_off[o + 1]
            if b > a:
                pos = positions[a:b]
                sh = shards.shard_of(pos)
                for p, s, c in zip(pos.tolist(), sh.tolist(), copy_index[a:b].tolist()):
                    spills.write(s, p, _record_bytes(doc, reader.text_field, id_key, c))
                    written += 1
            if on_doc is not None:
                on_doc(doc)
    finally:
        spills.close()
    if stats.documents_ok != n_docs or stats.documents_read != expected_read:
        raise WriterError(f"the input changed between passes: read {stats.documents_read} records "
                          f"({stats.documents_ok} documents), expected {expected_read} ({n_docs})")
    if checkpoint is not None:
        checkpoint("spilled")
    checksums: dict[str, str] = {}
    for i, name in enumerate(shards.names):
        entries = _read_spill(spills.paths[i])
        entries.sort(key=lambda e: e[0])
        want = range(int(shards.starts[i]), int(shards.ends[i]))
        if len(entries) != len(want) or any(p != w for (p, _), w in zip(entries, want)):
            raise WriterError(f"shard {name}: positions do not match the plan ({len(entries)} records, "
                              f"expected {len(want)})")
        lines = [e[1] for e in entries]
        del entries
        if fmt == "jsonl":
            data = b"".join(line + b"\n" for line in lines)
        else:
            data = _parquet_bytes(lines, name)
        del lines
        checksums[name] = xxhash.xxh3_128_hexdigest(data)
        write_bytes_atomic(out_dir / name, data)
        del data
        try:
            os.unlink(spills.paths[i])
        except FileNotFoundError:
            pass
        if checkpoint is not None:
            checkpoint(f"shard:{i}")
    return {"documents_read": stats.documents_read, "documents_ok": stats.documents_ok,
            "documents_quarantined": stats.documents_quarantined, "records_written": written,
            "checksums": checksums}
