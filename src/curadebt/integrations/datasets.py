"""curadebt with Hugging Face ``datasets``.

Audit or curate a Dataset directly (``curadebt.audit(ds)``, ``curadebt.curate(ds, "out/")``), then
apply the curate ledger to the Dataset itself with :func:`apply_ledger` (``ds.select`` under the
hood: no copy of the data, the rows of documents kept x k repeated k times), so a ``datasets``
pipeline keeps its own format, features and ``map`` steps::

    res = curadebt.curate(ds, "curated/", source_field="source")
    ds2 = apply_ledger(ds, "curated/")            # the kept rows, in the input's order
    ds2 = ds2.map(tokenize, batched=True)

Rows are matched to ledger rows by their ``id_field`` when the Dataset has it (the n-th row with an
id gets the n-th ledger row with that id), else by position, as curadebt names rows without an id
(``dataset:17``; ``dataset/train:17`` in a DatasetDict).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def _decisions(ledger: str | Path) -> dict[str, list[int]]:
    import pyarrow.parquet as pq

    path = Path(ledger)
    path = path / "ledger.parquet" if path.is_dir() else path
    out: dict[str, list[int]] = {}
    for r in pq.read_table(path, columns=["id", "copies", "decision"]).to_pylist():
        if r["decision"] != "quarantined":
            out.setdefault(r["id"], []).append(int(r["copies"]))
    return out


def apply_ledger(ds: Any, ledger: str | Path, id_field: str = "id"):
    """The Dataset (or DatasetDict) with the ledger's decisions applied: dropped rows left out, rows
    kept x k repeated k times, in the input's order. A row the ledger does not know is an error."""
    decisions = _decisions(ledger)
    if type(ds).__name__ == "DatasetDict":
        return type(ds)({split: _apply(d, decisions, id_field, f"dataset/{split}") for split, d in ds.items()})
    return _apply(ds, decisions, id_field, "dataset")


def _apply(ds, decisions: dict[str, list[int]], id_field: str, name: str):
    from curadebt.corpus.records import id_string

    ids = [id_string(v) for v in ds[id_field]] if id_field in ds.column_names else \
        [f"{name}:{i + 1}" for i in range(len(ds))]
    seen: Counter = Counter()
    indices = []
    for i, doc_id in enumerate(ids):
        rows = decisions.get(doc_id) or []
        k = seen[doc_id]
        seen[doc_id] += 1
        if k >= len(rows):
            raise KeyError(f"row {i} ({doc_id!r}) is not in the ledger: was it curated from another dataset?")
        indices.extend([i] * rows[k])
    return ds.select(indices)
