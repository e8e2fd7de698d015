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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xxhash

from curadebt.core.errors import EXIT_INPUT, CuradebtError
from curadebt.core.ids import Ids
from curadebt.core.measure import Measure
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
    """One process's spill files, one per shard it writes to (``spill-<shard>-<tag>.bin``)."""

    def __init__(self, folder: Path, tag: str):
        self.folder, self.tag = Path(folder), tag
        self.open: dict[int, io.BufferedWriter] = {}
        self.started: dict[int, str] = {}     # shard -> its spill file

    def write(self, shard: int, position: int, data: bytes) -> None:
        fh = self.open.get(shard)
        if fh is None:
            if len(self.open) >= MAX_OPEN_SPILLS:
                self.close()
            path = self.started.get(shard)
            if path is None:
                path = self.started[shard] = str(self.folder / f"spill-{shard:05d}-{self.tag}.bin")
                fh = open(path, "wb", buffering=1 << 20)
            else:
                fh = open(path, "ab", buffering=1 << 20)
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


@dataclass
class SpillState:
    """What a spill pass did: copies written, the spill files per shard, the dropped examples'
    text previews, and the first document that was not the one the plan expected."""

    written: int = 0
    files: dict[int, list[str]] = field(default_factory=dict)
    previews: dict[int, str] = field(default_factory=dict)
    changed: tuple[int, str, str] | None = None      # (ordinal, id read, id expected)


class SpillMeasure(Measure[SpillState, SpillState]):
    """The writer's pass as a measure, so that it runs on any engine: every kept copy of a document
    goes, with its output position, to its shard's spill file (each process its own files). The
    plan's arrays and the ids are files in the work folder, memory-mapped where the pass runs."""

    name = "curate_spill"

    def __init__(self, work: Path, ids, positions_off: np.ndarray, positions: np.ndarray, copy_index: np.ndarray,
                 shards: ShardPlan, text_field: str, id_key: str, wanted: set[int]):
        self.work = str(work)
        os.makedirs(self.work, exist_ok=True)
        for name, arr in (("positions_off", positions_off), ("positions", positions), ("copy_index", copy_index),
                          ("shard_starts", shards.starts)):
            np.save(os.path.join(self.work, f"{name}.npy"), np.ascontiguousarray(arr))
        ids = Ids.of(ids)
        np.save(os.path.join(self.work, "id_offsets.npy"), ids.offsets)
        with open(os.path.join(self.work, "ids.bin"), "wb") as fh:
            fh.write(ids.data.tobytes())
        self.text_field, self.id_key, self.wanted = text_field, id_key, frozenset(wanted)
        self._arrays: dict | None = None
        self._spills: _Spills | None = None

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_arrays", "_spills")}

    def __setstate__(self, state):
        self.__dict__.update(state, _arrays=None, _spills=None)

    def _plan(self) -> dict:
        if self._arrays is None:
            load = {n: np.load(os.path.join(self.work, f"{n}.npy"), mmap_mode="r")
                    for n in ("positions_off", "positions", "copy_index", "shard_starts", "id_offsets")}
            load["ids"] = np.memmap(os.path.join(self.work, "ids.bin"), dtype=np.uint8, mode="r") \
                if os.path.getsize(os.path.join(self.work, "ids.bin")) else np.empty(0, dtype=np.uint8)
            self._arrays = load
        return self._arrays

    def empty(self) -> SpillState:
        return SpillState()

    def map(self, batch) -> SpillState:
        return self.accumulate(SpillState(), batch)

    def accumulate(self, state: SpillState, batch) -> SpillState:
        import uuid

        plan = self._plan()
        if self._spills is None:
            self._spills = _Spills(Path(self.work), uuid.uuid4().hex[:12])
        off, pos_all, cidx, id_off, ids = (plan["positions_off"], plan["positions"], plan["copy_index"],
                                           plan["id_offsets"], plan["ids"])
        starts = plan["shard_starts"]
        n_docs = len(off) - 1
        for doc in batch.docs:
            o = doc.ordinal
            expected = bytes(ids[id_off[o]:id_off[o + 1]]).decode("utf-8", "surrogatepass") if o < n_docs else None
            if expected != doc.id:
                if state.changed is None or o < state.changed[0]:
                    state.changed = (o, doc.id, expected if expected is not None else "no more documents")
                continue
            a, b = int(off[o]), int(off[o + 1])
            if b > a:
                pos = np.asarray(pos_all[a:b])
                sh = np.searchsorted(starts, pos, side="right") - 1
                for p, s, c in zip(pos.tolist(), sh.tolist(), np.asarray(cidx[a:b]).tolist()):
                    self._spills.write(s, p, _record_bytes(doc, self.text_field, self.id_key, c))
                    state.written += 1
            if o in self.wanted:
                state.previews[o] = doc.text
        state.files = {s: [p] for s, p in self._spills.started.items()}
        return state

    def merge(self, a: SpillState, b: SpillState) -> SpillState:
        files = {s: list(v) for s, v in a.files.items()}
        for s, v in b.files.items():
            files.setdefault(s, []).extend(v)
        changed = min((c for c in (a.changed, b.changed) if c is not None), default=None)
        return SpillState(a.written + b.written, files, {**a.previews, **b.previews}, changed)

    def detach(self, state: SpillState, put) -> SpillState:
        self._close()
        return state

    def finalize(self, state: SpillState) -> SpillState:
        self._close()
        return state

    def _close(self) -> None:
        if self._spills is not None:
            self._spills.close()
            self._spills = None


