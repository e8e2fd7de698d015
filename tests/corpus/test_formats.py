"""Readers by format, not by luck: the same rows as JSONL, JSON array, CSV, TSV, Parquet, a saved
Dataset and DatasetDict, a hub-style folder and a quoted glob give the same documents and tokens."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curadebt.measures.runner import audit
from curadebt.cli import app
from curadebt.corpus import ReaderConfig, iter_documents
from curadebt.corpus.readers import CorpusError

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def rows(request) -> list[dict]:
    from conftest import shared_data_path

    path = shared_data_path("mixed", "corpus.jsonl")
    out = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 40 == 0:  # about 220 real documents of every source
                r = json.loads(line)
                out.append({"id": r["id"], "text": r["text"], "source": r["source"]})
    return out


def _numbers(inputs, **cfg) -> tuple[int, int, list[str]]:
    rep = audit(inputs, **cfg).to_json()
    return rep["corpus"]["documents_audited"], rep["corpus"]["tokens"], sorted(
        (s["source"], s["documents"]) for s in rep["mixture"]["sources"]) if cfg.get("source_field") else []


@pytest.fixture(scope="module")
def formats(rows, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    out = {}
    out["jsonl"] = d / "c.jsonl"
    out["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out["json"] = d / "c.json"
    out["json"].write_text(json.dumps(rows, indent=1), encoding="utf-8")
    for name, delim in (("csv", ","), ("tsv", "\t")):
        out[name] = d / f"c.{name}"
        with open(out[name], "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["id", "text", "source"], delimiter=delim)
            w.writeheader()
            w.writerows(rows)
    out["csv.gz"] = d / "c.csv.gz"
    out["csv.gz"].write_bytes(gzip.compress(out["csv"].read_bytes()))
    hub = d / "hub"
    (hub / "data").mkdir(parents=True)
    half = len(rows) // 2
    pq.write_table(pa.Table.from_pylist(rows[:half]), hub / "data" / "train-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(rows[half:]), hub / "data" / "train-00001-of-00002.parquet")
    (hub / "README.md").write_text("---\nlicense: mit\n---\n# A dataset card, not a document\n")
    (hub / ".gitattributes").write_text("*.parquet filter=lfs\n")
    out["hub"] = hub
    out["glob"] = str(hub / "data" / "*.parquet")
    return out


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "csv.gz", "hub", "glob"])
def test_every_format_reads_the_same_rows(formats, fmt):
    want = _numbers(formats["jsonl"], source_field="source")
    assert _numbers(formats[fmt], source_field="source") == want
    docs = list(iter_documents(formats[fmt]))
    assert [d.id for d in docs][:3] == [r for r in [json.loads(line)["id"] for line in
                                                   formats["jsonl"].read_text().splitlines()[:3]]]


def test_hub_folder_skips_and_lists_the_card(formats):
    rep = audit(formats["hub"]).to_json()
    assert {(Path(s["path"]).name, s["reason"]) for s in rep["corpus"]["skipped_paths"]} == {
        ("README.md", "metadata"), (".gitattributes", "hidden")}


def test_saved_dataset_dict_reads_each_split_with_its_name(rows, tmp_path):
    datasets = pytest.importorskip("datasets")
    half = len(rows) // 2
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:half]),
                               "test": datasets.Dataset.from_list(rows[half:])})
    dd.save_to_disk(str(tmp_path / "dd"))
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows[:half] + rows[half:]), encoding="utf-8")
    assert _numbers(tmp_path / "dd", source_field="source") == _numbers(jsonl, source_field="source")
    docs = list(iter_documents(tmp_path / "dd"))
    assert [d.meta["split"] for d in docs] == ["train"] * half + ["test"] * (len(rows) - half)
    only = list(iter_documents(tmp_path / "dd", ReaderConfig(split="test")))
    assert len(only) == len(rows) - half and {d.meta["split"] for d in only} == {"test"}
    with pytest.raises(CorpusError, match="no split 'dev'; the splits are 'train', 'test'"):
        list(iter_documents(tmp_path / "dd", ReaderConfig(split="dev")))
    # curate writes text, never the Arrow bytes: the output holds the same documents
    r = CliRunner().invoke(app, ["curate", str(tmp_path / "dd"), "-o", str(tmp_path / "out"), "-q", "--no-dedup",
                                 "--order", "keep"])
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for p in sorted((tmp_path / "out" / "data").iterdir()) for line in p.read_text().splitlines()]
    assert [(o["id"], o["text"], o["split"]) for o in out] == [(d.id, d.text, d.meta["split"]) for d in docs]


def test_unknown_extension_is_an_error_unless_forced(tmp_path, formats):
    (tmp_path / "notes.xyz").write_text(formats["jsonl"].read_text())
    r = CliRunner().invoke(app, ["audit", str(tmp_path / "notes.xyz"), "-o", str(tmp_path / "a"), "-q"])
    assert r.exit_code == 3 and "not a corpus format" in r.output and ".jsonl" in r.output and "--input-format" in r.output
    r = CliRunner().invoke(app, ["audit", str(tmp_path / "notes.xyz"), "-o", str(tmp_path / "a"), "-q",
                                 "--input-format", "jsonl"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["audit", str(tmp_path / "nothing-*.jsonl"), "-o", str(tmp_path / "b"), "-q"])
    assert r.exit_code == 3 and "no file matches" in r.output


def test_text_folders_ids_and_sources(shared_data, tmp_path):
    roots = [shared_data("inaugural"), shared_data("state_union")]
    docs = list(iter_documents(roots, ReaderConfig(source_from="folder")))
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids)) == 59 + 65  # PROVENANCE.txt of each is metadata, skipped
    assert ids[0].startswith("inaugural/") and ids[-1].startswith("state_union/")
    assert {d.source for d in docs} == {"inaugural", "state_union"}
    r = CliRunner().invoke(app, ["audit", *map(str, roots), "-o", str(tmp_path / "a"), "--source-field", "source"])
    assert r.exit_code == 0 and "does not apply to text files" in r.output


def test_fsspec_urls_are_read_like_local_files(formats, tmp_path):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/corpus/c.jsonl", formats["jsonl"].read_bytes())
    for f in sorted((formats["hub"] / "data").iterdir()):
        fs.pipe(f"/hub/data/{f.name}", f.read_bytes())
    want = _numbers(formats["jsonl"], source_field="source")
    import curadebt

    for url in ("memory:///corpus/c.jsonl", "memory:///hub", "memory:///hub/data/*.parquet"):
        rep = curadebt.audit(url, source_field="source").to_json()
        got = (rep["corpus"]["documents_audited"], rep["corpus"]["tokens"],
               sorted((s["source"], s["documents"]) for s in rep["mixture"]["sources"]))
        assert got == want, url
    r = CliRunner().invoke(app, ["audit", "memory:///corpus/c.jsonl", "-o", str(tmp_path / "a"), "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["audit", "memory:///nothing/here.jsonl", "-o", str(tmp_path / "b"), "-q"])
    assert r.exit_code == 3 and "nothing there" in r.output
