"""The ledger is written a chunk of rows at a time: the same table whatever the chunk size, with
the quarantined rows after the documents even when a chunk holds both."""
import json

import pyarrow.parquet as pq

import curadebt.curation.ledger as ledger
from curadebt.curation.runner import curate


def _corpus(path, n=700):
    lines = []
    for i in range(n):
        if i % 50 == 7:
            lines.append("{not json")
        else:
            text = f"Tom Cruise and document number {i % 300} about New York" + (" again" if i % 3 else "")
            lines.append(json.dumps({"id": f"d{i}", "text": text, "source": f"s{i % 2}"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ledger_chunks_give_one_table(tmp_path, monkeypatch):
    p = _corpus(tmp_path / "c.jsonl")
    curate(str(p), tmp_path / "whole", source_field="source")
    monkeypatch.setattr(ledger, "LEDGER_CHUNK", 97)  # 686 documents + 14 quarantined: a chunk holds both
    curate(str(p), tmp_path / "chunked", source_field="source")
    whole = pq.read_table(tmp_path / "whole" / "ledger.parquet")
    chunked = pq.read_table(tmp_path / "chunked" / "ledger.parquet")
    assert whole.num_rows == 700 and chunked.to_pylist() == whole.to_pylist()
    assert pq.ParquetFile(tmp_path / "chunked" / "ledger.parquet").num_row_groups == 8
    rows = whole.to_pylist()
    assert [r["decision"] for r in rows[-14:]] == ["quarantined"] * 14 and rows[-1]["row"] == 699
