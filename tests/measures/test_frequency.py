from collections import Counter

import numpy as np
import pytest

from curadebt.measures.frequency import FrequencyMeasure, gini, normalized_entropy, zipf_slope
from curadebt.measures.sketch import BoundedCounter
from curadebt.corpus import Batch, Document, ReaderConfig, iter_batches
from curadebt.text.tokenize import word_tokenize


def _batches(texts, size):
    docs = [Document(str(i), t, i) for i, t in enumerate(texts)]
    return [Batch(docs[i:i + size]) for i in range(0, len(docs), size)]


def test_counts_equal_plain_counter_and_merge_is_split_independent():
    texts = ["the cat sat on the mat", "the dog", "a", "the cat sat again and again"] * 7
    m = FrequencyMeasure(max_n=3, top_k=1000)
    one = m.finalize(m.accumulate(m.empty(), _batches(texts, 1000)[0]))
    states = [m.map(b) for b in _batches(texts, 3)]
    merged = states[0]
    for s in reversed(states[1:]):
        merged = m.merge(s, merged)
    assert m.finalize(merged) == one
    uni = Counter(t for x in texts for t in word_tokenize(x))
    assert dict(one.ngrams["1"].top) == dict(uni)
    tri = Counter(" ".join(tt[i:i + 3]) for x in texts for tt in [word_tokenize(x)] for i in range(len(tt) - 2))
    assert dict(one.ngrams["3"].top) == dict(tri)
    assert one.ngrams["1"].exact and one.ngrams["1"].error_bound == 0


def test_stats_on_known_distributions():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 100])) == pytest.approx(0.75)
    assert normalized_entropy(np.array([3, 3, 3])) == pytest.approx(1.0)
    zipf = np.array([int(1e6 / r) for r in range(1, 5001)])
    assert zipf_slope(zipf) == pytest.approx(-1.0, abs=0.01)


def test_sketch_keeps_heavy_hitters_within_stated_error():
    rng = np.random.default_rng(0)
    items = rng.zipf(1.3, size=200_000).astype(str).tolist()
    truth = Counter(items)
    bc = BoundedCounter(budget=500)
    for i in range(0, len(items), 10_000):
        bc.update(items[i:i + 10_000])
    assert not bc.exact and bc.total == len(items)
    for key, true in truth.items():
        got = bc.counts.get(key, 0)
        assert got <= true <= got + bc.error
        if true > bc.error:
            assert key in bc.counts


def test_top_tokens_equal_counter_on_real_corpus(shared_data):
    path = shared_data("mixed", "corpus.jsonl")
    m = FrequencyMeasure(max_n=1, top_k=200)
    state = m.empty()
    truth = Counter()
    for b in iter_batches(path, ReaderConfig(batch_size=2000)):
        state = m.accumulate(state, b)
        for d in b.docs:
            truth.update(word_tokenize(d.text))
    res = m.finalize(state).ngrams["1"]
    assert res.exact and res.total == sum(truth.values()) and res.distinct == len(truth)
    expected = sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))[:200]
    assert [tuple(x) for x in res.top] == expected
    assert -1.3 < res.zipf_slope < -0.7


def test_another_tokenizer_is_counted_by_hash_with_the_string_counts():
    """Any tokenizer's tokens (here pieces of 3 characters, some with spaces and non-ASCII) are counted
    by hash over their space-joined spans, equal to counting the joined n-gram strings."""
    from collections import Counter

    def pieces(text: str) -> list[str]:
        return [text[i:i + 3] for i in range(0, len(text), 3)]

    texts = ["the cat sat on the mat", "", "café au lait, café noir", "the cat sat on the mat again"] * 7
    docs = [Document(str(i), t or "x", i) for i, t in enumerate(texts)]
    m = FrequencyMeasure(max_n=3, top_k=1000)
    state = m.empty()
    for k in range(0, len(docs), 5):
        state = m.accumulate(state, Batch(docs[k:k + 5], pieces))
    res = m.finalize(state)
    for n in (1, 2, 3):
        want = Counter()
        for d in docs:
            toks = pieces(d.text)
            want.update(" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1))
        got = res.ngrams[str(n)]
        assert got.total == sum(want.values()) and dict(got.top) == dict(want)
