"""Frequency imbalance of tokens and n-grams: Zipf slope, Gini, normalised entropy, top coverage."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from curadebt.core.measure import Measure, top_items
from curadebt.measures.ngramcount import HashedNgramCounter
from curadebt.corpus.batch import Batch
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

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
        if isinstance(a, DetachedCounters) or isinstance(b, DetachedCounters):
            return DetachedCounters.of(a).joined(DetachedCounters.of(b))
        out = {}
        for n in a:
            out[n] = _merge_counters(a[n], b[n])
        return out

    def detach(self, state: dict, put) -> "DetachedCounters":
        """On an engine: each n's counter stays in the engine's store (they are large); the
        merge of the workers' counters and the statistics then run as one task per n."""
        return DetachedCounters({n: [put(c)] for n, c in state.items()})

    def finalize_on(self, state, executor) -> FrequencyResult:
        if not isinstance(state, DetachedCounters):
            return self.finalize(state)
        ns = sorted(state.parts)
        stats = executor.get(executor.map(_ngram_task, [(n, state.parts[n], self.budget, self.top_k) for n in ns]))
        out = FrequencyResult(tokens=stats[0][1])
        for n, (st, _) in zip(ns, stats):
            out.ngrams[str(n)] = st
        return out

    def finalize(self, state: dict) -> FrequencyResult:
        if isinstance(state, DetachedCounters):
            raise RuntimeError("the counters are in an engine's store (detached): finalize with "
                               "finalize_on(state, executor) of that engine")
        out = FrequencyResult(tokens=state[1].total)
        for n, counter in state.items():
            out.ngrams[str(n)] = ngram_stats(n, counter, self.top_k)
        return out


def _merge_counters(x, y):
    if type(x) is not type(y):  # one side counted another tokenizer's tokens: string keys
        x = x.to_bounded() if isinstance(x, HashedNgramCounter) else x
        y = y.to_bounded() if isinstance(y, HashedNgramCounter) else y
    return x.merge(y)


def ngram_stats(n: int, counter, top_k: int) -> NgramStats:
    """The statistics of one n's counts."""
    if isinstance(counter, HashedNgramCounter):
        arr = counter.sorted_counts()
        top = counter.top(top_k)
    else:
        items = top_items(counter.counts, len(counter.counts))
        arr = np.fromiter((c for _, c in items), dtype=np.int64, count=len(items))
        top = items[:top_k]
    total = counter.total
    coverage = {str(k): (float(arr[:k].sum()) / total if total else 0.0) for k in COVERAGE_RANKS}
    return NgramStats(
        n=n, total=total, distinct=len(arr), exact=counter.exact, error_bound=counter.error,
        zipf_slope=zipf_slope(arr), gini=gini(arr), normalized_entropy=normalized_entropy(arr),
        top_coverage=coverage, top=top, rank_frequency=rank_frequency(arr),
    )


@dataclass
class DetachedCounters:
    """A frequency state whose counters are in an engine's store: per n, the refs of the workers'
    counters, merged (in this order) by :func:`_ngram_task`."""

    parts: dict[int, list]

    @staticmethod
    def of(state) -> "DetachedCounters":
        if isinstance(state, DetachedCounters):
            return state
        if all(c.total == 0 and len(c) == 0 for c in state.values()):  # empty(): nothing to keep
            return DetachedCounters({n: [] for n in state})
        raise RuntimeError("cannot merge a detached frequency state with counters held here")

    def joined(self, other: "DetachedCounters") -> "DetachedCounters":
        ns = sorted(set(self.parts) | set(other.parts))
        return DetachedCounters({n: self.parts.get(n, []) + other.parts.get(n, []) for n in ns})


