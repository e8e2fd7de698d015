"""The attribution evaluation: the fact world's ground truth, the BM25 and exact-match baselines
against hand computation and brute force, the ranking metrics, and a small end-to-end run."""
from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest

from curadebt.text.tokenize import word_tokenize, word_tokenize_lower
from curadebt.trace.attribution_eval import rank_metrics, t_interval
from curadebt.worlds.attribution import RELATIONS, fact_world


def test_fact_world_ground_truth_is_exact():
    w = fact_world(3, n_people=12)
    assert fact_world(3, n_people=12) == w  # same seed, same world
    assert fact_world(4, n_people=12).documents != w.documents
    assert len(w.facts) == 12 * len(RELATIONS)
    for f in w.facts:
        templates = RELATIONS[f.relation][1]
        stated = {i for i, d in enumerate(w.documents)
                  for t, tpl in enumerate(templates) if tpl.format(s=f.subject, o=f.object) in d}
        assert stated == set(f.sources) and 1 <= len(f.sources) <= 3  # sources = every document stating it
        held_out = templates[f.query_template].format(s=f.subject, o=f.object)
        assert not any(held_out in d for d in w.documents)  # the query is a paraphrase never seen for this fact
        assert f.query == held_out.rstrip(".") and f.prompt + " " + f.object == f.query
        for i in f.sources:
            assert w.doc_kind[i] == "bio"
    # the hard negatives exist: other documents about the same person, and about the same object
    f = w.facts[0]
    assert any(f.subject in d for i, d in enumerate(w.documents) if i not in f.sources)
    with pytest.raises(ValueError, match="n_people"):
        fact_world(0, n_people=0)
    with pytest.raises(ValueError, match="max_sources"):
        fact_world(0, max_sources=4)


