"""The ledger: one decision record for every input record, written as Parquet beside the output.

Schema (``ledger.parquet``; one row per record read, documents in input order, then quarantined
records in the order they were met):

=============  ======================  ===========================================================
column         type                    meaning
=============  ======================  ===========================================================
row            int64                   0-based row
ordinal        int64                   reading-order position among documents (-1: quarantined)
id             string                  document id (quarantined: the record's location)
source         string (null)           source field value
tokens         int64                   tokens (audit tokenizer)
bytes          int64                   UTF-8 bytes of the text
text_xxh3_64   uint64                  XXH3-64 of the text's UTF-8 bytes (0 for quarantined rows)
decision       string                  ``kept``, ``dropped`` or ``quarantined``
copies         int32                   copies in the output (0 when dropped; k > 1: up-sampled)
op             string                  the op behind the final decision (``""``: no op changed it)
reason         string                  why (quarantined: the quarantine reason and detail)
duplicate_of   string (null)           id of the document it duplicates (dedup drops)
cluster        string (null)           id of its duplicate cluster's representative (audit)
cluster_kind   string                  ``unique``, ``representative``, ``exact``, ``near`` or ``semantic``
history        list<struct<op, action, copies, reason, ref>>   every op's decision, in op order
output         list<string>            where its copies are: ``data/part-00000.jsonl:17`` (1-based line / row)
=============  ======================  ===========================================================

``read = kept + dropped + quarantined`` holds row by row: every record read has exactly one row.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from curadebt.core.atomic import open_atomic

LEDGER_FILE = "ledger.parquet"


def _schema():
    import pyarrow as pa

    hist = pa.struct([("op", pa.string()), ("action", pa.string()), ("copies", pa.int32()),
                      ("reason", pa.string()), ("ref", pa.string())])
    return pa.schema([
        ("row", pa.int64()), ("ordinal", pa.int64()), ("id", pa.string()), ("source", pa.string()),
        ("tokens", pa.int64()), ("bytes", pa.int64()), ("text_xxh3_64", pa.uint64()), ("decision", pa.string()), ("copies", pa.int32()),
        ("op", pa.string()), ("reason", pa.string()), ("duplicate_of", pa.string()), ("cluster", pa.string()),
        ("cluster_kind", pa.string()), ("history", pa.list_(hist)), ("output", pa.list_(pa.string())),
    ])


#: rows written at a time (the Parquet row group): memory stays at one chunk's rows
LEDGER_CHUNK = 50_000


def write_ledger(path: str | Path, table, plan, locate: Callable[[int, int], list[list[str]]],
                 quarantined: list[dict[str, Any]]) -> int:
    """Write ``ledger.parquet`` (see the module docstring) atomically, :data:`LEDGER_CHUNK` rows at a
    time; ``locate(lo, hi)``: the output locations of documents ``lo..hi-1``. Returns the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, q = table.n, len(quarantined)
    fin = plan.final()
    events = _events_by_document(plan)
    with open_atomic(path) as fh, pq.ParquetWriter(fh, _schema(), compression="zstd") as writer:
        for lo in range(0, n + q, LEDGER_CHUNK):
            hi = min(n + q, lo + LEDGER_CHUNK)
            docs = _document_rows(table, plan, fin, events, locate, lo, min(hi, n)) if lo < n else None
            rows = _quarantine_rows(quarantined[max(lo, n) - n:hi - n], n + max(0, lo - n)) if hi > n else None
            cols = docs if rows is None else rows if docs is None else {k: _cat(docs[k], rows[k]) for k in docs}
            writer.write_table(pa.Table.from_pydict(cols, schema=_schema()), row_group_size=LEDGER_CHUNK)
    return n + q


def _cat(a, b):
    return np.concatenate([a, b]) if isinstance(a, np.ndarray) else a + b


