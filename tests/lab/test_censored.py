"""The censored (Tobit) fit of r50 against exposure: it recovers a known law where clipping biases
least squares, and the likelihood prefers the law the data were drawn from."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from curadebt.lab.censored import compare, fit  # noqa: E402


def _draw(law: str, n: int = 600, seed: int = 0, hi: float = 8.0):
    rng = np.random.default_rng(seed)
    e = np.exp(rng.uniform(0, 7, n))
    m = rng.normal(0, 1, n)
    if law == "power":
        r = np.exp(0.2 + 0.4 * np.log(e) + 0.3 * m + rng.normal(0, 0.4, n))
    else:
        r = 1.0 + 0.9 * np.log(e) + 0.5 * m + rng.normal(0, 0.6, n)
    status = np.where(r <= 1, "below_range", np.where(r >= hi, "above_range", "interpolated"))
    return e, np.clip(r, 1, hi), status, m


def test_recovers_the_slope_where_least_squares_is_biased():
    e, r, status, m = _draw("power")
    assert (status == "above_range").mean() > 0.25, "a heavily censored sample"
    got = fit(e, r, status, m, "power", lo=1, hi=8)
    assert got["converged"] and got["gamma"] == pytest.approx(0.4, abs=0.04)
    assert got["beta_margin"] == pytest.approx(0.3, abs=0.06)
    X = np.column_stack([np.ones(len(e)), np.log(e), m])
    ols = np.linalg.lstsq(X, np.log(r), rcond=None)[0][1]
    assert ols < 0.3, "least squares on the clipped values flattens the slope"


@pytest.mark.parametrize("law", ["power", "log"])
def test_the_likelihood_prefers_the_true_law(law):
    e, r, status, m = _draw(law, seed=1)
    groups = [[{"exposure": e[i], "r50": r[i], "r50_status": status[i], "prior_margin": m[i]}
               for i in range(k, len(e), 4)] for k in range(4)]
    c = compare(groups, lo=1, hi=8, n_boot=30)
    assert c["preferred"] == law
    lo, hi = c[law]["gamma_ci"]
    assert lo <= c[law]["gamma"] <= hi


def test_the_prediction_at_equal_margin_recovers_the_true_cost():
    """Two 'sizes' drawn from laws that differ only in the margin they give facts: compared at the
    same exposure and margin, their predicted r50 agree with the law (exp(0.2 + 0.4 log 64 + 0.3 m))."""
    e, r, status, m = _draw("power", n=900, seed=3)
    groups = [[{"exposure": float(a), "r50": float(b), "r50_status": str(c), "prior_margin": float(d)}
               for a, b, c, d in zip(e[i::3], r[i::3], status[i::3], m[i::3])] for i in range(3)]
    out = compare(groups, lo=1.0, hi=8.0, n_boot=60, at=(64.0, 0.5))
    at = out["power"]["r50_at"]
    truth = float(np.exp(0.2 + 0.4 * np.log(64) + 0.3 * 0.5))
    assert at["value"] == pytest.approx(truth, rel=0.1)
    assert at["ci"][0] <= at["value"] <= at["ci"][1] and at["exposure"] == 64.0
