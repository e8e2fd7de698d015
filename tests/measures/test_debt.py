"""The debt score: hand-made report sections -> expected scores, findings, missing sections, thresholds."""
from __future__ import annotations

import copy
import json
import math
import random

import pytest

from curadebt.core.measure import to_jsonable
from curadebt.measures.debt import DebtThresholds, compute_debt, dimensions, ratio_score, severity_of, share_score

DIMENSIONS = tuple(dimensions())


def sections() -> dict:
    """A small report with one clear debt in every dimension."""
    return {
        "corpus": {"documents_audited": 1000, "tokens": 100_000},
        "duplicates": {
            "exact_duplicate_documents": 60, "exact_clusters": 20, "near_duplicate_documents": 20,
            "near_clusters": 10, "duplicate_share": 0.08,
            "largest_clusters": [{"kind": "exact", "size": 12, "representative": "doc-7", "example_ids": ["doc-9"]}],
        },
        "salience": {
            "entities": [
                {"entity": "Tom Cruise", "mentions": 870, "documents": 400, "mention_share": 0.2, "z": 9.0,
                 "outlier": True},
                {"entity": "Tom Hanks", "mentions": 10, "documents": 8, "mention_share": 0.002, "z": 1.0,
                 "outlier": False},
            ],
            "outliers": ["Tom Cruise"],
            "min_peer_documents": 5,
            "competition": [
                {"token": "Tom", "continuation": "Cruise", "entity": "Tom Cruise", "documents": 400, "mentions": 870,
                 "token_count": 1000, "share": 0.87, "peers": [["Hanks", 8], ["Sawyer", 8], ["Jones", 6], ["Ford", 9],
                                                               ["Waits", 1]],
                 "established_peers": 4, "median_peer_documents": 8.0, "ratio": 50.0, "excess_documents": 392.0,
                 "status": "competition"},
                {"token": "Du", "continuation": "Fu", "entity": "Du Fu", "documents": 40, "mentions": 65,
                 "token_count": 75, "share": 0.87, "peers": [], "established_peers": 0, "median_peer_documents": None,
                 "ratio": None, "excess_documents": 0.0, "status": "collocation"},
            ],
        },
        "mixture": {
            "field": "source",
            "sources": [
                {"source": "wiki", "documents": 500, "tokens": 61_000, "document_share": 0.5, "token_share": 0.61},
                {"source": "bible", "documents": 300, "tokens": 14_000, "document_share": 0.3, "token_share": 0.14},
                {"source": "news", "documents": 200, "tokens": 25_000, "document_share": 0.2, "token_share": 0.25},
            ],
            "imbalance_max_min": 61 / 14, "normalized_entropy": 0.86, "top_source": "wiki", "top_share": 0.61,
        },
        "order": {
            "windows": [
                {"fraction": 0.01, "tokens": 1000, "documents": 5, "source_shares": {"bible": 1.0}, "source_tvd": 0.86,
                 "entity_mentions": 10, "distinct_entities": 5, "entity_diversity": 0.5},
                {"fraction": 0.1, "tokens": 10_000, "documents": 60,
                 "source_shares": {"bible": 0.95, "wiki": 0.05}, "source_tvd": 0.81,
                 "entity_mentions": 100, "distinct_entities": 30, "entity_diversity": 0.3},
            ],
            "sources": [
                {"name": "wiki", "overall_share": 0.61, "early_share": {"0.01": 0.0, "0.1": 0.05},
                 "concentration": {"0.01": 0.0, "0.1": 0.05 / 0.61}},
                {"name": "bible", "overall_share": 0.14, "early_share": {"0.01": 1.0, "0.1": 0.95},
                 "concentration": {"0.01": 1 / 0.14, "0.1": 0.95 / 0.14}},
            ],
            "entities": [],
            "max_concentration": 0.95 / 0.14, "max_concentration_item": "bible", "max_source_tvd": 0.86,
        },
        "probes": {
            "count": 2,
            "probes": [
                {"id": "capital-of-France", "subject": "France", "basis": "sentences",
                 "answers": [{"answer": "Paris", "documents": 200, "sentences": 209, "pattern_matches": 50,
                              "share": 0.95},
                             {"answer": "Lyon", "documents": 10, "sentences": 10, "pattern_matches": 2,
                              "share": 0.05}],
                 "top_answer": "Paris", "runner_up": "Lyon", "dominance_ratio": 210 / 11},
                {"id": "bolivia", "subject": "Bolivia", "basis": "sentences",
                 "answers": [{"answer": "Sucre", "documents": 20, "sentences": 20, "pattern_matches": 0, "share": 0.5},
                             {"answer": "La Paz", "documents": 20, "sentences": 20, "pattern_matches": 0,
                              "share": 0.5}],
                 "top_answer": "La Paz", "runner_up": "Sucre", "dominance_ratio": 1.0},
            ],
        },
        "frequency": {"ngrams": {
            "1": {"total": 100_000, "top_coverage": {"10": 0.2, "100": 0.5, "1000": 0.8}, "top": [["the", 6000]]},
            "3": {"total": 99_000, "top_coverage": {"10": 0.01, "100": 0.03, "1000": 0.09},
                  "top": [["one of the", 300], ["the end of", 200]]},
        }},
    }