def write_output(session, corpus, ids, positions_off: np.ndarray, positions: np.ndarray, copy_index: np.ndarray,
                 shards: ShardPlan, out_dir: Path, work_dir: Path, fmt: str, id_key: str, expected_read: int,
                 wanted: set[int] = frozenset(), checkpoint=None) -> dict:
    """Read the input again on the engine's ``session`` (``corpus``: a
    :class:`~curadebt.engine.passes.PassInput`), spill every output copy to its shard, then finish
    the shards atomically (as engine tasks when there are workers).

    ``positions_off``/``positions``/``copy_index``: for document ``d`` its copies' output positions
    are ``positions[positions_off[d]:positions_off[d+1]]`` with copy indices ``copy_index[...]``.
    ``wanted``: ordinals whose text comes back (``previews``). Returns counts for the
    reconciliation, and each shard's XXH3-128 as written.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    spill = SpillMeasure(work_dir / "spill", ids, positions_off, positions, copy_index, shards,
                         corpus.reader.text_field, id_key, wanted)
    state: SpillState = spill.finalize(session.run_pass(corpus, [spill])[spill.name])
    stats = corpus.stats
    if state.changed is not None:
        o, got, want = state.changed
        raise WriterError(f"the input changed between passes: document {o} is {got!r}, expected {want!r}")
    if stats.documents_ok != len(ids) or stats.documents_read != expected_read:
        raise WriterError(f"the input changed between passes: read {stats.documents_read} records "
                          f"({stats.documents_ok} documents), expected {expected_read} ({len(ids)})")
    if checkpoint is not None:
        checkpoint("spilled")
    tasks = [(sorted(state.files.get(i, [])), int(shards.starts[i]), int(shards.ends[i]), name, str(out_dir), fmt)
             for i, name in enumerate(shards.names)]
    checksums: dict[str, str] = {}
    if session.executor is not None:
        sums = session.executor.get(session.executor.map(finish_shard, tasks))
        for (_, _, _, name, _, _), checksum in zip(tasks, sums):
            checksums[name] = checksum
    else:
        for i, t in enumerate(tasks):
            checksums[t[3]] = finish_shard(*t)
            if checkpoint is not None:
                checkpoint(f"shard:{i}")
    return {"documents_read": stats.documents_read, "documents_ok": stats.documents_ok,
            "documents_quarantined": stats.documents_quarantined, "records_written": state.written,
            "checksums": checksums, "previews": state.previews}


def finish_shard(spills: list[str], start: int, end: int, name: str, out_dir: str, fmt: str) -> str:
    """One shard: its records from every spill file, in position order, checked against the plan,
    written atomically; the spill files removed. Returns the XXH3-128 of the bytes written (an
    engine task)."""
    entries = [e for path in spills for e in _read_spill(Path(path))]
    entries.sort(key=lambda e: e[0])
    want = range(start, end)
    if len(entries) != len(want) or any(p != w for (p, _), w in zip(entries, want)):
        raise WriterError(f"shard {name}: positions do not match the plan ({len(entries)} records, "
                          f"expected {len(want)})")
    lines = [e[1] for e in entries]
    del entries
    data = b"".join(line + b"\n" for line in lines) if fmt == "jsonl" else _parquet_bytes(lines, name)
    del lines
    checksum = xxhash.xxh3_128_hexdigest(data)
    write_bytes_atomic(Path(out_dir) / name, data)
    for path in spills:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return checksum
