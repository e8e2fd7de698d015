"""Editing metrics, computed as in the ROME / CounterFact evaluation code, plus r50 and CIs.

Pure numpy: no torch needed, so the arithmetic is testable on hand-computed values.

Conventions (ROME, ``compute_rewrite_quality_counterfact``): every prompt is scored by the
log-probability of the target's tokens after the prompt. ROME compares the *per-token mean*
negative log-likelihood of ``target_new`` and ``target_true``; that is our default basis
(``basis="mean"``). The summed log-probability (the probability of the whole target sequence) is
reported beside it (``basis="sum"``); for single-token targets the two agree.

- efficacy          share of rewrite prompts where P(new) > P(old)
- paraphrase        the same on paraphrase prompts
- neighbourhood     share of neighbourhood (locality) prompts where P(true) > P(new)
- magnitudes        mean of P(new) - P(old) (P(true) - P(new) for neighbourhood), with
                    P = exp(mean per-token log-prob) as in ROME, and with P = sequence probability
- score             harmonic mean of efficacy, paraphrase and neighbourhood (0 when any is 0)
- r50               the new:old ratio where efficacy first crosses 0.5, interpolated linearly in
                    log(ratio) between the two bracketing ratios

Confidence intervals: ``mean_ci(values, method="t")`` is the Student-t interval
``mean +- t_{(1+level)/2, n-1} * sd / sqrt(n)`` (sd with ddof=1); ``method="bootstrap"`` is the
percentile bootstrap (``n_boot`` resamples with replacement, fixed seed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# ---------------------------------------------------------------------------- per-prompt scores


def prefers(lp_a: Sequence[float], lp_b: Sequence[float]) -> np.ndarray:
    """Boolean array: log P(a) > log P(b), element-wise (strict, as in ROME)."""
    a = np.asarray(lp_a, dtype=float)
    b = np.asarray(lp_b, dtype=float)
    return a > b


def efficacy(lp_new: Sequence[float], lp_old: Sequence[float]) -> float:
    """Share of prompts where log P(new) > log P(old). NaN for no prompts."""
    p = prefers(lp_new, lp_old)
    return float(p.mean()) if p.size else float("nan")


def neighbourhood_score(lp_true: Sequence[float], lp_new: Sequence[float]) -> float:
    """Share of neighbourhood prompts where log P(true) > log P(new)."""
    return efficacy(lp_true, lp_new)


def magnitude(lp_a: Sequence[float], lp_b: Sequence[float]) -> float:
    """Mean of exp(lp_a) - exp(lp_b): ROME's efficacy/paraphrase/neighbourhood magnitude."""
    a = np.exp(np.asarray(lp_a, dtype=float))
    b = np.exp(np.asarray(lp_b, dtype=float))
    return float((a - b).mean()) if a.size else float("nan")


def harmonic_mean(values: Sequence[float]) -> float:
    """Harmonic mean; 0 when any value is 0, NaN when any is NaN or there are none."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or np.isnan(v).any():
        return float("nan")
    if (v < 0).any():
        raise ValueError("harmonic mean of negative values")
    if (v == 0).any():
        return 0.0
    return float(v.size / np.sum(1.0 / v))


def overall_score(efficacy_: float, paraphrase: float, neighbourhood: float) -> float:
    """ROME's overall score S: harmonic mean of efficacy, paraphrase and neighbourhood scores."""
    return harmonic_mean([efficacy_, paraphrase, neighbourhood])


# ---------------------------------------------------------------------------- r50


@dataclass
class R50:
    value: float | None      # the interpolated ratio, None when not bracketed
    status: str              # "interpolated", "below_range" (>= 0.5 at the smallest ratio), "above_range" (never reached)
    threshold: float = 0.5

    def __str__(self) -> str:
        if self.status == "interpolated":
            return f"{self.value:.3g}"
        return "< min ratio" if self.status == "below_range" else "> max ratio"

    def to_dict(self) -> dict:
        return {"value": self.value, "status": self.status, "threshold": self.threshold}


def r50(ratios: Sequence[float], values: Sequence[float], threshold: float = 0.5) -> R50:
    """Ratio where ``values`` (efficacy against ratio) first reaches ``threshold``.

    Ratios are sorted ascending. If the first value is already >= threshold the crossing is below the
    measured range; if none reaches it, above. Otherwise, with (r0, e0) the last point below and
    (r1, e1) the first point at/above the threshold::

        log r50 = log r0 + (threshold - e0) / (e1 - e0) * (log r1 - log r0)
    """
    pairs = sorted((float(r), float(e)) for r, e in zip(ratios, values) if not math.isnan(float(e)))
    if not pairs:
        return R50(None, "above_range", threshold)
    if any(r <= 0 for r, _ in pairs):
        raise ValueError("ratios must be > 0 for log interpolation")
    if pairs[0][1] >= threshold:
        return R50(None, "below_range", threshold)
    for (r0, e0), (r1, e1) in zip(pairs, pairs[1:]):
        if e0 < threshold <= e1:
            t = (threshold - e0) / (e1 - e0)
            return R50(float(math.exp(math.log(r0) + t * (math.log(r1) - math.log(r0)))), "interpolated", threshold)
    return R50(None, "above_range", threshold)


from curadebt.core.stats import CI, bootstrap_stat_ci, mean_ci, t_cdf, t_ppf  # noqa: E402,F401  (shared stats)


def perplexity(total_nll: float, tokens: int) -> float:
    """exp(mean NLL per token)."""
    return float(math.exp(total_nll / tokens)) if tokens else float("nan")
