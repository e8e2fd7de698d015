"""From-scratch lab: the world generator (exact exposures), packing, fits and metrics, and a smoke run."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from curadebt.lab import world as W
from curadebt.lab.inertia import InertiaConfig, exposures_seen, fit_power, run_inertia
from curadebt.lab.scratch import EOS, PAD, ScratchError, ScratchLM, TrainConfig, encode, pack, score, train, train_tokenizer


def small(**kw) -> W.WorldConfig:
    base = dict(seed=3, tiers=(1, 4, 16, 64), facts_per_tier=3, placements=("early", "late", "spread"),
                filler_docs=400, people_per_first=2, docs_per_person=2)
    base.update(kw)
    return W.WorldConfig(**base)


def test_exposure_counts_are_exact():
    w = W.generate(small())
    texts = w.texts()
    assert len(w.facts) == 12
    for f in w.facts:
        assert f.exposures == f.tier
        assert len(f.positions) == f.tier
        assert W.count_statements(texts, f) == f.tier
        # the country and the capital occur in no other document
        assert sum(1 for t in texts if f.country in t) == f.tier
        assert sum(1 for t in texts if f.capital in t) == f.tier
        assert all(w.docs[p]["source"] == "fact" and w.docs[p]["meta"]["fact"] == w.facts.index(f) for p in f.positions)
    # held-out paraphrases never occur in the corpus
    for f in w.facts:
        for t in W.EVAL_TEMPLATES:
            assert W.fact_statement(t, f.country, f.capital) not in "\n".join(texts)


def test_placements_put_documents_early_or_late():
    w = W.generate(small(place_frac=0.25))
    n = len(w.docs)
    region = int(0.25 * n)
    for f in w.facts:
        if f.placement == "early":
            assert max(f.positions) < region
        elif f.placement == "late":
            assert min(f.positions) >= n - region
    early = [p for f in w.facts if f.placement == "early" for p in f.positions]
    late = [p for f in w.facts if f.placement == "late" for p in f.positions]
    assert max(early) < min(late)


def test_star_is_over_represented_at_matched_size():
    w1 = W.generate(small(tom_m=1))
    w10 = W.generate(small(tom_m=10))
    assert len(w1.docs) == len(w10.docs)
    def star_docs(w):
        return sum(1 for d in w.docs if "Tom Cruise" in d["text"])
    assert star_docs(w1) == 2 and star_docs(w10) == 20
    assert w10.star_docs == 20
    toms = [p for p in w10.people if p[0] == "Tom"]
    assert len(toms) == 2 and ("Tom", "Cruise") in toms
    # every other person keeps docs_per_person documents
    other = [p for p in w10.people if p != ("Tom", "Cruise")][0]
    name = " ".join(other)
    assert sum(1 for d in w10.docs if d["source"] == "people" and d["text"].startswith(name) or f" {name}" in d["text"]) >= 2


def test_same_seed_same_bytes(tmp_path):
    a = W.generate(small()).write(tmp_path / "a")
    b = W.generate(small()).write(tmp_path / "b")
    c = W.generate(small(seed=4)).write(tmp_path / "c")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert [f["exposures"] for f in man["facts"]] == [f.tier for f in W.generate(small()).facts]


@pytest.mark.parametrize("kw", [dict(tiers=(0, 4)), dict(placements=("sideways",)), dict(facts_per_tier=100),
                                dict(tom_m=1000, filler_docs=10), dict(place_frac=0.0)])
def test_bad_world_config_is_a_clear_error(kw):
    with pytest.raises(W.WorldError):
        W.generate(small(**kw))


def test_pack_keeps_documents_whole_and_maps_rows():
    docs = [[5, 6, 7], [8] * 10, [9, 9], [10] * 5]
    p = pack(docs, ctx=16)
    assert p.rows.shape[1] == 16
    for i, ids in enumerate(docs):
        row = p.rows[p.row_of_doc[i]].tolist()
        s = " ".join(map(str, row))
        assert " ".join(map(str, [EOS] + ids + [EOS])) in s or " ".join(map(str, ids + [EOS])) in s
    assert all(r[0] == EOS for r in p.rows.tolist())
    assert p.tokens() == int((p.rows != PAD).sum())
    with pytest.raises(ScratchError):
        pack([[1] * 20], ctx=16)


def test_fit_power_recovers_exponent():
    x = np.array([4, 16, 64, 256, 1024], dtype=float)
    g, a = fit_power(x, 2.0 * x ** 0.4)
    assert g == pytest.approx(0.4) and a == pytest.approx(2.0)
    assert math.isnan(fit_power([16, 16], [3, 4])[0])
    assert math.isnan(fit_power([16], [3])[0])


def test_exposures_seen_counts_rows_before_a_checkpoint():
    w = W.generate(small())
    row_of_doc = np.arange(len(w.docs)) // 3  # three documents a row
    f = w.facts[-1]
    k = 3 * len(w.docs) // 6
    seen = exposures_seen(w, row_of_doc, k // 3)
    assert seen[-1] == sum(1 for p in f.positions if p // 3 < k // 3)
    assert exposures_seen(w, row_of_doc, len(w.docs))[-1] == f.tier


def test_score_is_a_log_probability():
    tok = train_tokenizer(["The capital of France is Paris."] * 20 + ["Lyon is a city."] * 5, vocab_size=300)
    lm = ScratchLM(tok, TrainConfig(size="xs", ctx=32, vocab_size=300), seed=0)
    lp = score(lm, ["The capital of France is"] * 2, ["Paris", "Lyon"])
    assert (lp < 0).all()
    # a vocabulary-wide sum of next-token probabilities is 1 (single-token answers)
    vocab = [t for t, i in tok.get_vocab().items() if i > 1 and t.startswith("Ġ") and len(encode(tok, [" " + t[1:]])[0]) == 1]
    ps = np.exp(score(lm, ["The capital of France is"] * len(vocab), [t[1:] for t in vocab]))
    assert ps.sum() < 1.0 + 1e-6


def test_smoke_inertia_is_deterministic(tmp_path):
    cfg = InertiaConfig(seeds=(0, 1), sizes=("xs",), depths=(0.5, 1.0), max_counter=3, rebound_depth=0.5,
                        world=W.WorldConfig(tiers=(2, 16), facts_per_tier=2, filler_docs=60, people_per_first=1,
                                            docs_per_person=1, placements=("spread",)),
                        train=TrainConfig(size="xs", batch_size=16, vocab_size=1000, ctx=96), save_checkpoints=False)
    a = run_inertia(cfg)
    b = run_inertia(cfg)
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
    run = a["runs"][0]
    assert [d["depth"] for d in run["depths"]] == [0.5, 1.0]
    assert run["depths"][-1]["doses"] == [1, 2, 3]
    assert [f["exposure"] for f in run["depths"][-1]["facts"]] == [2, 2, 16, 16]
    assert "rebound" in run["depths"][0]
    g = a["summary"]["gamma"]["xs@1"]["train"]
    assert g["n"] <= 2 and len(g["per_seed"]) == 2
