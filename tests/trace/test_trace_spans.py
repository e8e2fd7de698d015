"""Maximal spans (OLMoTrace-style): a hand-made case, the filters, and a check of the matching
statistics against a direct search on real data (sharded = unsharded)."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from curadebt.corpus import Document
from curadebt.trace.build import build_index_from_documents
from curadebt.trace.index import TokenIndex

CORPUS = ["the cat sat on the mat", "a dog sat on the log today", "the quick brown fox"]


@pytest.fixture
def small(tmp_path):
    docs = [Document(id=f"d{i}", text=t, ordinal=i, source="hand") for i, t in enumerate(CORPUS)]
    build_index_from_documents(docs, tmp_path / "idx")
    return TokenIndex.open(tmp_path / "idx")


def test_hand_made_maximal_spans(small):
    text = "my cat sat on the log today, ok: brown fox!"
    res = small.maximal_spans(text, min_len=1, max_unigram_prob=None)
    got = [(s.text, s.start, s.end, s.count, s.n_documents, [d.id for d in s.documents]) for s in res.spans]
    assert got == [
        ("cat sat on the", 1, 5, 1, 1, ["d0"]),
        ("sat on the log today", 2, 7, 1, 1, ["d1"]),
        ("brown fox", 8, 10, 1, 1, ["d2"]),
    ]
    for s in res.spans:
        assert text[s.char_start:s.char_end] == s.text
    assert res.filtered == [] and res.n_tokens == 10
    n = 6 + 7 + 4
    fox = res.spans[2]
    assert fox.log10_unigram_prob == pytest.approx(math.log10(1 / n) * 2)
    the_ = res.spans[0]  # cat sat on the: c = 1, 2, 2, 4
    assert the_.log10_unigram_prob == pytest.approx(math.log10(1 * 2 * 2 * 4 / n ** 4))


def test_spans_do_not_cross_documents(small):
    res = small.maximal_spans("the mat a dog", min_len=1, max_unigram_prob=None)
    # "the mat" ends document 0 and "a dog" starts document 1: adjacent in the token stream, but
    # separated by the separator, so they are two spans, never one
    assert [(s.text, s.count) for s in res.spans] == [("the mat", 1), ("a dog", 1)]
    assert small.count("mat a") == 0


def test_unknown_words_break_spans(small):
    res = small.maximal_spans("sat on xyzzy the log", min_len=1, max_unigram_prob=None)
    assert [s.text for s in res.spans] == ["sat on", "the log"]
    assert [s.count for s in res.spans] == [2, 1]


def test_filters_keep_what_they_drop(small):
    text = "my cat sat on the log today, ok: brown fox!"
    res = small.maximal_spans(text, min_len=3, max_unigram_prob=None)
    assert [s.text for s in res.spans] == ["cat sat on the", "sat on the log today"]
    assert [(s.text, s.reason) for s in res.filtered] == [("brown fox", "shorter than min_len=3")]
    # span unigram probability threshold: brown fox = (1/17)^2 = 10^-2.46
    res = small.maximal_spans(text, min_len=1, max_unigram_prob=10 ** -2.5)
    assert [s.text for s in res.spans] == ["cat sat on the", "sat on the log today"]
    assert res.filtered[0].text == "brown fox" and "span unigram probability" in res.filtered[0].reason
    res = small.maximal_spans(text, min_len=1, max_unigram_prob=None, top_fraction=0.1)  # ceil(0.1 x 10) = 1
    assert [s.text for s in res.spans] == ["sat on the log today"]  # the least likely one
    assert len(res.filtered) == 2 and all("top_fraction" in s.reason for s in res.filtered)
    res = small.maximal_spans("sat on the", min_len=1, max_unigram_prob=None, max_count=1)
    assert res.spans == [] and "max_count" in res.filtered[0].reason
    assert res.filtered[0].documents == []  # filtered spans do not fetch documents


def test_in_prompt_flag(small):
    res = small.maximal_spans("the quick brown fox sat on the mat", min_len=2, max_unigram_prob=None,
                              prompt="Describe the quick brown fox")
    flags = {s.text: s.in_prompt for s in res.spans}
    assert flags == {"the quick brown fox": True, "sat on the mat": False}


def test_ids_input(small):
    ids = small.encode("cat sat on the log")
    res = small.maximal_spans(ids, min_len=1, max_unigram_prob=None)
    assert [(s.start, s.end) for s in res.spans] == [(0, 4), (1, 5)]
    assert res.spans[0].text == "cat sat on the"


def _shakespeare(shared_data):
    text = shared_data("tinyshakespeare", "input.txt").read_text(encoding="utf-8")
    speeches = [s for s in text.split("\n\n") if s.strip()]
    return [Document(id=f"speech-{i}", text=s, ordinal=i) for i, s in enumerate(speeches)]


def test_longest_matches_real_data_sharded(shared_data, tmp_path):
    docs = _shakespeare(shared_data)[:3000]
    build_index_from_documents(docs, tmp_path / "one")
    build_index_from_documents(docs, tmp_path / "many", shard_tokens=20_000)
    one, many = TokenIndex.open(tmp_path / "one"), TokenIndex.open(tmp_path / "many")
    assert len(many.shards) > 3
    rng = random.Random(9)
    # a "model output": verbatim pieces of several speeches glued with invented words
    pieces = []
    for _ in range(6):
        words = rng.choice(docs).text.split()
        a = rng.randrange(max(1, len(words) - 12))
        pieces.append(" ".join(words[a:a + rng.randint(3, 12)]))
        pieces.append(rng.choice(["zork", "blorp quux", "the", "and so"]))
    text = " ".join(pieces)
    ids = one.encode(text)
    lengths, counts = one.longest_matches(ids)
    # direct definition: longest k with count(ids[i:i+k]) > 0
    for i in range(len(ids)):
        k = 0
        while i + k < len(ids) and one.count(ids[i:i + k + 1]) > 0:
            k += 1
        assert lengths[i] == k, i
        assert counts[i] == (one.count(ids[i:i + k]) if k else 0)
    l2, c2 = many.longest_matches(ids)
    assert np.array_equal(lengths, l2) and np.array_equal(counts, c2)
    r1 = one.maximal_spans(text, min_len=1, max_unigram_prob=None)
    r2 = many.maximal_spans(text, min_len=1, max_unigram_prob=None)
    assert [s.to_json() for s in r1.spans] == [s.to_json() for s in r2.spans]
    # maximality: no kept span is inside another, and every span extends no further
    ends = [(s.start, s.end) for s in r1.spans]
    for a, b in ends:
        assert not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2 in ends)
        if b < len(ids):
            assert one.count(ids[a:b + 1]) == 0
        if a > 0:
            assert one.count(ids[a - 1:b]) == 0