def test_bm25_equals_hand_computation():
    pytest.importorskip("rank_bm25")
    from curadebt.trace.baselines import bm25_scores

    docs = ["The cat sat on the mat.", "A dog sat on a log.", "Cats and dogs.", "The dog barked at the cat twice."]
    query = "dog on the mat"
    got = bm25_scores(docs, [query])[0]
    toks = [word_tokenize_lower(d) for d in docs]
    n, avg = len(docs), sum(map(len, toks)) / len(docs)
    df = Counter(t for d in toks for t in set(d))
    idf = {t: math.log((n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
    eps = 0.25 * sum(idf.values()) / len(idf)  # rank_bm25 floors negative idf at 0.25 x the mean idf
    idf = {t: (v if v >= 0 else eps) for t, v in idf.items()}
    k1, b = 1.5, 0.75
    want = [sum(idf.get(q, 0) * d.count(q) * (k1 + 1) / (d.count(q) + k1 * (1 - b + b * len(d) / avg))
                for q in word_tokenize_lower(query)) for d in toks]
    assert np.allclose(got, want)
    assert int(np.argmax(got)) == 0  # "mat" is rare: the cat-on-the-mat document leads
    with pytest.raises(ValueError):
        bm25_scores([], [query])


def test_exact_match_scores_equal_brute_force(tmp_path):
    from curadebt.core.document import Document
    from curadebt.trace.baselines import exact_match_scores
    from curadebt.trace.build import build_index_from_documents
    from curadebt.trace.index import TokenIndex

    w = fact_world(1, n_people=6)
    build_index_from_documents((Document(id=str(i), text=d, ordinal=i) for i, d in enumerate(w.documents)),
                               tmp_path / "idx")
    idx = TokenIndex.open(tmp_path / "idx")
    queries = [f.query for f in w.facts[:8]] + ["Nobody here plays the violin in Tallinn today", "zzz"]
    got = exact_match_scores(idx, queries)
    docs = [word_tokenize(d) for d in w.documents]
    uni = Counter(t for d in docs for t in d)
    total = sum(uni.values())

    def occurs(seq, d):
        return any(d[i:i + len(seq)] == seq for i in range(len(d) - len(seq) + 1))

    for qi, q in enumerate(queries):
        t = word_tokenize(q)
        ends, want = [], np.zeros(len(docs))
        prev_end = 0
        for i in range(len(t)):  # the longest match from every start, then the maximal ones
            k = 0
            while i + k < len(t) and any(occurs(t[i:i + k + 1], d) for d in docs):
                k += 1
            if k and i + k > prev_end:
                span = t[i:i + k]
                weight = -sum(math.log10(uni[x] / total) for x in span)
                for j, d in enumerate(docs):
                    if occurs(span, d):
                        want[j] += weight
            prev_end = max(prev_end, i + k)
        assert np.allclose(got[qi], want), q
    assert got[-1].sum() == 0  # an unknown word matches nothing


def test_rank_metrics_and_intervals():
    scores = np.array([[0.9, 0.1, 0.5, 0.5, 0.0],
                       [0.0, 0.0, 0.0, 0.0, 0.0]])
    tiebreak = np.array([[0, 0, 0.2, 0.1, 0], [0.5, 0.4, 0.3, 0.2, 0.1]])
    m = rank_metrics(scores, [[3, 1], [0]], k=2, tiebreak=tiebreak)
    # query 0 order: 0, 3 (tie with 2, smaller tiebreak), 2, 1, 4 -> doc 3 at rank 2, doc 1 at rank 4
    assert m["recall"][0] == 0.5 and m["rr"][0] == 0.5
    # query 1: all tied, order by tiebreak 4, 3, 2, 1, 0 -> doc 0 last
    assert m["recall"][1] == 0.0 and m["rr"][1] == 0.2
    mean, lo, hi = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and math.isclose(hi - mean, 4.302652729911275 * 1.0 / math.sqrt(3))
    assert t_interval([0.4]) == (0.4, 0.4, 0.4)


def test_small_evaluation_end_to_end():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("rank_bm25")
    from curadebt.trace.attribution_eval import METHODS, EvalConfig, EvalResult, evaluate_seed

    cfg = EvalConfig(seeds=(0,), n_people=5, epochs=2, checkpoints=2, n_embd=16, n_layer=1, n_head=2,
                     proj_dim=32, sketch_dim=64)
    r = evaluate_seed(0, cfg)
    assert set(r.metrics) == set(METHODS) and r.world["facts"] == 20
    for m in r.metrics.values():
        assert 0 <= m["recall@10"] <= 1 and 0 < m["mrr"] <= 1
    # the queries name the subject and the object, which only a few documents share: BM25 beats chance
    assert r.metrics["bm25"]["mrr"] > r.metrics["random"]["mrr"]
    assert evaluate_seed(0, cfg).metrics == r.metrics  # same seed, same numbers
    res = EvalResult(cfg, [r])
    assert res.summary()["bm25"]["mrr"][0] == r.metrics["bm25"]["mrr"]
    assert res.to_json()["paired_vs_bm25"]["tracin"]["mrr"][0] == pytest.approx(
        r.metrics["tracin"]["mrr"] - r.metrics["bm25"]["mrr"])
    with pytest.raises(ValueError, match="checkpoints"):
        EvalConfig(epochs=2, checkpoints=3)


def test_top_k_confusions_classify_the_wrong_documents():
    from curadebt.trace.attribution_eval import top_k_confusions

    w = fact_world(2, n_people=4)
    f = w.facts[0]
    n = len(w.documents)
    subject_docs = [i for i, d in enumerate(w.documents) if f.subject in d and i not in f.sources]
    scores = np.zeros((len(w.facts), n))
    scores[0, subject_docs] = 1.0  # query 0 ranks the person's other biographies first
    c = top_k_confusions(scores[:1], type(w)(w.seed, w.documents, w.facts[:1], w.doc_kind), len(subject_docs),
                         np.zeros((1, n)))
    assert subject_docs and c == {"same_subject": 1.0, "same_object_only": 0.0, "neither": 0.0}
