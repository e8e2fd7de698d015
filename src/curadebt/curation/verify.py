"""Check a curate output folder end to end: its manifest, its report's books, and that every place
the ledger points at holds the document the ledger says (id and text checksum), exactly once.

This is what ``curadebt verify OUT`` runs on a curate output; the kill tests run it after every
kill, so "a report that says ok over a ledger that disagrees with its shards" cannot go unseen.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import xxhash

from curadebt.corpus.outdir import verify_output
from curadebt.corpus.readers import id_string
from curadebt.curation.ledger import LEDGER_FILE
from curadebt.curation.writer import output_id


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            yield from batch.to_pylist()
        return
    with open(path, "rb") as fh:
        for line in fh:
            yield json.loads(line)


def verify_curate_output(out: str | Path, checksums: bool = False) -> tuple[list[str], dict[str, int]]:
    """(problems, counts) for a curate output folder; no problems means it is whole and consistent."""
    import pyarrow.parquet as pq

    out = Path(out)
    problems = verify_output(out, checksums=checksums)
    counts = {"files": 0, "references": 0, "records": 0}
    if problems:
        return problems, counts
    counts["files"] = len(json.loads((out / "manifest.json").read_text())["files"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    section = report.get("curate") or {}
    recon = section.get("reconciliation") or {}
    if not recon.get("ok"):
        problems.append("report.json: the reconciliation is not ok")
    config = section.get("config") or {}
    text_field, id_key = config.get("text_field") or "text", config.get("id_field") or "id"
    ledger = pq.read_table(out / LEDGER_FILE, columns=["id", "text_xxh3_64", "output"]).to_pylist()
    if recon.get("read") is not None and len(ledger) != recon["read"]:
        problems.append(f"{LEDGER_FILE}: {len(ledger)} rows, the report read {recon['read']} records")
    expected: dict[str, tuple[str, int, int]] = {}
    for row in ledger:
        for copy, loc in enumerate(row["output"] or []):
            if loc in expected:
                problems.append(f"{LEDGER_FILE}: {loc} is the place of two copies")
            expected[loc] = (row["id"], copy, row["text_xxh3_64"])
    counts["references"] = len(expected)
    seen = 0
    for shard in (section.get("outputs") or {}).get("shards") or []:
        for line, rec in enumerate(_records(out / shard), start=1):
            loc = f"{shard}:{line}"
            want = expected.get(loc)
            seen += 1
            if want is None:
                problems.append(f"{loc}: a record the ledger does not point at")
                continue
            doc_id, copy, text_hash = want
            text = rec.get(text_field)
            if not isinstance(text, str) or xxhash.xxh3_64_intdigest(text.encode("utf-8")) != text_hash:
                problems.append(f"{loc}: holds another text than the ledger's document {doc_id!r}")
            elif copy > 0 and rec.get(id_key) != output_id(doc_id, copy):
                problems.append(f"{loc}: id {rec.get(id_key)!r}, the ledger says {output_id(doc_id, copy)!r}")
            elif copy == 0 and id_key in rec and rec[id_key] is not None and id_string(rec[id_key]) != doc_id:
                problems.append(f"{loc}: id {rec.get(id_key)!r}, the ledger says {doc_id!r}")
            if len(problems) > 20:
                return problems, counts
    counts["records"] = seen
    if seen != len(expected):
        problems.append(f"the shards hold {seen} records, the ledger points at {len(expected)} places")
    return problems, counts
