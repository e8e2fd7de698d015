"""The Python API takes what users have: paths, records, pyarrow, pandas, datasets, generators;
real signatures; typed curate results. Same numbers as the CLI on the same rows."""
from __future__ import annotations

import inspect
import json

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import curadebt
from curadebt.cli import app


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    from conftest import shared_data_path

    out = []
    with open(shared_data_path("mixed", "corpus.jsonl"), encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 50 == 0:
                r = json.loads(line)
                out.append({"id": r["id"], "text": r["text"], "source": r["source"]})
    return out


def _numbers(rep: dict) -> tuple:
    return (rep["corpus"]["documents_audited"], rep["corpus"]["tokens"],
            rep["duplicates"]["exact_duplicate_documents"], rep["debt"]["overall"],
            [(s["source"], s["tokens"]) for s in rep["mixture"]["sources"]])


@pytest.fixture(scope="module")
def cli_numbers(rows, tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    (d / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    r = CliRunner().invoke(app, ["audit", str(d / "c.jsonl"), "--source-field", "source", "-o", str(d / "a"), "-q"])
    assert r.exit_code == 0, r.output
    return _numbers(json.loads((d / "a" / "report.json").read_text()))


@pytest.mark.realdata
@pytest.mark.parametrize("kind", ["list", "generator", "table", "dataframe", "dataset", "iterable_dataset"])
def test_in_memory_corpora_give_the_cli_numbers(rows, cli_numbers, kind):
    if kind == "list":
        corpus = rows
    elif kind == "generator":
        corpus = (r for r in rows)
    elif kind == "table":
        corpus = pa.Table.from_pylist(rows)
    elif kind == "dataframe":
        pd = pytest.importorskip("pandas")
        corpus = pd.DataFrame(rows)
    else:
        datasets = pytest.importorskip("datasets")
        corpus = datasets.Dataset.from_list(rows)
        if kind == "iterable_dataset":
            corpus = corpus.to_iterable_dataset()
    rep = curadebt.audit(corpus, source_field="source").to_json()
    assert _numbers(rep) == cli_numbers


def test_strings_and_signatures():
    rep = curadebt.audit(["Tom Cruise met the press.", "Another text entirely, with words."])
    assert rep.corpus["documents_audited"] == 2 and rep.corpus["files"] == ["records"]
    for fn in (curadebt.audit, curadebt.curate):
        params = inspect.signature(fn).parameters
        assert "corpus" in params and "source_field" in params and fn.__doc__.strip()
    assert inspect.signature(curadebt.curate).parameters["recipe"].default is None
    with pytest.raises(TypeError, match="unknown option"):
        curadebt.audit(["x y z"], not_an_option=1)
    with pytest.raises(TypeError, match="not one record"):
        curadebt.audit({"text": "x"})


def test_dataset_dict_and_typed_curate_result(tmp_path):
    datasets = pytest.importorskip("datasets")
    texts = [f"document {i} about the harbour and its old lanterns, number {i}" for i in range(30)]
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": texts + [texts[0]]}),
                               "test": datasets.Dataset.from_dict({"text": texts[:3]})})
    res = curadebt.curate(dd, tmp_path / "out")
    assert res.reconciliation["ok"] and res.reconciliation["read"] == 34
    dropped = res.dropped(op="exact_dedup")
    assert {d["id"] for d in dropped} == {"dataset/train:31", "dataset/test:1", "dataset/test:2", "dataset/test:3"}
    assert len(res.kept) == 30 and res.kept[0] == "dataset/train:1"
    assert "exact copy of dataset/train:1" in res.explain("dataset/train:31")
    out = [json.loads(line) for p in sorted((tmp_path / "out" / "data").iterdir()) for line in p.read_text().splitlines()]
    assert {o["split"] for o in out} == {"train"}  # the split is in each record's meta


def test_apply_ledger_to_a_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")
    from curadebt.integrations.datasets import apply_ledger

    texts = [f"a note on lanterns and harbours, number {i} of many" for i in range(25)]
    ds = datasets.Dataset.from_dict({"text": texts + texts[:5], "n": list(range(30))})
    res = curadebt.curate(ds, tmp_path / "out")
    kept = apply_ledger(ds, tmp_path / "out")
    assert len(kept) == res.reconciliation["output_documents"] == 25
    assert kept["n"] == list(range(25))  # the input's order, the later exact copies left out
    with_ids = ds.add_column("id", [f"d{i}" for i in range(30)])
    res = curadebt.curate(with_ids, tmp_path / "out2")
    assert apply_ledger(with_ids, tmp_path / "out2")["id"] == [f"d{i}" for i in range(25)]
    with pytest.raises(KeyError, match="not in the ledger"):
        apply_ledger(with_ids.select(range(3)).map(lambda r: {"id": "x" + r["id"]}), tmp_path / "out2")
