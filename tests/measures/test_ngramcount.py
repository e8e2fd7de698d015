"""Hashed, vectorised n-gram counting must give exactly what counting the joined strings with
BoundedCounter gives: exact regime, Misra-Gries regime (same prune points, cuts and error bounds),
merges in any split, and a switch to another tokenizer mid-stream."""
from __future__ import annotations

import random

import numpy as np

from curadebt.core.measure import top_items
from curadebt.measures.frequency import FrequencyMeasure
from curadebt.measures.ngramcount import HashedNgramCounter
from curadebt.measures.sketch import BoundedCounter
from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.text.tokenize import word_tokenize


def _texts(seed: int, n_docs: int = 600) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)] + ["don't", "well-known", "été", "x’y", "_"]
    weights = [1 / (r + 1) for r in range(len(vocab))]
    out = []
    for _ in range(n_docs):
        words = rng.choices(vocab, weights, k=rng.randrange(0, 40))
        out.append(" ".join(words) + rng.choice(["", ".", " -- ", "\n"]))
    return out


def _batches(texts, size, tokenizer=None):
    docs = [Document(str(i), t, i) for i, t in enumerate(texts)]
    return [Batch(docs[i:i + size], tokenizer) for i in range(0, len(docs), size)]


def _reference(texts, size, max_n, budget):
    """BoundedCounter over the space-joined n-gram strings, pruned after every batch."""
    counters = {n: BoundedCounter(budget) for n in range(1, max_n + 1)}
    for s in range(0, len(texts), size):
        toks = [word_tokenize(t) for t in texts[s:s + size]]
        for n, c in counters.items():
            grams = [" ".join(t[i:i + n]) for t in toks for i in range(len(t) - n + 1)]
            c.update(grams)
    return counters


def test_equal_to_bounded_counter_exact_and_pruned():
    texts = _texts(0)
    for budget in (10_000, 300, 40):
        m = FrequencyMeasure(max_n=3, budget=budget, top_k=25)
        state = m.empty()
        for b in _batches(texts, 37):
            state = m.accumulate(state, b)
        ref = _reference(texts, 37, 3, budget)
        for n in (1, 2, 3):
            got, want = state[n], ref[n]
            assert isinstance(got, HashedNgramCounter)
            assert (got.total, got.error, len(got)) == (want.total, want.error, len(want.counts))
            assert got.top(25) == top_items(want.counts, 25)
            expect = np.array(sorted(want.counts.values(), reverse=True))
            assert np.array_equal(got.sorted_counts(), expect)
        assert budget == 10_000 or not state[3].exact  # the small budgets do prune


def test_merge_in_any_split_equals_one_pass():
    texts = _texts(1)
    m = FrequencyMeasure(max_n=2, budget=5_000, top_k=30)
    one = m.finalize(m.accumulate(m.empty(), _batches(texts, 10_000)[0]))
    parts = [m.map(b) for b in _batches(texts, 53)]
    merged = parts[0]
    for p in reversed(parts[1:]):
        merged = m.merge(p, merged)
    assert m.finalize(merged) == one


def test_switching_to_another_tokenizer_keeps_counts():
    texts = _texts(2, 200)
    lower = lambda t: word_tokenize(t.lower())  # noqa: E731 - a tokenizer that is not the default
    m = FrequencyMeasure(max_n=2, top_k=1000)
    state = m.empty()
    batches = _batches(texts[:100], 25) + _batches(texts[100:], 25, tokenizer=lower)
    for b in batches:
        state = m.accumulate(state, b)
    res = m.finalize(state)
    truth = BoundedCounter(10**9)
    for t in texts[:100]:
        truth.update(word_tokenize(t))
    for t in texts[100:]:
        truth.update(lower(t))
    assert dict(res.ngrams["1"].top) == dict(truth.counts)


def test_radix_argsort_equals_stable_argsort():
    from curadebt.measures.radix import argsort_u64

    rng = np.random.default_rng(1)
    for _ in range(100):
        n = int(rng.integers(0, 3000))
        base = rng.integers(0, 2**64, size=max(1, n // 3), dtype=np.uint64)
        q = len(base) // 4  # different keys whose high 32 bits tie
        base[:q] = (base[:q] & np.uint64(0xFFFFFFFF)) | np.uint64(0xABCD << 32)
        keys = base[rng.integers(0, len(base), n)] if n else np.empty(0, dtype=np.uint64)
        assert np.array_equal(argsort_u64(keys), np.argsort(keys, kind="stable"))


def _wide_texts(n_docs: int, seed: int) -> list[str]:
    """Documents over a large vocabulary: tens of thousands of distinct n-grams in one batch, more
    than the count table starts with, so it must grow in the middle of a batch."""
    rng = random.Random(seed)
    return [" ".join(f"t{rng.randrange(30_000)}" for _ in range(rng.randrange(50, 150))) for _ in range(n_docs)]


def test_table_grows_inside_one_batch():
    texts = _wide_texts(800, 3)
    m = FrequencyMeasure(max_n=3, budget=200_000, top_k=40)
    state = m.accumulate(m.empty(), _batches(texts, 10_000)[0])
    ref = _reference(texts, 10_000, 3, 200_000)
    for n in (1, 2, 3):
        got, want = state[n], ref[n]
        assert len(got) == len(want.counts)
        assert n == 1 or len(got) > (1 << 15)
        assert (got.total, got.error) == (want.total, want.error)
        assert got.top(40) == top_items(want.counts, 40)
        assert np.array_equal(got.sorted_counts(), np.array(sorted(want.counts.values(), reverse=True)))


def test_counting_goes_on_after_a_pickle_with_read_only_arrays():
    """A state shipped to another process (Ray hands back read-only arrays) keeps counting exactly."""
    import pickle

    texts = _wide_texts(300, 4) + _texts(5, 300)
    m = FrequencyMeasure(max_n=2, budget=6_000, top_k=30)
    batches = _batches(texts, 97)
    state = m.empty()
    for i, b in enumerate(batches):
        state = m.accumulate(state, b)
        if i in (1, 3):
            state = pickle.loads(pickle.dumps(state))
            for counter in state.values():
                for arr in (counter._keys, counter._counts, counter._text_start, counter._text_len, counter.arena):
                    arr.flags.writeable = False
    ref = _reference(texts, 97, 2, 6_000)
    for n in (1, 2):
        assert (state[n].total, state[n].error, len(state[n])) == (ref[n].total, ref[n].error, len(ref[n].counts))
        assert state[n].top(30) == top_items(ref[n].counts, 30)
    assert not state[2].exact  # the budget was passed: pruned between and after the round trips


def test_unique_values_and_union_sorted_equal_numpy():
    from curadebt.measures.radix import union_sorted, unique_values

    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 50, 5000):
        for dtype, hi in ((np.int64, 40), (np.uint64, 2**64 - 1), (np.int64, 2**62)):
            x = rng.integers(0, hi, n, dtype=dtype) if n else np.empty(0, dtype=dtype)
            y = rng.integers(0, hi, n // 2 + 1, dtype=dtype)
            assert np.array_equal(unique_values(x), np.unique(x))
            assert np.array_equal(union_sorted(np.unique(x), y), np.union1d(x, y))
