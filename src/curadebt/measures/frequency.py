"""Frequency imbalance of tokens and n-grams: Zipf slope, Gini, normalised entropy, top coverage."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from curadebt.core.measure import Measure, top_items
from curadebt.measures.ngramcount import HashedNgramCounter
from curadebt.corpus.batch import Batch

COVERAGE_RANKS = (10, 100, 1000)


@dataclass
class NgramStats:
    n: int
    total: int
    distinct: int            # distinct n-grams seen (a lower bound when not exact)
    exact: bool
    error_bound: int         # true count of a listed n-gram is within [count, count + error_bound]
    zipf_slope: float | None
    gini: float | None
    normalized_entropy: float | None
    top_coverage: dict[str, float]
    top: list[tuple[str, int]]
    rank_frequency: list[tuple[int, int]]


@dataclass
class FrequencyResult:
    tokens: int
    ngrams: dict[str, NgramStats] = field(default_factory=dict)


def gini(counts: np.ndarray) -> float | None:
    """Gini coefficient of the counts over types (0 = all types equally frequent, ->1 = one type has all)."""
    if counts.size == 0 or counts.sum() == 0:
        return None
    x = np.sort(counts.astype(np.float64))
    n = x.size
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


def normalized_entropy(counts: np.ndarray) -> float | None:
    """Shannon entropy of the type distribution divided by log(#types); 1 = uniform."""
    if counts.size < 2:
        return None
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum() / math.log(counts.size))


def zipf_slope(sorted_counts: np.ndarray, max_rank: int = 10_000) -> float | None:
    """Least-squares slope of log(count) on log(rank) over ranks 1..max_rank, sampled at
    log-spaced ranks so that the long tail of singletons does not dominate the fit.
    Natural language gives about -1."""
    m = min(sorted_counts.size, max_rank)
    if m < 3:
        return None
    ranks = np.unique(np.round(np.logspace(0, math.log10(m), 64)).astype(int))
    y = np.log(sorted_counts[ranks - 1].astype(np.float64))
    x = np.log(ranks.astype(np.float64))
    return float(np.polyfit(x, y, 1)[0])


def rank_frequency(sorted_counts: np.ndarray, points: int = 120) -> list[tuple[int, int]]:
    if sorted_counts.size == 0:
        return []
    ranks = np.unique(np.round(np.logspace(0, math.log10(sorted_counts.size), points)).astype(int))
    return [(int(r), int(sorted_counts[r - 1])) for r in ranks]


class FrequencyMeasure(Measure[dict, FrequencyResult]):
    """Counts n-grams (n = 1..max_n) exactly while each vocabulary fits ``budget`` distinct keys,
    then as a Misra-Gries heavy-hitter summary with a stated error bound (see audit.sketch).
    The counting is vectorised by hash (measures.ngramcount), with the same results as counting the
    space-joined n-gram strings, for the default word tokens and for any other tokenizer's."""

    name = "frequency"

    def __init__(self, max_n: int = 3, budget: int = 2_000_000, top_k: int = 50):
        if max_n < 1:
            raise ValueError("max_n must be >= 1")
        self.max_n = max_n
        self.budget = budget
        self.top_k = top_k

    def empty(self) -> dict:
        return {n: HashedNgramCounter(self.budget) for n in range(1, self.max_n + 1)}

    def map(self, batch: Batch) -> dict:
        return self.accumulate(self.empty(), batch)

    def accumulate(self, state: dict, batch: Batch) -> dict:
        if all(isinstance(c, HashedNgramCounter) for c in state.values()):
            # counted by hash, vectorised (no Python object per n-gram): the default word tokens as
            # spans of the text, another tokenizer's tokens as spans of their space-joined strings
            data, starts, lengths, offsets, hashes = batch.token_spans
            for n, counter in state.items():
                counter.count(data, starts, lengths, offsets, hashes, n)
            return state
        for n, counter in state.items():  # a state of string keys (merged from an older run)
            counts = counter.counts
            total = 0
            join = " ".join
            for toks in batch.tokens:
                if len(toks) >= n:
                    counts.update(toks if n == 1 else map(join, zip(*(toks[i:] for i in range(n)))))
                    total += len(toks) - n + 1
            counter.total += total
            counter._maybe_prune()
        return state

    def merge(self, a: dict, b: dict) -> dict:
        out = {}
        for n in a:
            x, y = a[n], b[n]
            if type(x) is not type(y):  # one side counted another tokenizer's tokens: string keys
                x = x.to_bounded() if isinstance(x, HashedNgramCounter) else x
                y = y.to_bounded() if isinstance(y, HashedNgramCounter) else y
            out[n] = x.merge(y)
        return out

    def finalize(self, state: dict) -> FrequencyResult:
        out = FrequencyResult(tokens=state[1].total)
        for n, counter in state.items():
            if isinstance(counter, HashedNgramCounter):
                arr = counter.sorted_counts()
                top = counter.top(self.top_k)
            else:
                items = top_items(counter.counts, len(counter.counts))
                arr = np.fromiter((c for _, c in items), dtype=np.int64, count=len(items))
                top = items[: self.top_k]
            total = counter.total
            coverage = {str(k): (float(arr[:k].sum()) / total if total else 0.0) for k in COVERAGE_RANKS}
            out.ngrams[str(n)] = NgramStats(
                n=n, total=total, distinct=len(arr), exact=counter.exact, error_bound=counter.error,
                zipf_slope=zipf_slope(arr), gini=gini(arr), normalized_entropy=normalized_entropy(arr),
                top_coverage=coverage, top=top, rank_frequency=rank_frequency(arr),
            )
        return out
