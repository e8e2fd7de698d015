"""Decontamination: n-gram overlaps of evaluation items with the corpus, the report, and the curate op
that drops the documents (ledger rows, books balanced)."""
from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from curadebt.api import curate
from curadebt.cli import app
from curadebt.curation.recipe import recipe_from_dict
from curadebt.trace.decontam import (DecontamConfig, DecontamError, read_eval_items, run_decontaminate)

Q1 = ("In which city did the first modern Olympic Games take place in the year eighteen ninety six according to "
      "most historians")
Q2 = "What is the boiling point of pure water at sea level measured in degrees Celsius on an ordinary day"
Q3 = "Name the <script>alert(1)</script> painter of the Mona Lisa"   # shorter than 13 tokens, 11 words


def _world(tmp_path):
    docs = [{"id": f"d{i}", "text": f"Ordinary text number {i} about gardens, rivers and the weather of the valley."}
            for i in range(30)]
    docs[3]["text"] += " Quiz night: " + Q1.upper() + "?! The answer was Athens."        # verbatim, case changed
    docs[9]["text"] += " Q: " + Q1.replace("according to most historians", "as most agree")  # 17 tokens still shared
    docs[12]["text"] += " in which city did the first modern olympic games take place"       # 11 words: below 13
    docs[20]["text"] += " name the script alert 1 script painter of the mona lisa"           # Q3 whole, normalised
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ev = tmp_path / "eval.jsonl"
    ev.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "q1", "question": Q1, "answer": "Athens"}, {"id": "q2", "question": Q2, "answer": "100"},
        {"id": "q3", "question": Q3}, {"id": "q4", "question": "Too short?"}]))
    return corpus, ev


def test_overlaps_are_found_and_near_misses_are_not(tmp_path):
    corpus, ev = _world(tmp_path)
    res = run_decontaminate(corpus, [ev], tmp_path / "out")
    (rep,) = res.reports
    assert (rep.items, rep.checked, rep.too_short, rep.contaminated) == (4, 3, 1, 2)
    hits = {h.id: h for h in rep.hits}
    assert set(hits) == {"q1", "q3"}
    q1_docs = sorted(d for s in hits["q1"].spans for d in s.documents)
    assert q1_docs == ["d3", "d9"] and all(s.tokens >= 13 for s in hits["q1"].spans)
    assert [s.documents for s in hits["q3"].spans] == [["d20"]], "a short item is matched whole"
    rows = [json.loads(x) for x in (tmp_path / "out" / "contaminated.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["d20", "d3", "d9"] and rows[1]["hits"][0]["item"] == "q1"
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["evals"][0]["contaminated_share"] == pytest.approx(2 / 3) and data["contaminated_documents"] == 3
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "Content-Security-Policy" in page
    assert (tmp_path / "out" / "index" / "manifest.json").exists(), "the index built on the fly is kept for reuse"


def test_a_given_index_gives_the_same_report_and_the_same_bytes(tmp_path):
    corpus, ev = _world(tmp_path)
    run_decontaminate(corpus, [ev], tmp_path / "a")
    run_decontaminate(corpus, [ev], tmp_path / "b", index=tmp_path / "a" / "index")
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert a["evals"] == b["evals"] and b["index"]["path"] == str(tmp_path / "a" / "index")
    assert (tmp_path / "a" / "contaminated.jsonl").read_bytes() == (tmp_path / "b" / "contaminated.jsonl").read_bytes()
    run_decontaminate(corpus, [ev], tmp_path / "c")
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "c" / "report.json").read_bytes()


def test_evaluation_formats_and_fields(tmp_path):
    cfg = DecontamConfig(eval_fields=("prompt", "completion"))
    rows = [{"id": "a", "prompt": "p one", "completion": "c one"}, {"id": "b", "prompt": "p two"}, {"id": "c"}]
    (tmp_path / "e.json").write_text(json.dumps({"data": rows}))
    with open(tmp_path / "e.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "prompt", "completion"])
        w.writeheader()
        w.writerows(rows)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "e.parquet")
    import datasets

    datasets.Dataset.from_list([{"id": r["id"], "prompt": r.get("prompt"), "completion": r.get("completion")}
                                for r in rows]).save_to_disk(str(tmp_path / "e.ds"))
    for name in ("e.json", "e.csv", "e.parquet", "e.ds"):
        items = read_eval_items(tmp_path / name, cfg)
        assert [(i.id, i.text) for i in items] == [("a", "p one c one"), ("b", "p two")], name
    with pytest.raises(DecontamError, match="no record has any of the fields"):
        read_eval_items(tmp_path / "e.json", DecontamConfig(eval_fields=("question",)))
    with pytest.raises(DecontamError, match="unknown format"):
        (tmp_path / "e.txt").write_text("x")
        read_eval_items(tmp_path / "e.txt", cfg)


def test_the_curate_op_drops_the_documents_with_their_reason(tmp_path):
    corpus, ev = _world(tmp_path)
    run_decontaminate(corpus, [ev], tmp_path / "dc")
    recipe = recipe_from_dict({"ops": ["exact_dedup", {"decontaminate": {"documents": str(tmp_path / "dc" /
                                                                                        "contaminated.jsonl")}},
                                       {"order": {"strategy": "keep"}}]})
    res = curate(corpus, tmp_path / "cur", recipe)
    assert res.reconciliation["ok"] and res.reconciliation["dropped"] == 3
    dropped = {d["id"]: d["reason"] for d in res.dropped("decontaminate")}
    assert sorted(dropped) == ["d20", "d3", "d9"] and "eval.jsonl item q1" in dropped["d3"]
    summary = next(s for s in res.operations if s.op == "decontaminate")
    assert summary.details["in_corpus"] == 3 and summary.details["not_in_corpus"] == 0


def test_the_op_refuses_a_file_of_another_corpus(tmp_path):
    corpus, _ = _world(tmp_path)
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "zz", "hits": []}) + "\n")
    with pytest.raises(Exception, match="none of the 1 documents"):
        curate(corpus, tmp_path / "cur", recipe_from_dict({"ops": [{"decontaminate": {"documents": str(other)}}]}))
    with pytest.raises(Exception, match="is not a file"):
        curate(corpus, tmp_path / "cur", recipe_from_dict({"ops": [{"decontaminate": {"documents": "nope.jsonl"}}]}))
    assert not (tmp_path / "cur").exists()


def test_cli(tmp_path):
    corpus, ev = _world(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["decontaminate", str(corpus), "--eval", str(ev), "-o", str(tmp_path / "o"), "-q",
                              "--n", "8"])
    assert res.exit_code == 0, res.output
    assert "eval.jsonl: 2 of 3 items contaminated" in res.output
    assert "4 training documents" in res.output, "with n = 8 the 11-word partial (d12) overlaps q1 too"
    res = runner.invoke(app, ["decontaminate", str(corpus), "--eval", str(tmp_path / "missing.jsonl"),
                              "-o", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(app, ["decontaminate", str(corpus), "--eval", str(ev), "-o", str(tmp_path)])
    assert res.exit_code == 5, "the output may not hold the input"
