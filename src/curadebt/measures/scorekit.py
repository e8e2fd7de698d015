"""The debt score's kit: thresholds, criteria and findings, used by every measure's ``score``
(see :mod:`curadebt.measures.registry`) and by :func:`curadebt.measures.debt.compute_debt`.

``compute_debt(sections)`` reads the report dict (``report.json`` keys, see docs/report-schema.md);
any section may be missing or ``None`` and its dimension is then *not measured* (score ``None``),
never an error. Definitions, formulas and the reasons for each threshold are in docs/debt.md.

Every dimension is one or more *criteria* ``(metric, value, threshold)``. A criterion is a debt when
its value reaches the threshold (``>=``, or ``<=`` for "below" metrics such as entropy), and its
score maps the threshold to exactly 0.5:

- shares (a fraction in [0, 1]):  ``score = min(1, value / (2 * threshold))``
- ratios (1 = no imbalance):      ``score = clamp(log(value) / (2 * log(threshold)), 0, 1)``
  (so the threshold gives 0.5 and its square gives 1: 4:1 -> 0.5, 16:1 -> 1)
- "below" metrics in [0, 1]:      ``score = min(1, (1 - value) / (2 * (1 - threshold)))``

A dimension's score is its worst criterion's score; ``overall`` is the mean of the measured
dimensions. Findings carry a severity from their score: ``high`` (>= 0.75), ``medium`` (>= 0.5, a
debt), ``low`` (>= 0.25, worth watching), ``info`` (context, not scored); they are sorted by
severity, then score (descending), dimension, subject and message, so the order is deterministic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("high", "medium", "low", "info")
HIGH, MEDIUM, LOW = 0.75, 0.5, 0.25

#: Findings listed per dimension at most (the dimension summary gives the totals).
MAX_FINDINGS_PER_DIMENSION = 5


@dataclass(frozen=True)
class DebtThresholds:
    """Where a measured value becomes a debt (see docs/debt.md for why each value)."""

    #: duplicates: (exact + near duplicate documents) / documents audited
    duplicate_share: float = 0.05
    #: salience: documents of a token's dominant continuation over the median of its established
    #: competitors (the lab: at 10x its peers' documents, "Cruise" beats the true surname in every
    #: context about another Tom)
    competition_ratio: float = 10.0
    #: ... counted when the dominant continuation is in at least this many documents
    competition_min_documents: int = 20
    #: mixture: token share of the largest source
    top_source_share: float = 0.5
    #: mixture: normalised entropy of the source token shares (debt at or below)
    source_entropy: float = 0.7
    #: order: total-variation distance of an early window's source mix from the whole corpus
    window_tvd: float = 0.2
    #: order: early share / overall share of a source or entity in the largest early window
    concentration: float = 2.0
    #: order: items smaller than this overall share are ignored (one early mention would explode) ...
    concentration_min_share: float = 0.01
    #: ... and so are entities with fewer mentions than this in the early window (sampling noise)
    concentration_min_count: int = 20
    #: probes: (top + 1) / (runner-up + 1) co-occurrence ratio of competing answers
    dominance_ratio: float = 4.0
    #: frequency: share of all n-grams covered by the 100 most frequent, per n (3-grams preferred)
    top100_coverage: dict[str, float] = field(default_factory=lambda: {"3": 0.05, "2": 0.2, "1": 0.7})
    #: frequency: fewer n-grams than this and the coverage is not measured (100/total is its floor)
    frequency_min_ngrams: int = 10_000


# ---------------------------------------------------------------------------------------------
# scoring helpers
# ---------------------------------------------------------------------------------------------

def share_score(value: float, threshold: float) -> float:
    return max(0.0, min(1.0, value / (2 * threshold)))


def ratio_score(value: float, threshold: float) -> float:
    if value is None or value <= 1:
        return 0.0
    if math.isinf(value):
        return 1.0
    return max(0.0, min(1.0, math.log(value) / (2 * math.log(threshold))))


def below_score(value: float, threshold: float) -> float:
    return max(0.0, min(1.0, (1 - value) / (2 * (1 - threshold))))


@dataclass
class Criterion:
    metric: str
    value: float
    threshold: float
    kind: str  # "share", "ratio" or "below"

    @property
    def score(self) -> float:
        if self.kind == "share":
            return share_score(self.value, self.threshold)
        if self.kind == "ratio":
            return ratio_score(self.value, self.threshold)
        return below_score(self.value, self.threshold)

    @property
    def is_debt(self) -> bool:
        return self.value <= self.threshold if self.kind == "below" else self.value >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "threshold": self.threshold,
                "direction": "below" if self.kind == "below" else "above", "score": self.score,
                "is_debt": self.is_debt}


def severity_of(score: float | None) -> str:
    if score is None:
        return "info"
    if score >= HIGH:
        return "high"
    if score >= MEDIUM:
        return "medium"
    if score >= LOW:
        return "low"
    return "info"


def finding(dimension: str, score: float | None, message: str, subject: str, **extra: Any) -> dict[str, Any]:
    return {"dimension": dimension, "severity": severity_of(score), "message": message, "subject": subject,
            "score": None if score is None else round(score, 6), **extra}


def dimension(criteria: list[Criterion], summary: str) -> dict[str, Any]:
    worst = max(criteria, key=lambda c: (c.score, c.is_debt))
    return {"score": worst.score, "value": worst.value, "threshold": worst.threshold,
            "is_debt": any(c.is_debt for c in criteria), "summary": summary, "measured": True,
            "metric": worst.metric, "criteria": [c.to_json() for c in criteria]}


def not_measured(reason: str, threshold: Any = None) -> dict[str, Any]:
    return {"score": None, "value": None, "threshold": threshold, "is_debt": None,
            "summary": f"not measured: {reason}", "measured": False}


def number(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x) if not (isinstance(x, float) and math.isnan(x)) else None
    return None


def pct(x: float) -> str:
    """A share as a percentage with sensible precision (87%, 7.3%, 0.42%)."""
    p = 100 * x
    if p >= 10 or p == 0:
        return f"{p:.0f}%"
    if p >= 1:
        return f"{p:.1f}%"
    return f"{p:.2g}%"


def fraction_label(f: Any) -> str:
    """An early-window fraction as written in the report: 0.05 -> '5%', 0.001 -> '0.1%'."""
    try:
        return f"{round(float(f) * 100, 6):g}%"
    except (TypeError, ValueError):
        return str(f)


def ratio_text(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"
