"""Censored regression of the correction cost r50 on exposure (a Tobit model), two laws compared.

r50 is censored: a fact that flips at the first dose has ``r50 <= 1`` (``below_range``), one that has
not flipped at the largest dose has ``r50 >= max_counter`` (``above_range``). An ordinary least-squares
fit on the clipped values biases the slope toward 0. Here the latent cost follows

- the **power law**: ``log r50 = a + gamma log(exposure) + beta margin + e``, or
- the **logarithm**: ``r50 = a + gamma log(exposure) + beta margin + e``,

with ``e ~ N(0, sigma^2)`` and ``margin`` the fact's prior margin (the base model's log-odds of the
old answer over the new before the correction: a fact known with a larger margin needs more
counter-examples whatever its exposure). Censored facts contribute the probability of their side of
the bound; the others their density. Both models are scored on the r50 scale (the power law's
density carries the Jacobian ``1 / r50``), so their log-likelihoods compare directly (same number of
parameters). Fitted by maximum likelihood (L-BFGS); intervals by a bootstrap over seeds.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

LAWS = ("power", "log")


def _design(exposure: np.ndarray, margin: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(exposure)), np.log(exposure), margin])


def fit(exposure: Sequence[float], r50: Sequence[float], status: Sequence[str], margin: Sequence[float],
        law: str, lo: float = 1.0, hi: float = 64.0) -> dict[str, Any]:
    """Maximum-likelihood fit of one law; returns a, gamma, beta (margin), sigma, loglik and counts."""
    from scipy.optimize import minimize
    from scipy.stats import norm

    if law not in LAWS:
        raise ValueError(f"law must be one of {LAWS}")
    e = np.asarray(exposure, dtype=float)
    r = np.asarray(r50, dtype=float)
    m = np.asarray(margin, dtype=float)
    st = np.asarray(status)
    low, high = st == "below_range", st == "above_range"
    mid = ~(low | high)
    X = _design(e, m)
    tr = np.log if law == "power" else (lambda v: v)
    y = tr(np.clip(r, lo, hi))
    y_lo, y_hi = float(tr(lo)), float(tr(hi))
    jac = -np.log(r[mid]).sum() if law == "power" else 0.0  # density on the r50 scale

    def nll(theta: np.ndarray) -> float:
        beta, s = theta[:3], math.exp(theta[3])
        mu = X @ beta
        ll = norm.logpdf(y[mid], mu[mid], s).sum() + jac
        ll += norm.logcdf((y_lo - mu[low]) / s).sum() + norm.logsf((y_hi - mu[high]) / s).sum()
        return -float(ll)

    b0, *_ = np.linalg.lstsq(X, y, rcond=None)
    s0 = float(np.std(y - X @ b0)) or 1.0
    res = minimize(nll, np.concatenate([b0, [math.log(s0)]]), method="L-BFGS-B")
    a, gamma, beta = (float(v) for v in res.x[:3])
    return {"a": a, "gamma": gamma, "beta_margin": beta, "sigma": math.exp(float(res.x[3])),
            "loglik": -float(res.fun), "n": int(len(r)), "censored_low": int(low.sum()),
            "censored_high": int(high.sum()), "converged": bool(res.success)}


def predicted_r50(f: dict[str, Any], law: str, exposure: float, margin: float) -> float:
    """The fitted law's r50 at ``exposure`` and prior ``margin`` (the latent value, not clipped)."""
    mu = f["a"] + f["gamma"] * math.log(exposure) + f["beta_margin"] * margin
    return math.exp(mu) if law == "power" else mu


def compare(groups: Sequence[Sequence[dict]], lo: float, hi: float, n_boot: int = 200, seed: int = 0,
            at: tuple[float, float] | None = None) -> dict:
    """Both laws fitted on every fact of every group (a group: one seed's facts, each a dict with
    exposure, r50, r50_status, prior_margin), with bootstrap intervals over the groups. ``at``:
    (exposure, margin) at which each law's predicted r50 is reported too (``r50_at``, with its CI):
    how two models compare at equal margin."""
    def arrays(gs):
        rows = [f for g in gs for f in g]
        return ([f["exposure"] for f in rows], [f["r50"] for f in rows], [f["r50_status"] for f in rows],
                [f["prior_margin"] for f in rows])

    out: dict[str, Any] = {}
    if sum(len(g) for g in groups) < 5:
        return {"note": "fewer than 5 facts: not fitted"}
    for law in LAWS:
        out[law] = fit(*arrays(groups), law=law, lo=lo, hi=hi)
    rng = np.random.default_rng(seed)
    boot: dict[str, list[dict]] = {law: [] for law in LAWS}
    if len(groups) > 1:
        for _ in range(n_boot):
            pick = [groups[i] for i in rng.integers(0, len(groups), len(groups))]
            if sum(len(g) for g in pick) < 5:
                continue
            for law in LAWS:
                boot[law].append(fit(*arrays(pick), law=law, lo=lo, hi=hi))

    def ci(values: list[float]) -> list[float]:
        return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))] if values else [float("nan")] * 2

    for law in LAWS:
        out[law]["gamma_ci"] = ci([b["gamma"] for b in boot[law]])
        if at is not None:
            out[law]["r50_at"] = {"exposure": at[0], "margin": at[1], "value": predicted_r50(out[law], law, *at),
                                  "ci": ci([predicted_r50(b, law, *at) for b in boot[law]])}
    d = out["power"]["loglik"] - out["log"]["loglik"]
    out["loglik_power_minus_log"] = d
    # equal parameter counts: the likelihood ratio is the AIC difference / 2; |d| < 1 is no preference
    out["preferred"] = "power" if d > 1 else ("log" if d < -1 else "neither (|delta log-likelihood| < 1)")
    return out
