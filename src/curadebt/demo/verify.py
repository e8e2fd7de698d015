"""Check an audit report of the demo world against the world's manifest (ground truth).

``verify_report(report, manifest)`` returns one :class:`Check` per planted debt and per control:
did the report's debt section name the culprit, and do the measured numbers equal the planted ones?
``curadebt demo`` can print these lines; tests use them end to end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curadebt.worlds.demo import WorldManifest

TOL = 1e-6


@dataclass
class Check:
    id: str
    dimension: str
    planted: str                 # what was planted (the manifest's description)
    found: bool                  # the debt section names it (or, for a control, does not flag it)
    finding: str | None = None   # the report's finding that names it
    mismatches: list[str] = field(default_factory=list)  # measured numbers that differ from the manifest
    control: bool = False

    @property
    def ok(self) -> bool:
        return self.found and not self.mismatches

    def line(self) -> str:
        mark = "ok  " if self.ok else "MISS"
        what = "control" if self.control else "planted"
        out = f"[{mark}] {self.dimension:<10} {what}: {self.planted}"
        if self.finding:
            out += f"\n             report: {self.finding}"
        for m in self.mismatches:
            out += f"\n             mismatch: {m}"
        return out


def _findings(report: dict, dimension: str, min_severity: tuple[str, ...] = ("high", "medium")) -> list[dict]:
    debt = report.get("debt") or {}
    return [f for f in debt.get("findings") or [] if f.get("dimension") == dimension
            and f.get("severity") in min_severity]


def _eq(name: str, got: Any, want: Any, out: list[str]) -> None:
    if isinstance(want, float) or isinstance(got, float):
        if got is None or abs(float(got) - float(want)) > TOL:
            out.append(f"{name}: report {got}, manifest {want}")
    elif got != want:
        out.append(f"{name}: report {got}, manifest {want}")


def verify_report(report: dict, manifest: WorldManifest | dict) -> list[Check]:
    """``report``: the report.json dict (``AuditReport.to_json()``)."""
    m = manifest.to_json() if isinstance(manifest, WorldManifest) else manifest
    checks: list[Check] = []
    for d in m["debts"]:
        dim = d["dimension"]
        fn = _CHECKS.get(dim)
        if fn is not None:
            checks.append(fn(report, d))
    for c in m["controls"]:
        if c["dimension"] == "probes":
            checks.append(_probe_control(report, c))
    return checks


def _salience(report: dict, d: dict) -> Check:
    hits = [f for f in _findings(report, "salience") if f.get("subject") == d["subject"]
            and f.get("entity") == d["entity"]]
    mism: list[str] = []
    rows = [r for r in (report.get("salience") or {}).get("spillover") or [] if r.get("token") == d["subject"]]
    if rows:
        _eq("token_count", rows[0]["token_count"], d["token_count"], mism)
        _eq("entity_mentions", rows[0]["entity_mentions"], d["entity_mentions"], mism)
        _eq("share", rows[0]["share"], d["share"], mism)
    else:
        mism.append(f"no spillover row for {d['subject']!r}")
    return Check(d["id"], "salience", d["description"], bool(hits), hits[0]["message"] if hits else None, mism)


def _probe_row(report: dict, probe_id: str) -> dict | None:
    for p in (report.get("probes") or {}).get("probes") or []:
        if p.get("id") == probe_id:
            return p
    return None


def _probe_mismatches(report: dict, d: dict) -> list[str]:
    mism: list[str] = []
    row = _probe_row(report, d["probe_id"])
    if row is None:
        return [f"probe {d['probe_id']!r} not in the report"]
    got = {a["answer"]: a for a in row.get("answers") or []}
    for answer, want in d["answers"].items():
        for k in ("documents", "sentences", "pattern_matches"):
            _eq(f"{answer}.{k}", (got.get(answer) or {}).get(k), want[k], mism)
    _eq("top_answer", row.get("top_answer"), d["top_answer"], mism)
    _eq("dominance_ratio", row.get("dominance_ratio"), d["dominance_ratio"], mism)
    return mism


def _probes(report: dict, d: dict) -> Check:
    hits = [f for f in _findings(report, "probes") if f.get("probe") == d["probe_id"]]
    return Check(d["id"], "probes", d["description"], bool(hits), hits[0]["message"] if hits else None,
                 _probe_mismatches(report, d))


def _probe_control(report: dict, c: dict) -> Check:
    """A control must not be a debt (no high/medium finding)."""
    hits = [f for f in _findings(report, "probes") if f.get("probe") == c["probe_id"]]
    low = [f for f in _findings(report, "probes", ("low",)) if f.get("probe") == c["probe_id"]]
    note = (hits or low or [None])[0]
    return Check(c["id"], "probes", c["description"] + f" (dominance {c['dominance_ratio']:.2f}: no debt)",
                 not hits, note["message"] if note else None, _probe_mismatches(report, c), control=True)


def _duplicates(report: dict, d: dict) -> Check:
    hits = _findings(report, "duplicates")
    mism: list[str] = []
    sec = report.get("duplicates") or {}
    for k in ("exact_duplicate_documents", "exact_clusters", "near_duplicate_documents", "near_clusters"):
        _eq(k, sec.get(k), d[k], mism)
    _eq("duplicate_share", sec.get("duplicate_share"), d["duplicate_share"], mism)
    return Check(d["id"], "duplicates", d["description"], bool(hits), hits[0]["message"] if hits else None, mism)


def _mixture(report: dict, d: dict) -> Check:
    hits = [f for f in _findings(report, "mixture") if f.get("subject") == d["subject"]]
    mism: list[str] = []
    sec = report.get("mixture") or {}
    _eq("top_source", sec.get("top_source"), d["subject"], mism)
    if sec.get("top_share") is not None and abs(sec["top_share"] - d["token_share"]) > 1e-5:
        mism.append(f"top_share: report {sec['top_share']}, manifest {d['token_share']}")
    return Check(d["id"], "mixture", d["description"], bool(hits), hits[0]["message"] if hits else None, mism)


def _order(report: dict, d: dict) -> Check:
    hits = [f for f in _findings(report, "order") if f.get("subject") == d["subject"]]
    return Check(d["id"], "order", d["description"], bool(hits), hits[0]["message"] if hits else None)


def _frequency(report: dict, d: dict) -> Check:
    hits = _findings(report, "frequency")
    mism: list[str] = []
    st = ((report.get("frequency") or {}).get("ngrams") or {}).get("3") or {}
    cov = (st.get("top_coverage") or {}).get("100")
    if cov is None or abs(cov - d["top100_coverage_3gram"]) > 1e-5:
        mism.append(f"top100_coverage_3gram: report {cov}, manifest {d['top100_coverage_3gram']}")
    return Check(d["id"], "frequency", d["description"], bool(hits), hits[0]["message"] if hits else None, mism)


_CHECKS = {"salience": _salience, "probes": _probes, "duplicates": _duplicates, "mixture": _mixture,
           "order": _order, "frequency": _frequency}
