"""The Zipf fact world: exact exposures, phrasings the corpus never uses, real or generated filler."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from curadebt.lab.cvc_arms import fact_counts
from curadebt.worlds.facts import EVAL_TEMPLATES as CAPITAL_EVAL
from curadebt.worlds.facts import TRAIN_TEMPLATES as CAPITAL_TRAIN
from curadebt.worlds.facts import WorldError
from curadebt.worlds.templates import shared_ngrams
from curadebt.worlds.zipf import (CITIES, HELDOUT_TEMPLATES, PROBE_TEMPLATES, TRAIN_TEMPLATES, ZipfWorldConfig,
                                  exposures, generate_zipf, prompt, statement)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def small(**kw) -> ZipfWorldConfig:
    return ZipfWorldConfig(**{"facts": 120, "top": 64, "heldout_filler": 40, **kw})


def test_exposures_follow_the_zipf_law_and_are_exact():
    w = generate_zipf(small())
    assert sorted(f.rank for f in w.facts) == list(range(1, 121))
    for f in w.facts:
        assert f.exposures == max(1, round(64 / f.rank)) and f.city in CITIES
    # a person is named only in their own documents, each of which states the fact
    assert fact_counts(w.texts(), w) == [f.exposures for f in w.facts]
    for d in w.docs:
        if d["source"] == "fact":
            f = w.facts[d["meta"]["fact"]]
            assert any(statement(t, f.person, f.city) in d["text"] for t in TRAIN_TEMPLATES)
    n_fact = sum(f.exposures for f in w.facts)
    assert sum(d["source"] == "filler" for d in w.docs) == n_fact  # as many filler documents by default
    assert exposures(replace(small(), zipf_s=0)) == [64] * 120
    assert len({f.person for f in w.facts}) == 120


def test_scored_and_probe_phrasings_are_never_in_the_corpus_and_share_no_word_pair():
    w = generate_zipf(small())
    corpus = "\n".join(w.texts())
    for f in w.facts:
        for t in HELDOUT_TEMPLATES + PROBE_TEMPLATES:
            assert prompt(t, f.person) not in corpus
    assert shared_ngrams(HELDOUT_TEMPLATES, TRAIN_TEMPLATES) == {}
    assert shared_ngrams(PROBE_TEMPLATES, TRAIN_TEMPLATES + HELDOUT_TEMPLATES) == {}
    # every phrasing puts the person before the city, so the prompt is about the person
    for t in TRAIN_TEMPLATES + HELDOUT_TEMPLATES + PROBE_TEMPLATES:
        assert t.index("{p}") < t.index("{c}")


def test_the_overlap_check_catches_suffix_variants():
    """The capital world's held-out phrasings are near copies of its training ones: the check says so."""
    found = shared_ngrams(CAPITAL_EVAL, CAPITAL_TRAIN)
    assert any(("the", "capital") in v for v in found.values())
    assert shared_ngrams(["{p} is from {c}."], ["{p} comes from {c}."]) == {}
    assert shared_ngrams(["They say {p} is from {c}."], ["{p} is from {c}."]) == {"They say {p} is from {c}.": {("is", "from")}}
    assert shared_ngrams(["They say {p} is from {c}."], ["Many say {p} is."], n=1) == {"They say {p} is from {c}.": {("say",), ("is",)}}


def test_same_seed_same_bytes_other_seed_other_world(tmp_path):
    a = generate_zipf(small(seed=4)).write(tmp_path / "a").read_bytes()
    b = generate_zipf(small(seed=4)).write(tmp_path / "b").read_bytes()
    c = generate_zipf(small(seed=5)).write(tmp_path / "c").read_bytes()
    assert a == b and a != c


def test_paraphrase_augmentation_states_the_fact_in_distinct_phrasings():
    w = generate_zipf(small(paraphrases=3))
    for d in w.docs:
        if d["source"] == "fact":
            assert len(set(d["meta"]["templates"])) == 3
            f = w.facts[d["meta"]["fact"]]
            assert sum(statement(TRAIN_TEMPLATES[t], f.person, f.city) in d["text"] for t in d["meta"]["templates"]) == 3


def test_bad_settings_are_clear_errors(tmp_path):
    for kw, word in (({"facts": 0}, "facts"), ({"paraphrases": 9}, "paraphrases"),
                     ({"filler_text": str(tmp_path / "none.txt")}, "filler_text")):
        with pytest.raises(WorldError, match=word):
            generate_zipf(small(**kw))


@pytest.mark.skipif(not (SHARED / "mixed" / "corpus.jsonl").exists(), reason="needs ../shared/data (real filler text)")
def test_real_filler_comes_from_the_file_and_the_held_out_filler_is_not_in_the_corpus():
    src = SHARED / "mixed" / "corpus.jsonl"
    w = generate_zipf(small(filler_text=str(src)))
    raw = src.read_text(encoding="utf-8")
    filler = [d["text"] for d in w.docs if d["source"] == "filler"]
    first = [t.split(". ")[0] for t in filler[:50]]
    assert all(s.rstrip(".!?") in raw.replace("\\n", " ") or s in raw for s in first)
    corpus = set(w.texts())
    assert not corpus & set(w.heldout_filler)
    assert all(len(t.split()) <= 16 for t in filler)
