"""curate with the default recipe on the demo world (planted debts) and on ../shared/data/mixed:
every debt dimension the input audit flags is lower in the audit of the output."""
from __future__ import annotations

import json

import pytest

from curadebt.measures.debt import DebtThresholds
from curadebt.curation.runner import curate

T = DebtThresholds()


def _check_lowered(res, unpaid: tuple[str, ...] = ()) -> None:
    """Every flagged dimension is lower after, but the ``unpaid`` ones (left alone on purpose)."""
    dims = res.comparison["dimensions"]
    flagged = [n for n, d in dims.items() if d["before"]["is_debt"] and n not in unpaid]
    assert flagged
    for name in flagged:
        d = dims[name]
        if d["before"]["score"] == d["after"]["score"] == 1.0:  # saturated: the value itself must improve
            assert d["after"]["value"] < d["before"]["value"], (name, d)
        else:
            assert d["after"]["score"] < d["before"]["score"], (name, d)
    assert res.reconciliation["ok"]
    r = res.reconciliation
    assert r["read"] == r["kept"] + r["dropped"] + r["quarantined"] == r["ledger_rows"]
    # no exact duplicates left
    assert res.after["duplicates"]["exact_duplicate_documents"] == 0
    # no new debt appears
    assert set(res.comparison["flagged_after"]) <= set(res.comparison["flagged_before"])


@pytest.fixture(scope="module")
def world_run(tmp_path_factory):
    from curadebt.worlds.demo import generate_world

    tmp = tmp_path_factory.mktemp("world")
    m = generate_world(tmp / "world", seed=0, n_docs=3000)
    res = curate(tmp / "world" / "corpus.jsonl", tmp / "out", source_field="source",
                 probes=str(tmp / "world" / "probes.jsonl"))
    return m, res, tmp / "out"


@pytest.mark.slow
def test_demo_world_default_recipe_pays_every_planted_debt(world_run):
    m, res, out = world_run
    _check_lowered(res)
    dims = res.comparison["dimensions"]
    for name in ("duplicates", "salience", "mixture", "order", "probes"):
        assert dims[name]["before"]["is_debt"] and dims[name]["after"]["is_debt"] is False, (name, dims[name])
    # the planted entity is brought within the target of its competitors
    cap = next(o for o in res.operations if o.op == "entity_cap").details["competitions"]["Tom -> Cruise"]
    assert cap["reached"] and cap["documents_after"] <= cap["target_documents"]
    tom = next((r for r in res.after["salience"]["competition"] if r["token"] == "Tom"), None)
    assert tom is None or tom["status"] != "competition" or tom["ratio"] < T.competition_ratio
    # the early windows look like the whole
    for w in res.after["order"]["windows"]:
        assert w["source_tvd"] <= 0.05, w
    # the fact is no longer dominated; the controls were left alone
    probes = {p["id"]: p for p in res.after["probes"]["probes"]}
    assert probes["capital-of-France"]["dominance_ratio"] <= 3.0 + 1e-9
    fact_op = next(o for o in res.operations if o.op == "facts")
    assert set(fact_op.details["probes"]) == {"capital-of-France"}
    # the mixture hits the temperature shares
    mix = next(o for o in res.operations if o.op == "mixture").details
    assert mix["max_abs_error_of_budget"] < 0.01
    # the report carries the before/after section, the HTML shows it
    rep = json.loads((out / "report.json").read_text())
    assert rep["curate"]["debt"]["dimensions"]["salience"]["paid"] is True
    assert "Curation: before" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_world_ledger_explains_planted_copies(world_run):
    from curadebt.curation.ledger import lookup

    m, res, out = world_run
    dup = next(d for d in m.debts if d["id"] == "duplicates")
    exact = [c for c in dup["copies"] if c["kind"] == "exact"]
    for c in exact[:20]:
        row = lookup(out, c["id"])[0]
        orig = lookup(out, c["copy_of"])[0]
        first = min((row, orig), key=lambda r: r["ordinal"])
        later = max((row, orig), key=lambda r: r["ordinal"])
        assert later["decision"] == "dropped" and later["op"] == "exact_dedup"
        assert later["duplicate_of"] is not None
        assert any(h["op"] == "exact_dedup" for h in first["history"])


@pytest.mark.slow
def test_mixed_corpus_default_recipe(shared_data, tmp_path):
    corpus = shared_data("mixed", "corpus.jsonl")
    res = curate(corpus, tmp_path / "out", source_field="source")
    # salience: 'God' -> 'Israel' is a debt, but its documents are Bible chapters that name it in
    # passing; the cap spares them and says so (tests/test_salience_competition.py)
    _check_lowered(res, unpaid=("salience",))
    dims = res.comparison["dimensions"]
    assert dims["order"]["before"]["is_debt"] and dims["order"]["after"]["is_debt"] is False
    # the first 10% of tokens is all bible before; after, every early window is within a few points
    assert res.before["order"]["windows"][-1]["source_tvd"] > 0.5
    w = {x["fraction"]: x["source_tvd"] for x in res.after["order"]["windows"]}
    assert w[0.05] <= 0.05 and w[0.1] <= 0.05 and w[0.01] <= 0.2
    # near copies left: short speeches ("My lord?", under near dedup's 20 tokens) and their partners,
    # and Isaiah 37, a parallel of 2 Kings 19 that holds words no other chapter has (the tail guard)
    import pyarrow.parquet as pq

    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    short = {r["cluster"] for r in led if r["cluster"] and r["tokens"] < 20}
    for r in led:
        if r["cluster_kind"] == "near" and r["decision"] == "kept":
            guarded = any("tail guard" in h["reason"] for h in r["history"])
            assert r["tokens"] < 20 or r["cluster"] in short or guarded, r["id"]
    near = next(o for o in res.operations if o.op == "near_dedup").details
    assert near["kept_back_by_tail_guard"] == 1
    # the caps stay within their token budget
    cap = next(o for o in res.operations if o.op == "entity_cap")
    assert cap.tokens_in - cap.tokens_out <= 0.1 * cap.tokens_in + 1