def by_dim(result, dim):
    return [f for f in result.findings if f["dimension"] == dim]


# --- scores ------------------------------------------------------------------------------------

def test_scores_of_a_full_report():
    r = compute_debt(sections())
    d = r.dimensions
    assert d["duplicates"]["score"] == pytest.approx(0.8) and d["duplicates"]["is_debt"]
    assert d["salience"]["score"] == pytest.approx(ratio_score(50, 10)) and d["salience"]["value"] == 50.0
    assert d["mixture"]["score"] == pytest.approx(0.61) and d["mixture"]["metric"] == "top_source_share"
    assert d["order"]["score"] == 1.0 and d["order"]["is_debt"]
    assert d["probes"]["score"] == 1.0 and d["probes"]["value"] == pytest.approx(210 / 11)
    assert d["frequency"]["score"] == pytest.approx(0.3) and d["frequency"]["is_debt"] is False
    assert r.measured == list(DIMENSIONS)
    assert r.overall == pytest.approx((0.8 + ratio_score(50, 10) + 0.61 + 1.0 + 1.0 + 0.3) / 6)
    assert set(r.debts) == {"duplicates", "salience", "mixture", "order", "probes"}
    for dim in d.values():
        assert set(dim) >= {"score", "value", "threshold", "is_debt", "summary"}
        assert 0.0 <= dim["score"] <= 1.0


def test_findings_name_the_culprits():
    r = compute_debt(sections())
    msgs = [f["message"] for f in r.findings]
    assert any("'Tom' is continued by 'Cruise' ('Tom Cruise') in 400 documents, 50.0x the median (8) of its 4 "
               "established competitors ('Hanks' 8, 'Sawyer' 8, 'Jones' 6, 'Ford' 9); about 392 documents over parity"
               in m for m in msgs)
    assert any("capital of France: 'Paris' outnumbers 'Lyon' 209:10" in m for m in msgs)
    assert any("source 'wiki' holds 61% of tokens" in m for m in msgs)
    assert any("first 1% of tokens is 100% 'bible' vs 14% overall" in m for m in msgs)
    assert any("8.0% of documents are duplicates" in m and "'doc-7'" in m for m in msgs)
    subjects = {(f["dimension"], f["subject"]) for f in r.findings if f["severity"] != "info"}
    assert {("salience", "Tom"), ("probes", "France"), ("mixture", "wiki"), ("order", "bible"),
            ("duplicates", "doc-7"), ("frequency", "3-grams")} == subjects
    # a collocation ("Du" is almost always "Du Fu") is never a finding
    assert not any(f["subject"] == "Du" for f in r.findings)
    # the balanced control probe is no finding at all
    assert not any("Bolivia" in f["message"] for f in r.findings)
    # the over-represented entity is reported as context
    info = [f for f in r.findings if f["severity"] == "info"]
    assert [f["subject"] for f in info] == ["Tom Cruise"] and info[0]["score"] is None


