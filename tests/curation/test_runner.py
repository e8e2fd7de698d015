"""curate: closed-form sampling, recipes, each operation, the ledger, determinism and the CLI."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.curation import recipe as R
from curadebt.curation.flags import apply_flags
from curadebt.curation.ops.caps import EntityCap, TokenCap
from curadebt.curation.ops.dedup import ExactDedup, NearDedup
from curadebt.curation.ops.facts import Facts
from curadebt.curation.ops.mixture import Mixture
from curadebt.curation.ops.order import Order
from curadebt.curation.context import OpContext
from curadebt.curation.plan import Plan
from curadebt.curation.runner import curate
from curadebt.curation.ops.mixture import (allocate, mixture, temperature_auto_budget, temperature_shares,
                                      temperature_targets, unimax_targets)
from curadebt.curation.scan import ScanMeasure

WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river mountain valley harbour "
         "market garden bridge castle forest meadow island desert canyon glacier lagoon prairie tundra").split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def _table(docs: list[Document]):
    m = ScanMeasure()
    return m.finalize(m.map(Batch(docs)))


def _ctx(docs: list[Document], seed: int = 0) -> OpContext:
    table = _table(docs)
    return OpContext(table=table, plan=Plan(table, seed), before={})


def _sources_corpus(sizes: dict[str, int], seed: int = 0) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for src, n in sizes.items():
        for _ in range(n):
            docs.append(Document(id=f"d{len(docs)}", text=_text(rng, rng.randint(20, 120)), ordinal=len(docs),
                                 source=src))
    return docs


def _source_tokens(ctx: OpContext) -> dict[str, float]:
    t, p = ctx.table, ctx.plan
    return {t.source_names[i]: float((t.tokens[t.source == i] * p.copies[t.source == i]).sum())
            for i in range(len(t.source_names))}


# ---------------------------------------------------------------------------------------------
# closed forms


def test_temperature_shares_closed_form():
    n = {"a": 900.0, "b": 100.0, "c": 25.0}
    q = temperature_shares(n, 0.5)
    assert q == pytest.approx({"a": 30 / 45, "b": 10 / 45, "c": 5 / 45})
    assert temperature_shares(n, 1.0) == pytest.approx({"a": 900 / 1025, "b": 100 / 1025, "c": 25 / 1025})
    assert temperature_shares(n, 0.0) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    # auto budget: the largest at which no source needs more than max_epochs
    b = temperature_auto_budget(n, 0.5, 1.0)
    assert b == pytest.approx(min(900 / (30 / 45), 100 / (10 / 45), 25 / (5 / 45)))
    t = temperature_targets(n, 0.5, b, 1.0)
    assert all(t[s] <= n[s] + 1e-9 for s in n)
    # a binding cap is water-filled: the rest shared in proportion to q
    t = temperature_targets(n, 0.5, 1000, 1.0)
    assert t["c"] == pytest.approx(25) and t["b"] == pytest.approx(100)
    assert t["a"] == pytest.approx(875)


def test_unimax_closed_form():
    n = {"small": 100.0, "mid": 1000.0, "big": 10_000.0}
    t = unimax_targets(n, 6000, 4.0)
    # smallest first: min(6000/3, 4*100) = 400; then min(5600/2, 4000) = 2800; then 2800
    assert t == pytest.approx({"small": 400, "mid": 2800, "big": 2800})
    assert sum(unimax_targets(n, 3000, 4.0).values()) == pytest.approx(3000)
    assert unimax_targets(n, 3000, 4.0) == pytest.approx({"small": 400, "mid": 1300, "big": 1300})


@pytest.mark.parametrize("budget,alpha", [(20_000, 0.5), (60_000, 0.3), (150_000, 0.7)])
def test_temperature_sampling_hits_target_shares(budget, alpha):
    ctx = _ctx(_sources_corpus({"web": 900, "news": 250, "books": 80, "legal": 30}))
    before = _source_tokens(ctx)
    op = Mixture(method="temperature", alpha=alpha, budget=budget, max_epochs=100)
    s = mixture(ctx, op, 0)
    after = _source_tokens(ctx)
    q = temperature_shares(before, alpha)
    for src in before:
        assert abs(after[src] - budget * q[src]) <= 0.01 * budget, (src, after[src], budget * q[src])
    assert abs(sum(after.values()) - budget) <= 0.01 * budget
    assert s.details["max_abs_error_of_budget"] <= 0.01
    if budget > sum(before.values()):
        assert (ctx.plan.copies > 1).any()  # up-sampling: kept x k


@pytest.mark.parametrize("budget,epochs", [(40_000, 4.0), (100_000, 2.0), (15_000, 1.0)])
def test_unimax_sampling_hits_targets(budget, epochs):
    ctx = _ctx(_sources_corpus({"web": 900, "news": 250, "books": 80, "legal": 30}, seed=3))
    before = _source_tokens(ctx)
    mixture(ctx, Mixture(method="unimax", budget=budget, max_epochs=epochs), 0)
    after = _source_tokens(ctx)
    targets = unimax_targets(before, budget, epochs)
    for src in before:
        assert abs(after[src] - targets[src]) <= 0.01 * budget, (src, after[src], targets[src])
        assert after[src] <= epochs * before[src] + 1e-9 or after[src] - epochs * before[src] <= 0.01 * budget


@pytest.mark.parametrize("method,budget,epochs", [("temperature", 60_000, 20.0), ("unimax", 45_000, 4.0)])
def test_sampling_shares_in_the_written_output(tmp_path, method, budget, epochs):
    """End to end: the audit of the written corpus (not the plan) has the closed-form token targets,
    each within 1% of the budget; the ledger says kept x k for the up-sampled documents."""
    docs = _sources_corpus({"web": 300, "news": 90, "books": 25, "legal": 10}, seed=7)
    path = _write_jsonl(tmp_path / "c.jsonl", [{"id": d.id, "text": d.text, "source": d.source} for d in docs])
    op = Mixture(method=method, budget=budget, max_epochs=epochs, **({"alpha": 0.4} if method == "temperature" else {}))
    res = curate(path, tmp_path / "out", R.Recipe(ops=[op, Order()]), source_field="source")
    before = {s["source"]: float(s["tokens"]) for s in res.before["mixture"]["sources"]}
    written = {s["source"]: s["tokens"] for s in res.after["mixture"]["sources"]}
    if method == "temperature":
        targets = temperature_targets(before, 0.4, budget, epochs)
        assert targets == pytest.approx({k: budget * v for k, v in temperature_shares(before, 0.4).items()})
    else:
        targets = unimax_targets(before, budget, epochs)
    assert sum(targets.values()) == pytest.approx(budget)
    for src, t in targets.items():
        assert abs(written[src] - t) <= 0.01 * budget, (src, written[src], t)
    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    up = next(r for r in led if r["copies"] > 1 and r["op"] == "mixture" and r["history"][0]["action"] == "upsample")
    assert res.reconciliation["output_documents"] == sum(r["copies"] for r in led)
    # an output copy's id leads back to its input document, and the ledger says where each copy went
    from curadebt.curation.ledger import lookup

    assert lookup(tmp_path / "out", f"{up['id']}#1")[0]["id"] == up["id"] and len(up["output"]) == up["copies"]
    shard, line = up["output"][1].rsplit(":", 1)
    rec = json.loads((tmp_path / "out" / shard).read_text(encoding="utf-8").splitlines()[int(line) - 1])
    assert rec["id"] == f"{up['id']}#1" and rec["source"] == up["source"]


def test_allocate_epochs_and_determinism():
    rng = np.random.default_rng(0)
    tokens = rng.integers(10, 200, size=500)
    copies = np.ones(500, dtype=np.int64)
    new = allocate(tokens, copies, 2.5 * tokens.sum(), np.random.default_rng(1))
    assert new.min() >= 2 and new.max() <= 3
    assert abs((new * tokens).sum() - 2.5 * tokens.sum()) <= tokens.max()
    again = allocate(tokens, copies, 2.5 * tokens.sum(), np.random.default_rng(1))
    assert np.array_equal(new, again)
    down = allocate(tokens, copies, 0.3 * tokens.sum(), np.random.default_rng(1))
    assert set(np.unique(down)) <= {0, 1}


# ---------------------------------------------------------------------------------------------
# recipes


def test_recipe_forms_and_errors(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("seed: 7\nops:\n  - exact_dedup\n  - near_dedup: {keep: longest, threshold: 0.6}\n"
                 "  - op: mixture\n    method: unimax\n    budget: 0.5x\n  - order\noutput: {format: parquet}\n")
    r = R.load_recipe(p)
    assert r.seed == 7 and [o.name for o in r.ops] == ["exact_dedup", "near_dedup", "mixture", "order"]
    assert r.ops[1].keep == "longest" and r.ops[1].threshold == 0.6 and r.output.format == "parquet"
    assert r.ops[2].epochs == 4.0 and r.ops[2].budget == "0.5x"
    for bad, msg in [("ops: [frobnicate]", "unknown op"), ("ops: [{near_dedup: {keeep: first}}]", "unknown parameter"),
                     ("ops: [order, exact_dedup]", "must come last"), ("ops: [{mixture: {budget: lots}}]", "budget"),
                     ("ops: [{facts: {mode: sideways}}]", "mode"), ("opz: []", "unknown recipe key"),
                     ("ops: [{entity_cap: {when: sometimes}}]", "when")]:
        p.write_text(bad)
        with pytest.raises(R.RecipeError, match=msg):
            R.load_recipe(p)
    d = R.default_recipe()
    assert [o.name for o in d.ops] == ["exact_dedup", "near_dedup", "mixture", "entity_cap", "facts", "order"]
    assert R.recipe_from_dict(json.loads(json.dumps(d.to_json()))).to_json() == d.to_json()


def test_apply_flags():
    r = apply_flags(R.default_recipe(), seed=3, cap_entities=["Tom Cruise"], cap_docs=5, mixture="unimax",
                      budget="2x", order="shuffle", fmt="parquet", dedup=None, near_threshold=0.7)
    names = [o.name for o in r.ops]
    assert r.seed == 3 and names[-1] == "order" and r.ops[-1].strategy == "shuffle"
    cap = r.op("entity_cap")
    assert cap.entities == ["Tom Cruise"] and cap.max_docs == 5 and cap.when == "always"
    m = r.op("mixture")
    assert m.method == "unimax" and m.when == "always" and m.budget == "2x"
    assert r.op("near_dedup").threshold == 0.7 and r.output.format == "parquet"
    r2 = apply_flags(R.default_recipe(), dedup=False, mixture="none")
    assert "exact_dedup" not in [o.name for o in r2.ops] and r2.op("mixture") is None


# ---------------------------------------------------------------------------------------------
# end to end on small corpora


def _write_jsonl(path: Path, records: list, extra_lines: list[str] = ()) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path


def _dup_corpus(tmp_path: Path) -> tuple[Path, dict]:
    rng = random.Random(5)
    recs = []
    base = [_text(rng, 80) for _ in range(60)]
    for i, t in enumerate(base):
        recs.append({"id": f"u{i}", "text": t, "source": "a" if i % 3 else "b"})
    # exact copies (one with whitespace changes) and near copies (~5% words replaced)
    recs.append({"id": "x1", "text": base[3], "source": "a"})
    recs.append({"id": "x2", "text": "  " + base[3].replace(" ", "  ", 5), "source": "b"})
    recs.append({"id": "x3", "text": base[10], "source": "a"})
    words = base[20].split()
    for j in range(0, len(words), 20):
        words[j] = "zzz"
    recs.append({"id": "n1", "text": " ".join(words), "source": "a"})
    truth = {"x1": "u3", "x2": "u3", "x3": "u10", "n1": "u20"}
    path = _write_jsonl(tmp_path / "dup.jsonl", recs, ['{"id": "bad", "text": ', '{"id": "empty", "text": "  "}'])
    return path, truth


def test_dedup_ledger_and_reconciliation(tmp_path):
    path, truth = _dup_corpus(tmp_path)
    rec = R.Recipe(ops=[ExactDedup(), NearDedup(), Order()])
    res = curate(path, tmp_path / "out", rec, source_field="source")
    r = res.reconciliation
    assert r["ok"] and r["read"] == 66 and r["quarantined"] == 2 and r["dropped"] == 4 and r["kept"] == 60
    assert r["read"] == r["kept"] + r["dropped"] + r["quarantined"] == r["ledger_rows"]
    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    by = {row["id"]: row for row in led}
    for dup, orig in truth.items():
        assert by[dup]["decision"] == "dropped" and by[dup]["duplicate_of"] == orig
        assert by[dup]["op"] == ("near_dedup" if dup == "n1" else "exact_dedup")
        assert by[orig]["decision"] == "kept" and by[orig]["copies"] == 1
    assert by["x1"]["cluster"] == "u3" and by["n1"]["cluster_kind"] == "near"
    quarantined = [row for row in led if row["decision"] == "quarantined"]
    assert len(quarantined) == 2 and {q["reason"].split(":")[0] for q in quarantined} == {"invalid_json", "empty_text"}
    # every kept document appears once in the output, where the ledger says
    out_ids = []
    for shard in res.files["shards"]:
        out_ids += [json.loads(line)["id"] for line in (tmp_path / "out" / shard).open()]
    assert sorted(out_ids) == sorted(row["id"] for row in led if row["decision"] == "kept")
    loc = by["u3"]["output"][0]
    shard, line = loc.rsplit(":", 1)
    assert json.loads((tmp_path / "out" / shard).read_text().splitlines()[int(line) - 1])["id"] == "u3"
    assert res.after["duplicates"]["exact_duplicate_documents"] == 0
    assert res.after["duplicates"]["near_duplicate_documents"] == 0
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["curate"]["reconciliation"]["ok"] and "duplicates" in rep["curate"]["debt"]["dimensions"]
    assert "before" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_keep_longest(tmp_path):
    rng = random.Random(2)
    t = _text(rng, 100)
    recs = [{"id": "short", "text": t}, {"id": "long", "text": t + " " + " ".join(t.split()[:8])}]
    recs += [{"id": f"o{i}", "text": _text(rng, 60)} for i in range(10)]
    path = _write_jsonl(tmp_path / "c.jsonl", recs)
    res = curate(path, tmp_path / "o", R.Recipe(ops=[NearDedup(keep="longest")]))
    led = {r["id"]: r for r in pq.read_table(tmp_path / "o" / "ledger.parquet").to_pylist()}
    assert led["long"]["decision"] == "kept" and led["short"]["duplicate_of"] == "long"
    assert res.reconciliation["ok"]


TOPICS = ("volcano observatory lighthouse monastery vineyard aqueduct brewery planetarium shipyard quarry "
          "orchard sawmill citadel ferry tramway bakery foundry aviary gallery stadium").split()


def _tom_corpus(tmp_path: Path) -> Path:
    rng = random.Random(11)
    recs = []
    for i in range(80):
        topic = TOPICS[i] if i < 20 else "harbour"  # 60 of the 80 Tom Cruise documents are alike
        recs.append({"id": f"tc{i}", "text": f"Tom Cruise visited the {topic} again and talked about the film.",
                     "source": "web"})
    for i, name in enumerate(["Tom Hanks", "Tom Baker", "Tom Hardy", "Tom Upton"]):
        for j in range(3):
            recs.append({"id": f"to{i}-{j}", "text": f"{name} wrote about the river. " + _text(rng, 15), "source": "web"})
    for i in range(200):
        recs.append({"id": f"f{i}", "text": _text(rng, 40), "source": "news"})
    return _write_jsonl(tmp_path / "tom.jsonl", recs)


def test_entity_cap_diverse_selection(tmp_path):
    path = _tom_corpus(tmp_path)
    op = EntityCap(entities=["Tom Cruise"], max_docs=10)
    res = curate(path, tmp_path / "o", R.Recipe(ops=[op]), source_field="source")
    led = pq.read_table(tmp_path / "o" / "ledger.parquet").to_pylist()
    kept_tc = [r for r in led if r["id"].startswith("tc") and r["decision"] == "kept"]
    assert len(kept_tc) == 10
    assert all(r["decision"] == "kept" for r in led if not r["id"].startswith("tc"))
    dropped = [r for r in led if r["decision"] == "dropped"]
    assert len(dropped) == 70 and all(r["op"] == "entity_cap" and "Tom Cruise" in r["reason"] for r in dropped)
    # diversity: each kept mention is in a different context (a random 10 of 80 would be mostly 'harbour')
    assert sum(int(r["id"][2:]) >= 20 for r in kept_tc) <= 1
    assert res.reconciliation["ok"]
    # random selection, same cap: seeded, and (almost surely) not all distinct contexts
    res = curate(path, tmp_path / "r", R.Recipe(ops=[EntityCap(entities=["Tom Cruise"], max_docs=10, select="random")]),
                 source_field="source")
    led = pq.read_table(tmp_path / "r" / "ledger.parquet").to_pylist()
    kept_r = [r for r in led if r["id"].startswith("tc") and r["decision"] == "kept"]
    assert len(kept_r) == 10 and sum(int(r["id"][2:]) >= 20 for r in kept_r) >= 3


def test_entity_cap_named_entity_uses_the_competition_target(tmp_path):
    """Without a numeric cap a named entity is brought to 9x its competitors' median (here the four
    other Toms with 3 documents each are below the 5 documents of an established competitor, so
    there is no competition to pay down and nothing changes)."""
    path = _tom_corpus(tmp_path)
    res = curate(path, tmp_path / "o", R.Recipe(ops=[EntityCap(entities=["Tom Cruise"])]), source_field="source")
    assert res.operations[0].dropped == 0 and "dominates a shared token" in res.operations[0].note
    assert res.reconciliation["ok"]


def test_token_cap(tmp_path):
    path = _tom_corpus(tmp_path)
    res = curate(path, tmp_path / "o", R.Recipe(ops=[TokenCap(tokens=["Tom"], max_docs=20)]), source_field="source")
    led = pq.read_table(tmp_path / "o" / "ledger.parquet").to_pylist()
    kept_tom = [r for r in led if r["decision"] == "kept" and r["id"].startswith(("tc", "to"))]
    assert len(kept_tom) == 20
    # every other Tom is a new feature: diverse selection keeps each of them at least once,
    # and no two Tom Cruise documents in the same context
    assert {r["id"].split("-")[0] for r in kept_tom if r["id"].startswith("to")} == {"to0", "to1", "to2", "to3"}
    assert sum(int(r["id"][2:]) >= 20 for r in kept_tom if r["id"].startswith("tc")) <= 1
    assert res.reconciliation["ok"]


def _facts_corpus(tmp_path: Path) -> tuple[Path, Path]:
    rng = random.Random(4)
    recs = []
    for i in range(40):
        recs.append({"id": f"p{i}", "text": f"{_text(rng, 10)} The capital of France is Paris. {_text(rng, 10)}"})
    for i in range(4):
        recs.append({"id": f"l{i}", "text": f"{_text(rng, 10)} The capital of France is Lyon. {_text(rng, 10)}"})
    recs += [{"id": f"f{i}", "text": _text(rng, 30)} for i in range(50)]
    probes = tmp_path / "probes.jsonl"
    probes.write_text(json.dumps({"id": "france", "subject": "France", "answers": ["Paris", "Lyon"],
                                  "patterns": ["The capital of {subject} is {answer}"]}) + "\n")
    return _write_jsonl(tmp_path / "facts.jsonl", recs), probes


@pytest.mark.parametrize("mode", ["down", "up", "both"])
def test_fact_balancing(tmp_path, mode):
    path, probes = _facts_corpus(tmp_path)
    res = curate(path, tmp_path / mode, R.Recipe(ops=[Facts(max_ratio=2.0, mode=mode, max_copies=4)]),
                 probes=str(probes))
    before = res.before["probes"]["probes"][0]
    after = res.after["probes"]["probes"][0]
    assert before["dominance_ratio"] == pytest.approx(41 / 5)
    if mode == "up":  # Lyon x4 = 16 sentences: (40 + 1) / 17 = 2.4, capped by max_copies
        assert after["dominance_ratio"] == pytest.approx(41 / 17)
        assert res.operations[0].upsampled == 4
    else:
        assert after["dominance_ratio"] <= 2.0 + 1e-9
    assert res.reconciliation["ok"] and res.reconciliation["output_documents"] == res.after["corpus"]["documents_read"]


def test_diverse_order_and_determinism(tmp_path):
    rng = random.Random(8)
    recs = [{"id": f"b{i}", "text": _text(rng, rng.randint(30, 60)), "source": "bible"} for i in range(300)]
    recs += [{"id": f"w{i}", "text": _text(rng, rng.randint(30, 60)), "source": "wiki"} for i in range(150)]
    recs += [{"id": f"s{i}", "text": _text(rng, rng.randint(30, 60)), "source": "speech"} for i in range(50)]
    path = _write_jsonl(tmp_path / "o.jsonl", recs)
    rec = R.Recipe(ops=[Mixture(method="unimax", budget="1x", max_epochs=3), Order()], seed=1)
    a = curate(path, tmp_path / "a", rec, source_field="source")
    for w in a.after["order"]["windows"]:  # the 1% window holds 6 documents: one document is 1/6 of it
        assert w["source_tvd"] <= (0.15 if w["fraction"] == 0.01 else 0.05), w
    assert a.before["order"]["windows"][-1]["source_tvd"] > 0.3
    # copies of an up-sampled document are spread out, never next to each other
    ids = [json.loads(line)["id"] for s in a.files["shards"] for line in (tmp_path / "a" / s).open()]
    pos: dict[str, list[int]] = {}
    for i, x in enumerate(ids):
        pos.setdefault(x.split("#")[0], []).append(i)
    multi = [p for p in pos.values() if len(p) > 1]
    assert multi and min(min(np.diff(p)) for p in multi) > 20
    # same seed, same bytes; another seed, another order
    b = curate(path, tmp_path / "b", rec, source_field="source")
    for f in sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert b.reconciliation == a.reconciliation
    rec2 = R.Recipe(ops=rec.ops, seed=2)
    c = curate(path, tmp_path / "c", rec2, source_field="source")
    assert (tmp_path / "c" / "data" / "part-00000.jsonl").read_bytes() != (tmp_path / "a" / "data" / "part-00000.jsonl").read_bytes()
    assert c.reconciliation["ok"]


def test_parquet_output_and_shards(tmp_path):
    path, _ = _dup_corpus(tmp_path)
    rec = R.Recipe(ops=[ExactDedup(), Order(strategy="shuffle")], output=R.OutputSpec(format="parquet", shard_bytes=4000))
    res = curate(path, tmp_path / "pq", rec, source_field="source")
    assert len(res.files["shards"]) > 3 and all(s.endswith(".parquet") for s in res.files["shards"])
    rows = sum(pq.read_table(tmp_path / "pq" / s).num_rows for s in res.files["shards"])
    assert rows == res.reconciliation["output_documents"] == res.after["corpus"]["documents_read"]
    # a rerun with bigger shards removes the stale ones
    rec.output.shard_bytes = 10 ** 9
    res2 = curate(path, tmp_path / "pq", rec, source_field="source")
    assert sorted(p.name for p in (tmp_path / "pq" / "data").iterdir()) == ["part-00000.parquet"]
    assert res2.reconciliation["ok"]


def test_cli_curate_and_explain(tmp_path):
    from typer.testing import CliRunner

    from curadebt.cli import app

    path, _ = _dup_corpus(tmp_path)
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(app, ["curate", str(path), "-o", str(out), "--source-field", "source", "--mixture", "none", "-q"])
    assert res.exit_code == 0, res.output
    assert "read 66 = kept 60 + dropped 4 + quarantined 2" in res.output
    res = runner.invoke(app, ["explain", "x2", "--ledger", str(out)])
    assert res.exit_code == 0 and "exact copy of u3" in res.output and "duplicate of: u3" in res.output
    res = runner.invoke(app, ["explain", "nope", "--ledger", str(out / "ledger.parquet")])
    assert res.exit_code == 1
    res = runner.invoke(app, ["curate", str(path), "-o", str(out), "--mixture", "sideways"])
    assert res.exit_code == 2 and "recipe error" in res.output