def _ngram_task(n: int, counters: list, budget: int, top_k: int) -> tuple[NgramStats, int]:
    """An engine task: merge the workers' counters of one n, in order, onto an empty one (as the
    driver would merge the states), and compute its statistics (and the total, which for n = 1 is
    the token count)."""
    merged = HashedNgramCounter(budget)
    if counters and isinstance(counters[0], HashedNgramCounter):
        merged, counters = counters[0], counters[1:]  # empty.merge(c) has c's counts, totals and texts
    for c in counters:  # the task holds ``merged`` alone: merged in place
        merged = merged.absorb(c) if type(merged) is type(c) else _merge_counters(merged, c)
    return ngram_stats(n, merged, top_k), merged.total


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def score_frequency(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    ngrams = sec.get("ngrams") or {}
    for n in sorted(t.top100_coverage, key=lambda k: -int(k)):
        st = ngrams.get(n)
        if not isinstance(st, dict):
            continue
        total = sk.number(st.get("total")) or 0
        cov = sk.number((st.get("top_coverage") or {}).get("100"))
        if cov is None:
            continue
        if total < t.frequency_min_ngrams:
            return sk.not_measured(f"only {int(total)} {n}-grams (fewer than {t.frequency_min_ngrams}: the top-100 "
                                 "coverage would mostly reflect corpus size)", t.top100_coverage[n]), []
        thr = t.top100_coverage[n]
        crit = sk.Criterion(f"top100_coverage_{n}gram", cov, thr, "share")
        top = [x for x in (st.get("top") or [])[:3] if isinstance(x, (list, tuple)) and len(x) == 2]
        top_txt = ", ".join(f"'{g}' ({c})" for g, c in top)
        summary = f"the 100 most frequent {n}-grams cover {sk.pct(cov)} of all {n}-grams (threshold {sk.pct(thr)})"
        dim = sk.dimension([crit], summary)
        findings = []
        if crit.score >= sk.LOW:
            findings.append(sk.finding(
                "frequency", crit.score,
                f"the 100 most frequent {n}-grams cover {sk.pct(cov)} of all {int(total)} {n}-grams "
                f"(natural prose: well under {sk.pct(thr)}); repeated phrasing"
                + (f", led by {top_txt}" if top_txt else ""), f"{n}-grams", value=cov, threshold=thr))
        return dim, findings
    return sk.not_measured("no n-gram coverage in the frequency section", dict(t.top100_coverage)), []


def render_frequency(sec: dict, ctx: hk.RenderContext) -> str:
    ngrams = {str(k): hk.as_dict(v) for k, v in hk.as_dict(sec.get("ngrams")).items()}
    ngrams = dict(sorted(ngrams.items(), key=lambda kv: (hk.finite(kv[0]) is None, hk.finite(kv[0]) or 0, kv[0])))
    out = []
    if sec.get("tokens") is not None:
        out.append(hk.tiles([("tokens", hk.num(sec.get("tokens")))]))
    if not ngrams:
        return "".join(out) + hk.not_measured("no n-gram statistics")
    rows = []
    for order, st in ngrams.items():
        cov = hk.as_dict(st.get("top_coverage"))
        exact = st.get("exact")
        exact_s = "exact" if exact is True else (f"\u00b1{hk.num(st.get('error_bound'))}" if exact is False else hk.DASH)
        rows.append([hk.code(order), hk.cell(st.get("total")), hk.cell(st.get("distinct")), exact_s,
                     hk.cell(st.get("zipf_slope")), hk.cell(st.get("gini")), hk.cell(st.get("normalized_entropy")),
                     hk.cell(cov.get("10"), hk.pct), hk.cell(cov.get("100"), hk.pct), hk.cell(cov.get("1000"), hk.pct)])
    out.append(hk.table(["n", "total", "distinct", "counts", "Zipf slope", "Gini", "norm. entropy",
                       "top-10 cover", "top-100 cover", "top-1000 cover"], rows))
    out.append('<p class="note">Zipf slope near \u22121 is natural language; steeper, a high Gini, low entropy '
               "and high top coverage mean a few n-grams dominate. \u201c\u00b1\u201d is the largest overcount "
               "of any listed count when counting was approximate.</p>")
    series = {o: hk.as_list(st.get("rank_frequency")) for o, st in ngrams.items() if hk.as_list(st.get("rank_frequency"))}
    if series:
        out.append(ctx.plot(lambda: plots.rank_frequency_svg(series, {o: st.get("zipf_slope") for o, st in ngrams.items()}),
                            "Rank-frequency per n-gram order, log-log (legend: fitted Zipf slope)."))
    tops = []
    for order, st in ngrams.items():
        top = [t for t in hk.as_list(st.get("top")) if isinstance(t, (list, tuple)) and len(t) >= 2]
        if not top:
            continue
        total = hk.finite(st.get("total"))
        rows = [[hk.cell(i + 1), hk.code(g), hk.cell(c), hk.cell((hk.finite(c) or 0) / total if total else None, hk.pct)]
                for i, (g, c, *_) in enumerate(top[:hk.MAX_ROWS])]
        tops.append(f"<div><h3>Top {hk.esc(order)}-grams</h3>"
                    + hk.table(["#", "n-gram", "count", "share"], rows, total=len(top)) + "</div>")
    if tops:
        out.append(f'<div class="grid">{"".join(tops)}</div>')
    return "".join(out)


register(MeasureSpec(
    name="frequency", title="Frequency imbalance", position=10, debt_position=60,
    build=lambda cfg: FrequencyMeasure(max_n=cfg.max_n, budget=cfg.count_budget, top_k=cfg.top_k),
    score=score_frequency, render=render_frequency))
