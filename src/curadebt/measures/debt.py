"""The debt score: one number in [0, 1] per dimension of the audit, an overall score, and findings
that name the culprits.

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

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

DIMENSIONS = ("duplicates", "salience", "mixture", "order", "probes", "frequency")
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


def _finding(dimension: str, score: float | None, message: str, subject: str, **extra: Any) -> dict[str, Any]:
    return {"dimension": dimension, "severity": severity_of(score), "message": message, "subject": subject,
            "score": None if score is None else round(score, 6), **extra}


def _dimension(criteria: list[Criterion], summary: str) -> dict[str, Any]:
    worst = max(criteria, key=lambda c: (c.score, c.is_debt))
    return {"score": worst.score, "value": worst.value, "threshold": worst.threshold,
            "is_debt": any(c.is_debt for c in criteria), "summary": summary, "measured": True,
            "metric": worst.metric, "criteria": [c.to_json() for c in criteria]}


def _not_measured(reason: str, threshold: Any = None) -> dict[str, Any]:
    return {"score": None, "value": None, "threshold": threshold, "is_debt": None,
            "summary": f"not measured: {reason}", "measured": False}


def _plain(obj: Any) -> Any:
    """Dataclass sections (an AuditReport's typed results) -> plain dicts, like report.json."""
    if obj is None or isinstance(obj, (dict, list, str, int, float, bool)):
        return obj
    if dataclasses.is_dataclass(obj):
        from curadebt.core.measure import to_jsonable

        return to_jsonable(obj)
    return obj


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x) if not (isinstance(x, float) and math.isnan(x)) else None
    return None


def _pct(x: float) -> str:
    """A share as a percentage with sensible precision (87%, 7.3%, 0.42%)."""
    p = 100 * x
    if p >= 10 or p == 0:
        return f"{p:.0f}%"
    if p >= 1:
        return f"{p:.1f}%"
    return f"{p:.2g}%"


def _fraction_label(f: Any) -> str:
    """An early-window fraction as written in the report: 0.05 -> '5%', 0.001 -> '0.1%'."""
    try:
        return f"{round(float(f) * 100, 6):g}%"
    except (TypeError, ValueError):
        return str(f)