def test_findings_sorted_and_deterministic():
    r = compute_debt(sections())
    rank = {"high": 0, "medium": 1, "low": 2, "info": 3}
    keys = [(rank[f["severity"]], -(f["score"] if f["score"] is not None else -1)) for f in r.findings]
    assert keys == sorted(keys)
    assert [f["severity"] for f in r.findings] == ["high"] * 4 + ["medium", "low", "info"]
    # same input in another list order -> identical findings
    shuffled = sections()
    rng = random.Random(1)
    for key, sub in (("salience", "competition"), ("mixture", "sources"), ("probes", "probes"), ("order", "sources")):
        rng.shuffle(shuffled[key][sub])
    assert compute_debt(shuffled).findings == r.findings
    assert json.dumps(to_jsonable(compute_debt(sections()))) == json.dumps(to_jsonable(r))


# --- missing sections --------------------------------------------------------------------------

def test_nothing_measured():
    for empty in ({}, None, {name: None for name in DIMENSIONS}):
        r = compute_debt(empty)
        assert r.overall is None and r.findings == [] and r.measured == []
        assert all(d["score"] is None and d["is_debt"] is None and not d["measured"] for d in r.dimensions.values())
        assert all(d["summary"].startswith("not measured") for d in r.dimensions.values())


@pytest.mark.parametrize("missing", DIMENSIONS)
def test_a_missing_section_is_not_measured(missing):
    s = sections()
    del s[missing]
    r = compute_debt(s)
    assert r.dimensions[missing]["score"] is None
    assert missing not in r.measured and len(r.measured) == 5
    assert r.overall == pytest.approx(sum(r.dimensions[n]["score"] for n in r.measured) / 5)
    assert not by_dim(r, missing)


def test_one_source_is_not_a_mixture():
    s = sections()
    s["mixture"] = {"field": None, "sources": [{"source": "(none)", "documents": 10, "tokens": 100,
                                                 "token_share": 1.0}], "top_source": "(none)", "top_share": 1.0}
    s["order"]["windows"] = [{"fraction": 0.1, "source_shares": {"(none)": 1.0}, "source_tvd": 0.0}]
    s["order"]["sources"] = [{"name": "(none)", "overall_share": 1.0, "early_share": {"0.1": 1.0}}]
    s["order"]["entities"] = []
    r = compute_debt(s)
    assert r.dimensions["mixture"]["score"] is None
    assert "source-field" in r.dimensions["mixture"]["summary"]
    assert r.dimensions["order"]["score"] is None and not by_dim(r, "order")
    # with one source, early entities are still judged
    s["order"]["windows"][0]["entity_mentions"] = 1000
    s["order"]["entities"] = [{"name": "Holy Ghost", "overall_share": 0.02, "early_share": {"0.1": 0.02}}]
    d = compute_debt(s).dimensions["order"]
    assert d["measured"] and d["score"] == 0.0 and d["metric"] == "max_concentration"
    s["order"]["entities"][0]["early_share"]["0.1"] = 0.08
    d = compute_debt(s).dimensions["order"]
    assert d["is_debt"] and d["score"] == pytest.approx(1.0)


def test_small_corpus_frequency_not_measured():
    s = sections()
    s["frequency"]["ngrams"]["3"]["total"] = 500
    r = compute_debt(s)
    assert r.dimensions["frequency"]["score"] is None and "500" in r.dimensions["frequency"]["summary"]


def test_frequency_falls_back_to_lower_n():
    s = sections()
    del s["frequency"]["ngrams"]["3"]
    r = compute_debt(s)
    assert r.dimensions["frequency"]["metric"] == "top100_coverage_1gram"
    assert r.dimensions["frequency"]["threshold"] == 0.7
    assert r.dimensions["frequency"]["score"] == pytest.approx(0.5 / 1.4)


