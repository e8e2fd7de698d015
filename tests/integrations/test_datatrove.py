"""curadebt in a real datatrove pipeline: an audit across 2 ranks merged into one report gives the
CLI's numbers on the same rows; a curate ledger applied as a pipeline step gives curate's output."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

datatrove = pytest.importorskip("datatrove", reason="datatrove is an optional integration (pip install datatrove)")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from curadebt.integrations.datatrove import CuradebtAudit, CuradebtLedgerFilter, merge_audit  # noqa: E402
from curadebt.measures.runner import audit  # noqa: E402

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    from conftest import shared_data_path

    rows = []
    with open(shared_data_path("mixed", "corpus.jsonl"), encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 30 == 0:
                r = json.loads(line)
                rows.append({"id": r["id"], "text": r["text"], "source": r["source"]})
    rows += rows[:20]  # exact copies across the two shards
    d = tmp_path_factory.mktemp("dt") / "in"
    d.mkdir()
    half = len(rows) // 2
    for k, part in enumerate((rows[:half], rows[half:])):
        (d / f"part-{k}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    return d


def _numbers(rep: dict) -> tuple:
    dup = rep["duplicates"]
    return (rep["corpus"]["documents_audited"], rep["corpus"]["tokens"], dup["exact_duplicate_documents"],
            dup["near_duplicate_documents"], rep["frequency"]["ngrams"]["3"]["distinct"],
            [(s["source"], s["documents"], s["tokens"]) for s in rep["mixture"]["sources"]],
            [(e["entity"], e["mentions"]) for e in rep["salience"]["entities"][:10]],
            rep["debt"]["dimensions"]["duplicates"]["value"], rep["debt"]["dimensions"]["salience"]["value"])


def test_audit_across_ranks_merges_to_the_cli_numbers(shards, tmp_path):
    states = tmp_path / "states"
    LocalPipelineExecutor([JsonlReader(str(shards)), CuradebtAudit(states, source_field="source"),
                           JsonlWriter(str(tmp_path / "passed"))],
                          tasks=2, workers=1, logging_dir=str(tmp_path / "logs")).run()
    assert sorted(p.name for p in states.iterdir()) == ["rank-00000.pkl", "rank-00001.pkl"]
    rep = merge_audit(states, tmp_path / "report").to_json()
    cli = audit(sorted(shards.iterdir()), source_field="source").to_json()
    assert _numbers(rep) == _numbers(cli)
    assert (tmp_path / "report" / "report.json").exists() and rep["order"] is None
    passed = sum(1 for f in (tmp_path / "passed").iterdir() for _ in gzip.open(f))
    assert passed == cli["corpus"]["documents_read"]  # the step passes every document on


def test_ledger_filter_gives_the_curated_documents(shards, tmp_path):
    from curadebt import curate
    from curadebt.curation.flags import apply_flags
    from curadebt.curation.recipe import default_recipe

    res = curate(sorted(shards.iterdir()), tmp_path / "cur", apply_flags(default_recipe(), order="keep"),
                 source_field="source")
    LocalPipelineExecutor([JsonlReader(str(shards)), CuradebtLedgerFilter(tmp_path / "cur"),
                           JsonlWriter(str(tmp_path / "out"))],
                          tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
    got = sorted(json.loads(line)["id"] for f in (tmp_path / "out").iterdir() for line in gzip.open(f))
    want = sorted(json.loads(line)["id"] for f in (tmp_path / "cur" / "data").iterdir()
                  for line in f.read_text().splitlines())
    assert got == want and len(got) == res.reconciliation["output_documents"]