def _ratio(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


# ---------------------------------------------------------------------------------------------
# dimensions
# ---------------------------------------------------------------------------------------------

def _duplicates(sec: dict, corpus: dict, t: DebtThresholds) -> tuple[dict, list[dict]]:
    exact = int(sec.get("exact_duplicate_documents") or 0)
    near = int(sec.get("near_duplicate_documents") or 0)
    share = _num(sec.get("duplicate_share"))
    if share is None:
        docs = _num((corpus or {}).get("documents_audited"))
        if not docs:
            return _not_measured("no duplicate_share and no document count", t.duplicate_share), []
        share = (exact + near) / docs
    crit = Criterion("duplicate_share", share, t.duplicate_share, "share")
    ec, nc = int(sec.get("exact_clusters") or 0), int(sec.get("near_clusters") or 0)
    summary = (f"{_pct(share)} of documents are copies: {exact} exact in {ec} clusters, "
               f"{near} near in {nc} clusters")
    dim = _dimension([crit], summary)
    findings: list[dict] = []
    if crit.score >= LOW:
        largest = (sec.get("largest_clusters") or [None])[0]
        subject = "corpus"
        msg = f"{_pct(share)} of documents are duplicates ({exact} exact copies in {ec} clusters, {near} near copies in {nc} clusters)"
        if isinstance(largest, dict) and largest.get("representative"):
            subject = str(largest["representative"])
            msg += (f"; largest: {largest.get('kind', '?')} cluster of {largest.get('size', '?')} documents "
                    f"around '{subject}'")
        findings.append(_finding("duplicates", crit.score, msg, subject, value=share, threshold=t.duplicate_share))
    return dim, findings


def _peer_text(r: dict, min_docs: float, k: int = 4) -> str:
    """The established competitors of a competition row, most documents first."""
    peers = [p for p in (r.get("peers") or []) if isinstance(p, (list, tuple)) and len(p) == 2
             and (_num(p[1]) or 0) >= min_docs][:k]
    return ", ".join(f"'{c}' {n}" for c, n in peers)


def _salience(sec: dict, t: DebtThresholds) -> tuple[dict, list[dict]]:
    rows = [r for r in (sec.get("competition") or []) if isinstance(r, dict)]
    if "competition" not in sec:
        return _not_measured("no competition table in the salience section (a report of an older curadebt)",
                             t.competition_ratio), []
    rated = []
    for r in rows:
        ratio, docs = _num(r.get("ratio")), _num(r.get("documents"))
        if r.get("status") != "competition" or ratio is None or docs is None or docs < t.competition_min_documents:
            continue
        rated.append((ratio, r))
    rated.sort(key=lambda x: (-x[0], str(x[1].get("token"))))
    value = rated[0][0] if rated else 1.0
    crit = Criterion("competition_ratio", value, t.competition_ratio, "ratio")
    n_debt = sum(1 for ratio, _ in rated if ratio >= t.competition_ratio)
    collocations = sum(1 for r in rows if r.get("status") == "collocation")
    if rated:
        ratio, r = rated[0]
        summary = (f"'{r.get('token')}' is continued by '{r.get('continuation')}' ('{r.get('entity')}') in "
                   f"{int(r.get('documents') or 0)} documents, {_ratio(ratio)}x the median of its "
                   f"{r.get('established_peers')} established competitors; {n_debt} token(s) at or over "
                   f"{_ratio(t.competition_ratio)}x")
    elif rows:
        summary = "no token shared by several established entities"
    else:
        summary = "no entity token in enough documents to compare"
    if collocations:
        summary += f"; {collocations} collocation(s), not a debt"
    dim = _dimension([crit], summary)
    findings = []
    by_excess = sorted(rated, key=lambda x: (-(_num(x[1].get("excess_documents")) or 0.0), str(x[1].get("token"))))
    for ratio, r in by_excess[:MAX_FINDINGS_PER_DIMENSION]:
        score = ratio_score(ratio, t.competition_ratio)
        if score < LOW:
            continue
        token, cont, entity = str(r.get("token")), str(r.get("continuation")), str(r.get("entity"))
        docs, med = int(r.get("documents") or 0), _num(r.get("median_peer_documents")) or 0.0
        tail = ("a model will continue it with '" + cont + "' in contexts about the others" if ratio >= t.competition_ratio
                else f"under the {_ratio(t.competition_ratio)}x debt threshold")
        findings.append(_finding(
            "salience", score,
            f"'{token}' is continued by '{cont}' ('{entity}') in {docs} documents, {_ratio(ratio)}x the median "
            f"({med:g}) of its {r.get('established_peers')} established competitors "
            f"({_peer_text(r, _num(sec.get('min_peer_documents')) or 0)}); about "
            f"{round(docs - med)} documents over parity: {tail}",
            token, entity=entity, continuation=cont, value=ratio, threshold=t.competition_ratio,
            excess_documents=r.get("excess_documents")))
    outliers = [e for e in (sec.get("entities") or []) if isinstance(e, dict) and e.get("outlier")]
    for e in outliers[:3]:
        z = _num(e.get("z"))
        findings.append(_finding(
            "salience", None,
            f"entity '{e.get('entity')}' is frequent: {e.get('mentions')} mentions in {e.get('documents')} "
            f"documents ({_pct(_num(e.get('mention_share')) or 0.0)} of entity mentions"
            + (f", robust z {z:.1f})" if z is not None else ")") + "; frequent alone is not a debt",
            str(e.get("entity"))))
    return dim, findings


def _mixture(sec: dict, t: DebtThresholds) -> tuple[dict, list[dict]]:
    sources = [s for s in (sec.get("sources") or []) if isinstance(s, dict)]
    if len(sources) < 2:
        what = f"one source only ('{sources[0].get('source')}')" if sources else "no sources"
        return _not_measured(f"{what}; give --source-field to measure the mixture",
                             {"top_source_share": t.top_source_share, "source_entropy": t.source_entropy}), []
    sources = sorted(sources, key=lambda s: (-(_num(s.get("token_share")) or 0.0), str(s.get("source"))))
    top = sources[0]
    top_share = _num(sec.get("top_share"))
    if top_share is None:
        top_share = _num(top.get("token_share")) or 0.0
    top_name = str(sec.get("top_source") or top.get("source"))
    # With two sources the larger always holds at least half (50/50 is the balanced mix): there the
    # entropy alone judges the split (0.7 is about 81/19).
    criteria = [Criterion("top_source_share", top_share, t.top_source_share, "share")] if len(sources) > 2 else []
    entropy = _num(sec.get("normalized_entropy"))
    if entropy is None:
        shares = [_num(s.get("token_share")) or 0.0 for s in sources]
        entropy = -sum(p * math.log(p) for p in shares if p > 0) / math.log(len(shares))
    criteria.append(Criterion("source_normalized_entropy", entropy, t.source_entropy, "below"))
    runner = sources[1]
    summary = (f"source '{top_name}' holds {_pct(top_share)} of tokens; next '{runner.get('source')}' "
               f"{_pct(_num(runner.get('token_share')) or 0.0)}; normalised entropy {entropy:.2f} over "
               f"{len(sources)} sources")
    dim = _dimension(criteria, summary)
    findings = []
    score = dim["score"]
    if score >= LOW:
        docs = top.get("documents")
        msg = (f"source '{top_name}' holds {_pct(top_share)} of tokens"
               + (f" ({docs} documents)" if docs is not None else "")
               + f", {len(sources) - 1} other sources share the rest (normalised entropy {entropy:.2f})")
        findings.append(_finding("mixture", score, msg, top_name, value=top_share, threshold=t.top_source_share,
                                 normalized_entropy=entropy))
    return dim, findings


def _item_name(item: dict) -> str:
    for k in ("name", "source", "entity"):
        if item.get(k) is not None:
            return str(item[k])
    return "?"


def _order(sec: dict, mixture: dict | None, t: DebtThresholds) -> tuple[dict, list[dict]]:
    windows = [w for w in (sec.get("windows") or []) if isinstance(w, dict) and _num(w.get("source_tvd")) is not None]
    criteria: list[Criterion] = []
    overall: dict[str, float] = {}
    for s in sec.get("sources") or []:
        if isinstance(s, dict) and _num(s.get("overall_share")) is not None:
            overall[_item_name(s)] = float(s["overall_share"])
    if not overall and mixture:
        overall = {str(s.get("source")): _num(s.get("token_share")) or 0.0 for s in mixture.get("sources") or []
                   if isinstance(s, dict)}
    n_sources = len(overall)
    worst_window = None
    if windows and n_sources >= 2:
        # the window furthest from the whole; ties go to the larger window (more tokens, more weight)
        worst_window = max(windows, key=lambda w: (float(w["source_tvd"]), _num(w.get("fraction")) or 0.0))
        criteria.append(Criterion("max_source_tvd", float(worst_window["source_tvd"]), t.window_tvd, "share"))

    # concentration of sources and entities in the largest window
    items: list[tuple[float, str, str, float, float, str]] = []  # (ratio, kind, name, early, overall, fraction)
    for kind in ("sources", "entities"):
        if kind == "sources" and n_sources < 2:
            continue
        for it in sec.get(kind) or []:
            if not isinstance(it, dict):
                continue
            ov = _num(it.get("overall_share"))
            early = it.get("early_share") or {}
            if ov is None or ov < t.concentration_min_share or not early:
                continue
            frac = max(early, key=lambda k: float(k))
            e = _num(early.get(frac))
            if e is None:
                continue
            if kind == "entities":
                win = next((w for w in sec.get("windows") or [] if isinstance(w, dict)
                            and _num(w.get("fraction")) is not None and abs(float(w["fraction"]) - float(frac)) < 1e-12),
                           None)
                mentions = _num((win or {}).get("entity_mentions"))
                if mentions is not None and e * mentions < t.concentration_min_count:
                    continue
            ratio = e / ov if ov > 0 else 0.0
            items.append((ratio, kind[:-1] if kind == "sources" else "entity", _item_name(it), e, ov, frac))
    items.sort(key=lambda x: (-x[0], x[1], x[2]))
    examined = (n_sources >= 2 and bool(sec.get("sources"))) or bool(sec.get("entities"))
    if items:
        criteria.append(Criterion("max_concentration", items[0][0], t.concentration, "ratio"))
    elif examined:  # items were there, none big enough to judge: nothing concentrated (ratio 1)
        criteria.append(Criterion("max_concentration", 1.0, t.concentration, "ratio"))
    if not criteria:
        return _not_measured("no early windows with a source mix (one source only?) and no entities",
                             {"window_tvd": t.window_tvd, "concentration": t.concentration}), []

    findings: list[dict] = []
    merged: set[str] = set()
    parts = []
    if worst_window is not None:
        shares = {str(k): float(v) for k, v in (worst_window.get("source_shares") or {}).items()}
        tvd = float(worst_window["source_tvd"])
        # the source most over-represented in that window
        src = max(shares, key=lambda s: (shares[s] - overall.get(s, 0.0), s)) if shares else None
        label = _fraction_label(worst_window.get("fraction"))
        if src is not None:
            parts.append(f"first {label} of tokens is {_pct(shares[src])} '{src}' vs {_pct(overall.get(src, 0.0))} "
                         f"overall (TVD {tvd:.2f})")
        score = share_score(tvd, t.window_tvd)
        conc = next((x for x in items if x[1] == "source" and x[2] == src), None)
        if conc is not None:
            score = max(score, ratio_score(conc[0], t.concentration))
            merged.add(src)
        if src is not None and score >= LOW:
            msg = (f"first {label} of tokens is {_pct(shares[src])} '{src}' vs {_pct(overall.get(src, 0.0))} overall "
                   f"(source mix {tvd:.2f} total variation from the whole")
            if conc is not None:
                msg += f"; '{src}' is {_ratio(conc[0])}x concentrated in the first {_fraction_label(conc[5])}"
            findings.append(_finding("order", score, msg + ")", src, value=tvd, threshold=t.window_tvd))
    for ratio, kind, name, e, ov, frac in items:
        if len(findings) >= MAX_FINDINGS_PER_DIMENSION:
            break
        score = ratio_score(ratio, t.concentration)
        if score < LOW:
            break
        if kind == "source" and name in merged:
            continue
        unit = "tokens" if kind == "source" else "entity mentions"
        findings.append(_finding(
            "order", score,
            f"{kind} '{name}' is {_ratio(ratio)}x concentrated early: {_pct(e)} of the {unit} in the first "
            f"{_fraction_label(frac)} of tokens vs {_pct(ov)} overall", name, value=ratio, threshold=t.concentration))
    if items:
        r, kind, name, e, ov, frac = items[0]
        parts.append(f"most concentrated: {kind} '{name}' {_ratio(r)}x in the first {_fraction_label(frac)}")
    dim = _dimension(criteria, "; ".join(parts) or "no early concentration")
    return dim, findings


def _probe_label(probe: dict) -> str:
    pid = str(probe.get("id", ""))
    subject = str(probe.get("subject", ""))
    words = pid.replace("-", " ").replace("_", " ").strip()
    if subject and subject in words:
        return words
    return f"{pid} ({subject})" if subject and pid else (subject or pid or "?")


def _probes(sec: dict, t: DebtThresholds) -> tuple[dict, list[dict]]:
    probes = [p for p in (sec.get("probes") or []) if isinstance(p, dict)]
    if not probes:
        return _not_measured("no probes" + (" in the probe file" if sec else ""), t.dominance_ratio), []
    rated = []
    for p in probes:
        answers = {str(a.get("answer")): a for a in p.get("answers") or [] if isinstance(a, dict)}
        basis = p.get("basis")
        if basis not in ("sentences", "documents"):
            basis = "sentences" if any((a.get("sentences") or 0) > 0 for a in answers.values()) else "documents"
        top, runner = p.get("top_answer"), p.get("runner_up")
        top_n = int((answers.get(str(top)) or {}).get(basis) or 0) if top is not None else 0
        run_n = int((answers.get(str(runner)) or {}).get(basis) or 0) if runner is not None else 0
        ratio = _num(p.get("dominance_ratio"))
        if ratio is None:  # absent or infinite in the source: recompute the smoothed ratio
            ratio = (top_n + 1) / (run_n + 1) if top is not None else 1.0
        rated.append((ratio, p, top, runner, top_n, run_n, basis))
    rated.sort(key=lambda r: (-r[0], str(r[1].get("id"))))
    worst = rated[0]
    crit = Criterion("max_dominance_ratio", worst[0], t.dominance_ratio, "ratio")
    n_debt = sum(1 for r in rated if r[0] >= t.dominance_ratio)
    summary = (f"{n_debt} of {len(rated)} probes at or over {_ratio(t.dominance_ratio)}:1; worst: "
               f"{_probe_label(worst[1])} {_ratio(worst[0])}:1")
    dim = _dimension([crit], summary)
    findings = []
    for ratio, p, top, runner, top_n, run_n, basis in rated[:MAX_FINDINGS_PER_DIMENSION]:
        score = ratio_score(ratio, t.dominance_ratio)
        if score < LOW:
            break
        label = _probe_label(p)
        if runner is not None:
            tail = ("a correction needs more than that" if ratio >= t.dominance_ratio
                    else f"under the {_ratio(t.dominance_ratio)}:1 debt threshold")
            msg = f"{label}: '{top}' outnumbers '{runner}' {top_n}:{run_n} in {basis} (dominance {_ratio(ratio)}:1; {tail})"
        else:
            msg = f"{label}: '{top}' has no rival in the data ({top_n} {basis}, dominance {_ratio(ratio)}:1)"
        findings.append(_finding("probes", score, msg, str(p.get("subject", p.get("id"))), probe=p.get("id"),
                                 value=ratio, threshold=t.dominance_ratio))
    return dim, findings


def _frequency(sec: dict, t: DebtThresholds) -> tuple[dict, list[dict]]:
    ngrams = sec.get("ngrams") or {}
    for n in sorted(t.top100_coverage, key=lambda k: -int(k)):
        st = ngrams.get(n)
        if not isinstance(st, dict):
            continue
        total = _num(st.get("total")) or 0
        cov = _num((st.get("top_coverage") or {}).get("100"))
        if cov is None:
            continue
        if total < t.frequency_min_ngrams:
            return _not_measured(f"only {int(total)} {n}-grams (fewer than {t.frequency_min_ngrams}: the top-100 "
                                 "coverage would mostly reflect corpus size)", t.top100_coverage[n]), []
        thr = t.top100_coverage[n]
        crit = Criterion(f"top100_coverage_{n}gram", cov, thr, "share")
        top = [x for x in (st.get("top") or [])[:3] if isinstance(x, (list, tuple)) and len(x) == 2]
        top_txt = ", ".join(f"'{g}' ({c})" for g, c in top)
        summary = f"the 100 most frequent {n}-grams cover {_pct(cov)} of all {n}-grams (threshold {_pct(thr)})"
        dim = _dimension([crit], summary)
        findings = []
        if crit.score >= LOW:
            findings.append(_finding(
                "frequency", crit.score,
                f"the 100 most frequent {n}-grams cover {_pct(cov)} of all {int(total)} {n}-grams "
                f"(natural prose: well under {_pct(thr)}); repeated phrasing"
                + (f", led by {top_txt}" if top_txt else ""), f"{n}-grams", value=cov, threshold=thr))
        return dim, findings
    return _not_measured("no n-gram coverage in the frequency section", dict(t.top100_coverage)), []


# ---------------------------------------------------------------------------------------------

def compute_debt(sections: dict[str, Any], thresholds: DebtThresholds | None = None) -> DebtResult:
    """Score the report's sections (see the module docstring and docs/debt.md)."""
    t = thresholds or DebtThresholds()
    sections = sections or {}
    get = {name: _plain(sections.get(name)) for name in DIMENSIONS + ("corpus",)}
    dims: dict[str, dict[str, Any]] = {}
    findings: list[dict] = []

    def run(name: str, fn, *args) -> None:
        sec = get[name]
        if not isinstance(sec, dict):
            dims[name] = _not_measured(f"no {name} section in the report")
            return
        dim, found = fn(sec, *args)
        dims[name] = dim
        findings.extend(found)

    run("duplicates", _duplicates, get["corpus"], t)
    run("salience", _salience, t)
    run("mixture", _mixture, t)
    run("order", _order, get["mixture"] if isinstance(get["mixture"], dict) else None, t)
    run("probes", _probes, t)
    run("frequency", _frequency, t)

    measured = [n for n in DIMENSIONS if dims[n]["score"] is not None]
    overall = sum(dims[n]["score"] for n in measured) / len(measured) if measured else None
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (rank[f["severity"]], -(f["score"] if f["score"] is not None else -1.0),
                                 DIMENSIONS.index(f["dimension"]), f["subject"], f["message"]))
    return DebtResult(overall=overall, dimensions=dims, findings=findings, measured=measured,
                      thresholds=dataclasses.asdict(t))