def _events_by_document(plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (event, position) of the plan sorted by document, in op order within a document:
    ``(ordinal, event index, position in the event)``."""
    ords = [ev.ordinals for ev in plan.events]
    if not ords:
        z = np.empty(0, dtype=np.int64)
        return z, z, z
    which = np.concatenate([np.full(len(o), i, dtype=np.int64) for i, o in enumerate(ords)])
    pos = np.concatenate([np.arange(len(o), dtype=np.int64) for o in ords])
    ords = np.concatenate(ords)
    order = np.argsort(ords, kind="stable")
    return ords[order], which[order], pos[order]


def _document_rows(table, plan, fin, events, locate, lo: int, hi: int) -> dict:
    ids = table.ids
    ref, cl = fin["ref"][lo:hi].tolist(), plan.cluster[lo:hi].tolist()
    copies = plan.copies[lo:hi]
    ops = fin["op"][lo:hi]
    ev_ord, ev_which, ev_pos = events
    a, b = np.searchsorted(ev_ord, [lo, hi])
    history: list[list[dict]] = [[] for _ in range(hi - lo)]
    for o, w, p in zip(ev_ord[a:b].tolist(), ev_which[a:b].tolist(), ev_pos[a:b].tolist()):
        ev = plan.events[w]
        r = int(ev.refs[p])
        history[o - lo].append({"op": ev.op, "action": ev.actions[p], "copies": int(ev.copies[p]),
                                "reason": ev.reasons[p], "ref": ids[r] if r >= 0 else None})
    return {
        "row": np.arange(lo, hi, dtype=np.int64),
        "ordinal": np.arange(lo, hi, dtype=np.int64),
        "id": [ids[i] for i in range(lo, hi)],
        "source": [table.source_name(i) for i in range(lo, hi)],
        "tokens": table.tokens[lo:hi],
        "bytes": table.nbytes[lo:hi],
        "text_xxh3_64": table.text_hash[lo:hi],
        "decision": ["kept" if c > 0 else "dropped" for c in copies.tolist()],
        "copies": copies.astype(np.int32),
        "op": ops,
        "reason": [fin["reason"][i] if fin["op"][i] else "kept: no operation changed it" for i in range(lo, hi)],
        "duplicate_of": [ids[r] if r >= 0 and op in ("exact_dedup", "near_dedup", "semantic_dedup") else None
                         for r, op in zip(ref, ops)],
        "cluster": [ids[c] if c >= 0 else None for c in cl],
        "cluster_kind": [k or "unique" for k in plan.cluster_kind[lo:hi]],
        "history": history,
        "output": locate(lo, hi),
    }


def _quarantine_rows(quarantined: list[dict[str, Any]], first_row: int) -> dict:
    q = len(quarantined)
    return {
        "row": np.arange(first_row, first_row + q, dtype=np.int64),
        "ordinal": np.full(q, -1, dtype=np.int64),
        "id": [r.get("location", "") for r in quarantined],
        "source": [None] * q,
        "tokens": np.zeros(q, dtype=np.int64),
        "bytes": np.zeros(q, dtype=np.int64),
        "text_xxh3_64": np.zeros(q, dtype=np.uint64),
        "decision": ["quarantined"] * q,
        "copies": np.zeros(q, dtype=np.int32),
        "op": ["quarantine"] * q,
        "reason": [f"{r.get('reason', '')}: {r.get('detail', '')}".rstrip(": ") for r in quarantined],
        "duplicate_of": [None] * q,
        "cluster": [None] * q,
        "cluster_kind": [""] * q,
        "history": [[] for _ in range(q)],
        "output": [[] for _ in range(q)],
    }


def read_quarantine(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class LedgerLookupError(KeyError):
    pass


def lookup(ledger_path: str | Path, doc_id: str) -> list[dict[str, Any]]:
    """Ledger rows for ``doc_id`` (an input id, an output id ``<id>#<j>``, or ``#<row>``)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(ledger_path)
    if path.is_dir():
        path = path / LEDGER_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no ledger here (curadebt curate writes ledger.parquet beside its output)")
    t = pq.read_table(path)
    rows = t.filter(pc.equal(t["id"], doc_id))
    if rows.num_rows == 0 and "#" in doc_id:
        base, _, tail = doc_id.rpartition("#")
        if tail.isdigit():
            rows = t.filter(pc.equal(t["id"], base)) if base else t.filter(pc.equal(t["row"], int(tail)))
    if rows.num_rows == 0:
        raise LedgerLookupError(doc_id)
    return rows.to_pylist()


def decisions(ledger_path: str | Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The curate decision of each of ``ids`` found in a ledger: ``{decision, copies, op, reason}``
    (an id the ledger does not hold is left out), read in one pass."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(ledger_path)
    if path.is_dir():
        path = path / LEDGER_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no ledger here (curadebt curate writes ledger.parquet beside its output)")
    t = pq.read_table(path, columns=["id", "decision", "copies", "op", "reason"])
    rows = t.filter(pc.is_in(t["id"], value_set=pa.array(sorted(set(ids)), pa.string()))).to_pylist()
    return {r["id"]: {k: r[k] for k in ("decision", "copies", "op", "reason")} for r in rows}


def decision_text(d: dict[str, Any]) -> str:
    """``kept``, ``kept x3`` or ``dropped by near_dedup``."""
    if d["decision"] == "kept":
        return "kept" + (f" x{d['copies']}" if d["copies"] != 1 else "")
    return d["decision"] + (f" by {d['op']}" if d.get("op") else "")


def explain_text(rows: list[dict[str, Any]]) -> str:
    """One document's history, as printed by ``curadebt explain``."""
    out = []
    for r in rows:
        head = f"{r['id']}  (row {r['row']}"
        if r["ordinal"] >= 0:
            head += f", ordinal {r['ordinal']}"
        if r.get("source") is not None:
            head += f", source {r['source']}"
        head += f", {r['tokens']:,} tokens)"
        out.append(head)
        dec = r["decision"]
        if dec == "kept":
            dec += f" x{r['copies']}" if r["copies"] != 1 else ""
        out.append(f"  decision: {dec}" + (f"  by {r['op']}" if r["op"] else ""))
        out.append(f"  reason:   {r['reason']}")
        if r.get("duplicate_of"):
            out.append(f"  duplicate of: {r['duplicate_of']}")
        if r.get("cluster"):
            out.append(f"  cluster: {r['cluster']} ({r['cluster_kind']})")
        if r.get("history"):
            out.append("  history:")
            for i, h in enumerate(r["history"], 1):
                ref = f" [ref {h['ref']}]" if h.get("ref") else ""
                out.append(f"    {i}. {h['op']}: {h['action']} -> x{h['copies']}: {h['reason']}{ref}")
        if r.get("output"):
            shown = r["output"][:10]
            more = f" (+{len(r['output']) - 10} more)" if len(r["output"]) > 10 else ""
            out.append("  output: " + ", ".join(shown) + more)
    return "\n".join(out)
