"""The debt score: one number in [0, 1] per dimension of the audit, an overall score, and findings
that name the culprits.

``compute_debt(sections)`` reads the report dict (``report.json`` keys, see docs/report-schema.md);
any section may be missing or ``None`` and its dimension is then *not measured* (score ``None``),
never an error. Each registered measure with a ``score`` is one dimension
(:mod:`curadebt.measures.registry`); the criteria, scores and severities are defined in
:mod:`curadebt.measures.scorekit`, the reasons for each threshold in docs/debt.md.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from curadebt.measures import registry
from curadebt.measures.scorekit import (HIGH, LOW, MEDIUM, SEVERITIES, Criterion, DebtThresholds,
                                        below_score, not_measured, ratio_score, severity_of, share_score)


__all__ = ["DebtResult", "DebtThresholds", "compute_debt", "dimensions", "HIGH", "MEDIUM", "LOW", "SEVERITIES",
           "Criterion", "below_score", "ratio_score", "severity_of", "share_score"]


def dimensions() -> list[str]:
    """The debt dimensions in report order: every registered measure that scores one."""
    return registry.dimension_names()


@dataclass
class DebtResult:
    overall: float | None                      # mean of measured dimension scores; None if none measured
    dimensions: dict[str, dict[str, Any]]      # name -> {score, value, threshold, is_debt, summary, ...}
    findings: list[dict[str, Any]]             # [{dimension, severity, message, subject, score, ...}]
    measured: list[str] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        from curadebt.core.measure import to_jsonable

        return to_jsonable(self)

    @property
    def debts(self) -> list[str]:
        """Names of the dimensions that are a debt."""
        return [n for n, d in self.dimensions.items() if d.get("is_debt")]


def _plain(obj: Any) -> Any:
    """Dataclass sections (an AuditReport's typed results) -> plain dicts, like report.json."""
    if obj is None or isinstance(obj, (dict, list, str, int, float, bool)):
        return obj
    if dataclasses.is_dataclass(obj):
        from curadebt.core.measure import to_jsonable

        return to_jsonable(obj)
    return obj


# ---------------------------------------------------------------------------------------------

def compute_debt(sections: dict[str, Any], thresholds: DebtThresholds | None = None) -> DebtResult:
    """Score the report's sections (see the module docstring and docs/debt.md)."""
    t = thresholds or DebtThresholds()
    sections = sections or {}
    report = {name: _plain(value) for name, value in sections.items()}
    specs = registry.dimension_specs()
    names = [spec.name for spec in specs]
    dims: dict[str, dict[str, Any]] = {}
    findings: list[dict] = []
    for spec in specs:
        sec = report.get(spec.name)
        if not isinstance(sec, dict):
            dims[spec.name] = not_measured(f"no {spec.name} section in the report")
            continue
        dims[spec.name], found = spec.score(sec, report, t)
        findings.extend(found)

    measured = [n for n in names if dims[n]["score"] is not None]
    overall = sum(dims[n]["score"] for n in measured) / len(measured) if measured else None
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (rank[f["severity"]], -(f["score"] if f["score"] is not None else -1.0),
                                 names.index(f["dimension"]), f["subject"], f["message"]))
    return DebtResult(overall=overall, dimensions=dims, findings=findings, measured=measured,
                      thresholds=dataclasses.asdict(t))