def test_duplicate_share_from_counts_when_absent():
    s = sections()
    del s["duplicates"]["duplicate_share"]
    assert compute_debt(s).dimensions["duplicates"]["value"] == pytest.approx(80 / 1000)


# --- thresholds and boundaries -----------------------------------------------------------------

def test_score_maps():
    assert share_score(0.05, 0.05) == 0.5 and share_score(0.1, 0.05) == 1.0 and share_score(0.5, 0.05) == 1.0
    assert share_score(0.0, 0.05) == 0.0
    assert ratio_score(4.0, 4.0) == 0.5 and ratio_score(16.0, 4.0) == pytest.approx(1.0)
    assert ratio_score(1.0, 4.0) == 0.0 and ratio_score(0.5, 4.0) == 0.0 and ratio_score(math.inf, 4.0) == 1.0
    assert ratio_score(2.0, 4.0) == pytest.approx(0.25)
    assert [severity_of(x) for x in (1.0, 0.75, 0.5, 0.4999, 0.25, 0.1, None)] == \
        ["high", "high", "medium", "low", "low", "info", "info"]


def _only(**secs) -> dict:
    return {"corpus": {"documents_audited": 1000}, **secs}


@pytest.mark.parametrize("share,debt", [(0.05, True), (0.0499, False), (0.0501, True)])
def test_duplicates_boundary(share, debt):
    r = compute_debt(_only(duplicates={"duplicate_share": share, "exact_duplicate_documents": 1}))
    d = r.dimensions["duplicates"]
    assert d["is_debt"] is debt and (d["score"] >= 0.5) is debt
    if share == 0.05:
        assert d["score"] == 0.5 and r.findings[0]["severity"] == "medium"


@pytest.mark.parametrize("ratio,debt", [(4.0, True), (3.99, False)])
def test_probes_boundary(ratio, debt):
    probe = {"id": "p", "subject": "S", "top_answer": "a", "runner_up": "b", "dominance_ratio": ratio,
             "answers": [{"answer": "a", "sentences": 3}, {"answer": "b", "sentences": 0}]}
    r = compute_debt(_only(probes={"count": 1, "probes": [probe]}))
    d = r.dimensions["probes"]
    assert d["is_debt"] is debt
    assert (d["score"] == 0.5) if debt else (d["score"] < 0.5)


def test_probe_without_finite_ratio_is_recomputed():
    probe = {"id": "p", "subject": "S", "top_answer": "a", "runner_up": None, "dominance_ratio": None,
             "answers": [{"answer": "a", "documents": 15, "sentences": 15}]}
    r = compute_debt(_only(probes={"probes": [probe]}))
    assert r.dimensions["probes"]["value"] == 16.0 and r.dimensions["probes"]["score"] == pytest.approx(1.0)
    assert "'a' has no rival in the data (15 sentences" in r.findings[0]["message"]


def test_mixture_entropy_boundary():
    sources = [{"source": "a", "token_share": 0.45}, {"source": "b", "token_share": 0.45},
               {"source": "c", "token_share": 0.10}]
    r = compute_debt(_only(mixture={"sources": sources, "top_source": "a", "top_share": 0.45,
                                    "normalized_entropy": 0.7}))
    d = r.dimensions["mixture"]
    assert d["is_debt"] and d["metric"] == "source_normalized_entropy" and d["score"] == pytest.approx(0.5)
    r = compute_debt(_only(mixture={"sources": sources, "top_source": "a", "top_share": 0.45,
                                    "normalized_entropy": 0.71}))
    assert not r.dimensions["mixture"]["is_debt"] and r.dimensions["mixture"]["score"] < 0.5


