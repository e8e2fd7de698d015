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

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from curadebt.core.atomic import write_bytes_atomic

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


def build_ledger(table, plan, locations: list[list[str]], quarantined: list[dict[str, Any]]):
    """The ledger as a pyarrow Table (see the module docstring)."""
    import pyarrow as pa

    n = table.n
    ids = table.ids
    fin = plan.final()
    hist = plan.history()
    copies = plan.copies
    src = [table.source_name(i) for i in range(n)]
    decision = ["kept" if c > 0 else "dropped" for c in copies.tolist()]
    dup_of = [ids[r] if r >= 0 and fin["op"][i] in ("exact_dedup", "near_dedup", "semantic_dedup") else None
              for i, r in enumerate(fin["ref"].tolist())]
    cluster = [ids[c] if c >= 0 else None for c in plan.cluster.tolist()]
    kinds = [k or "unique" for k in plan.cluster_kind]
    history = [[{"op": op, "action": act, "copies": c, "reason": r, "ref": ids[ref] if ref >= 0 else None}
                for op, act, c, r, ref in h] for h in hist]
    reasons = []
    for i in range(n):
        if fin["op"][i]:
            reasons.append(fin["reason"][i])
        else:
            reasons.append("kept: no operation changed it")
    q = len(quarantined)
    cols = {
        "row": np.arange(n + q, dtype=np.int64),
        "ordinal": np.concatenate([np.arange(n, dtype=np.int64), np.full(q, -1, dtype=np.int64)]),
        "id": ids + [r.get("location", "") for r in quarantined],
        "source": src + [None] * q,
        "tokens": np.concatenate([table.tokens, np.zeros(q, dtype=np.int64)]),
        "bytes": np.concatenate([table.nbytes, np.zeros(q, dtype=np.int64)]),
        "text_xxh3_64": np.concatenate([table.text_hash, np.zeros(q, dtype=np.uint64)]),
        "decision": decision + ["quarantined"] * q,
        "copies": np.concatenate([copies.astype(np.int32), np.zeros(q, dtype=np.int32)]),
        "op": fin["op"] + ["quarantine"] * q,
        "reason": reasons + [f"{r.get('reason', '')}: {r.get('detail', '')}".rstrip(": ") for r in quarantined],
        "duplicate_of": dup_of + [None] * q,
        "cluster": cluster + [None] * q,
        "cluster_kind": kinds + [""] * q,
        "history": history + [[] for _ in range(q)],
        "output": locations + [[] for _ in range(q)],
    }
    return pa.Table.from_pydict(cols, schema=_schema())


def write_ledger(path: str | Path, ledger) -> Path:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(ledger, buf, compression="zstd", row_group_size=50_000)
    return write_bytes_atomic(path, buf.getvalue())


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
