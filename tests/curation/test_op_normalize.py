"""normalize: frequency normalization both ways on a Zipf-distributed entity world."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curadebt.curation import recipe as R
from curadebt.curation.ops.dedup import ExactDedup
from curadebt.curation.ops.normalize import Normalize
from curadebt.curation.ops.order import Order
from curadebt.curation.ops.normalize import gini, targets
from curadebt.curation.runner import curate
from curadebt.curation.scan import entity_hash

FIRST = ["Ana", "Ben", "Cara", "Dov", "Eli", "Fay", "Gus", "Hal", "Ida", "Jon", "Kai", "Lea"]
LAST = ["Lind", "Okoro", "Marsh", "Quill", "Rook", "Sand", "Tarn", "Vale", "Wren", "Yew", "Zorn", "Birch"]
WORDS = "river lantern copper violin orchard glacier saddle marble pepper quilt falcon ember willow canyon".split()


@pytest.fixture(scope="module")
def zipf_world(tmp_path_factory) -> Path:
    """120 invented people, person of rank r in max(1, round(256 / r)) documents; the head's first
    document also names a person seen nowhere else (the tail guard must keep it)."""
    rng = random.Random(0)
    people = [f"{f} {s}" for f in FIRST for s in LAST][:120]
    rows = []
    for rank, p in enumerate(people, 1):
        for j in range(max(1, round(256 / rank))):
            extra = " They met Zed Quorn there." if (rank, j) == (1, 0) else ""
            rows.append({"id": f"{rank}-{j}", "text": f"{p} " + " ".join(rng.choice(WORDS) for _ in range(30))
                         + f" {j}.{extra}"})
    rng.shuffle(rows)
    path = tmp_path_factory.mktemp("zipf") / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_gini_and_targets():
    assert gini([5, 5, 5]) == 0 and gini([0, 0, 9]) == pytest.approx(2 / 3) and gini([]) == 0
    t = targets({1: 100.0, 2: 1.0}, Normalize(alpha=0.5))
    assert t[1] / t[2] == pytest.approx(10.0) and t[1] + t[2] == pytest.approx(101.0)  # tempered, total kept
    t = targets({1: 100.0, 2: 1.0, 3: 10.0}, Normalize(max_exposure=20, min_exposure=4))
    assert t == {1: 20.0, 2: 4.0, 3: 10.0}


@pytest.mark.parametrize("params", [dict(alpha=0.5, min_exposure=4), dict(max_exposure=32, min_exposure=4)])
def test_normalize_flattens_raises_the_tail_and_respects_the_budget(zipf_world, tmp_path, params):
    op = Normalize(**params, max_repeat=8, token_budget=0.5, max_token_loss=0.6)
    res = curate(zipf_world, tmp_path / "out", R.Recipe(ops=[op]))
    assert res.reconciliation["ok"]
    d = res.operations[0].details
    assert d["gini_after"] < d["gini_before"] - 0.1
    # every entity reaches the tail minimum but Zed Quorn, whose one document also names the head
    short = {u["entity"] for u in d["unreached"] if u["exposure"] < 4}
    assert d["min_exposure_before"] < 4 and short == {f"#{entity_hash('Zed Quorn'):016x}"}  # not a top entity: no name
    if "max_exposure" in params:
        assert d["max_exposure_after"] <= 32
    assert d["tokens_added"] <= 0.5 * res.operations[0].tokens_in
    assert d["tokens_dropped"] <= 0.6 * res.operations[0].tokens_in
    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    rows = {r["id"]: r for r in led}
    assert rows["1-0"]["decision"] == "kept"  # the only document naming Zed Quorn
    assert any(r["op"] == "normalize" and r["copies"] > 1 for r in led)
    assert any(r["op"] == "normalize" and r["decision"] == "dropped" for r in led)
    assert all("target" in r["reason"] for r in led if r["op"] == "normalize")


def test_tight_budget_stops_short_and_says_so(zipf_world, tmp_path):
    op = Normalize(min_exposure=50, max_repeat=100, token_budget=0.01)
    res = curate(zipf_world, tmp_path / "out", R.Recipe(ops=[op]))
    d = res.operations[0].details
    assert d["tokens_added"] <= d["token_budget"] and d["reached_target"] < d["entities"]


def test_recipe_checks():
    with pytest.raises(R.RecipeError, match="does nothing"):
        Normalize().validate()
    with pytest.raises(R.RecipeError, match="alpha"):
        Normalize(alpha=2).validate()
    assert R.make_op("normalize", {"alpha": 0.5}).alpha == 0.5


@pytest.mark.parametrize("schedule", ["raw_first", "normalized_first"])
def test_schedule_puts_the_two_distributions_in_two_phases(zipf_world, tmp_path, schedule):
    op = Normalize(max_exposure=32, min_exposure=4, max_repeat=8, token_budget=0.5, max_token_loss=0.6,
                     schedule=schedule, schedule_fraction=0.3)
    res = curate(zipf_world, tmp_path / "out", R.Recipe(ops=[op, Order(strategy="diverse")]))
    assert res.reconciliation["ok"]
    info = res.operations[0].details["schedule"]
    assert abs(info["first_phase_share"] - 0.3) < 0.01
    texts = [json.loads(line)["text"] for p in sorted((tmp_path / "out" / "data").iterdir())
             for line in p.read_text(encoding="utf-8").splitlines()]
    cut, seen = info["first_phase_tokens"], 0
    head = {"first": 0, "second": 0}
    docs = {"first": 0, "second": 0}
    for t in texts:
        phase = "first" if seen < cut else "second"
        head[phase] += t.startswith("Ana Lind ")
        docs[phase] += 1
        seen += len(t.split())
    raw_share = 256 / sum(max(1, round(256 / r)) for r in range(1, 121))  # the head's share of the raw corpus
    early, late = head["first"] / docs["first"], head["second"] / docs["second"]
    if schedule == "raw_first":
        assert abs(early - raw_share) < 0.05 and late < raw_share / 3
    else:
        assert early < raw_share / 3 and abs(late - raw_share) < 0.05


def test_a_schedule_must_come_last(tmp_path):
    with pytest.raises(R.RecipeError, match="last op before order"):
        R.Recipe(ops=[Normalize(alpha=0.5, schedule="raw_first"), ExactDedup()]).validate()