def test_order_boundary_and_concentration():
    base = {"windows": [{"fraction": 0.1, "source_shares": {"a": 0.7, "b": 0.3}, "source_tvd": 0.2}],
            "sources": [{"name": "a", "overall_share": 0.5, "early_share": {"0.1": 0.7}},
                        {"name": "b", "overall_share": 0.5, "early_share": {"0.1": 0.3}}]}
    d = compute_debt(_only(order=base)).dimensions["order"]
    assert d["is_debt"] and d["score"] == 0.5 and d["metric"] == "max_source_tvd"
    # an entity concentrated 2x in the first 10% (with enough mentions) is a debt too
    o = copy.deepcopy(base)
    o["windows"][0]["source_tvd"] = 0.05
    o["windows"][0]["entity_mentions"] = 1000
    o["entities"] = [{"name": "Holy Ghost", "overall_share": 0.02, "early_share": {"0.1": 0.04}}]
    r = compute_debt(_only(order=o))
    assert r.dimensions["order"]["is_debt"] and r.dimensions["order"]["metric"] == "max_concentration"
    assert r.dimensions["order"]["score"] == pytest.approx(0.5)
    assert any("entity 'Holy Ghost' is 2.0x concentrated early" in f["message"] for f in r.findings)
    # ... but not when the window holds only a handful of its mentions (sampling noise)
    o["windows"][0]["entity_mentions"] = 100
    assert not compute_debt(_only(order=o)).dimensions["order"]["is_debt"]


def test_competition_gates():
    row = {"token": "Tom", "continuation": "Cruise", "entity": "Tom Cruise", "documents": 60, "established_peers": 4,
           "median_peer_documents": 6.0, "ratio": 10.0, "excess_documents": 54.0, "status": "competition",
           "peers": [["Hanks", 6]]}
    sal = {"competition": [row]}
    d = compute_debt(_only(salience=sal)).dimensions["salience"]
    assert d["is_debt"] and d["value"] == 10.0 and d["score"] == 0.5  # exactly at the threshold: a debt
    below = copy.deepcopy(sal)
    below["competition"][0]["ratio"] = 9.9
    assert not compute_debt(_only(salience=below)).dimensions["salience"]["is_debt"]
    few = copy.deepcopy(sal)
    few["competition"][0]["documents"] = 19  # the dominant continuation in fewer than 20 documents
    assert compute_debt(_only(salience=few)).dimensions["salience"]["value"] == 1.0
    colloc = copy.deepcopy(sal)
    colloc["competition"][0].update(status="collocation", ratio=None)
    d = compute_debt(_only(salience=colloc)).dimensions["salience"]
    assert d["value"] == 1.0 and d["score"] == 0.0 and "1 collocation(s), not a debt" in d["summary"]
    off = DebtThresholds(competition_ratio=20.0)
    assert not compute_debt(_only(salience=sal), off).dimensions["salience"]["is_debt"]
    # a report of an older curadebt (spillover rows only) is not measured rather than misread
    old = compute_debt(_only(salience={"spillover": [{"token": "Tom", "share": 0.9}]})).dimensions["salience"]
    assert old["score"] is None and "older curadebt" in old["summary"]


def test_custom_thresholds():
    t = DebtThresholds(duplicate_share=0.2, dominance_ratio=100.0)
    r = compute_debt(sections(), t)
    assert r.dimensions["duplicates"]["score"] == pytest.approx(0.2) and not r.dimensions["duplicates"]["is_debt"]
    assert not r.dimensions["probes"]["is_debt"]
    assert r.thresholds["duplicate_share"] == 0.2


def test_typed_sections_are_accepted():
    from curadebt.measures.mixture import MixtureMeasure
    from curadebt.corpus.batch import Batch
    from curadebt.core.document import Document

    m = MixtureMeasure("source")
    docs = [Document(str(i), "word " * (30 if i < 8 else 5), i, source="big" if i < 8 else "small") for i in range(10)]
    res = m.finalize(m.map(Batch(docs)))
    r = compute_debt({"mixture": res})
    assert r.dimensions["mixture"]["is_debt"] and r.findings[0]["subject"] == "big"
    assert "source 'big' holds 96% of tokens" in r.findings[0]["message"]
