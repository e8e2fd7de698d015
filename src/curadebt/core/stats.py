"""Confidence intervals shared by the lab and the attribution evaluation: Student-t (its CDF and
quantile from the regularized incomplete beta function, no scipy) and the percentile bootstrap."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


# ---------------------------------------------------------------------------- confidence intervals


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbeta) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbeta) * _betacf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """CDF of Student's t with ``df`` degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2.0, 0.5, x)
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t (bisection on :func:`t_cdf`; accurate to ~1e-10)."""
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    if q == 0.5:
        return 0.0
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > q:
        lo *= 2
    while t_cdf(hi, df) < q:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


@dataclass
class CI:
    mean: float
    low: float
    high: float
    n: int
    method: str
    level: float = 0.95

    def to_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n,
                "method": self.method, "level": self.level}


def mean_ci(values: Sequence[float], level: float = 0.95, method: str = "t",
            n_boot: int = 2000, seed: int = 0, bounds: tuple[float, float] | None = None) -> CI:
    """Mean with a confidence interval over ``values`` (NaNs dropped).

    ``t``: Student-t interval, mean +- t_{(1+level)/2, n-1} * sd(ddof=1) / sqrt(n); with n == 1 the
    interval is the point (no spread can be estimated); with n == 0 everything is NaN.
    ``bootstrap``: percentile bootstrap over ``n_boot`` resamples (numpy default_rng(seed)).
    ``bounds``: the range the quantity lives in (e.g. (0, 1) for a share or a probability); a
    t-interval reaching outside it is truncated to it (with few seeds it often would).
    """
    v = np.asarray([x for x in values if x is not None and not math.isnan(float(x))], dtype=float)
    n = int(v.size)
    if n == 0:
        return CI(float("nan"), float("nan"), float("nan"), 0, method, level)
    m = float(v.mean())
    if n == 1:
        return CI(m, m, m, 1, method, level)
    if method == "t":
        half = t_ppf(0.5 + level / 2.0, n - 1) * float(v.std(ddof=1)) / math.sqrt(n)
        lo, hi = m - half, m + half
        if bounds is not None:
            lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        return CI(m, lo, hi, n, method, level)
    if method == "bootstrap":
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        means = v[idx].mean(axis=1)
        lo, hi = np.quantile(means, [(1 - level) / 2.0, 1 - (1 - level) / 2.0])
        return CI(m, float(lo), float(hi), n, method, level)
    raise ValueError(f"unknown CI method {method!r} (use 't' or 'bootstrap')")


def bootstrap_stat_ci(columns: Sequence[Sequence[float]], stat, level: float = 0.95,
                      n_boot: int = 2000, seed: int = 0) -> CI:
    """Percentile bootstrap CI of ``stat(*column_means)`` resampling the rows jointly.

    Used for the overall score: rows are (seed, fact) units, columns are efficacy, paraphrase and
    neighbourhood; the statistic is the harmonic mean of the column means.
    """
    arr = np.asarray(columns, dtype=float).T  # rows = units
    arr = arr[~np.isnan(arr).any(axis=1)] if arr.size else arr
    n = int(arr.shape[0]) if arr.size else 0
    if n == 0:
        return CI(float("nan"), float("nan"), float("nan"), 0, "bootstrap", level)
    point = float(stat(*arr.mean(axis=0)))
    if n == 1:
        return CI(point, point, point, 1, "bootstrap", level)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    stats = np.array([stat(*arr[i].mean(axis=0)) for i in idx], dtype=float)
    lo, hi = np.quantile(stats, [(1 - level) / 2.0, 1 - (1 - level) / 2.0])
    return CI(point, float(lo), float(hi), n, "bootstrap", level)


def two_level_bootstrap_ci(groups: Sequence[np.ndarray], stat, level: float = 0.95, n_boot: int = 1000,
                           seed: int = 0) -> CI:
    """Percentile CI of ``stat(groups)`` by a two-level bootstrap: resample the groups (seeds) with
    replacement, then the rows (facts) within each chosen group. ``groups``: one array per group,
    rows are units (a 1-d array is one value per unit); ``stat``: list of arrays -> float. The point
    estimate is ``stat`` of the groups as given. Pairing is kept by putting an arm's and its
    reference's values for the same unit on the same row."""
    gs = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not gs:
        return CI(float("nan"), float("nan"), float("nan"), 0, "two-level bootstrap", level)
    point = float(stat(gs))
    if len(gs) == 1 and len(gs[0]) == 1:
        return CI(point, point, point, 1, "two-level bootstrap", level)
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        chosen = rng.integers(0, len(gs), len(gs))
        reps[b] = stat([gs[i][rng.integers(0, len(gs[i]), len(gs[i]))] for i in chosen])
    lo, hi = np.nanquantile(reps, [(1 - level) / 2.0, 1 - (1 - level) / 2.0])
    return CI(point, float(lo), float(hi), len(gs), "two-level bootstrap", level)


def mean_of_group_means(groups: Sequence[np.ndarray]) -> float:
    """The statistic most two-level bootstraps want: the mean over groups of each group's mean."""
    return float(np.mean([np.mean(g) for g in groups]))
