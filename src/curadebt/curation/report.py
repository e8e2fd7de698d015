"""The before/after report of a curate run: each debt dimension before -> after, what every op did,
the reconciliation, and the mix and early-window numbers; as a dict (report.json's ``curate`` key)
and as an HTML section for :func:`curadebt.report.html.render_report_html`."""
from __future__ import annotations

import dataclasses
from html import escape
from typing import Any

from curadebt.measures.debt import dimensions


def _dim(report: dict, name: str) -> dict:
    return ((report.get("debt") or {}).get("dimensions") or {}).get(name) or {}


def compare_debt(before: dict, after: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in dimensions():
        b, a = _dim(before, name), _dim(after, name)
        bv, av = b.get("value"), a.get("value")
        bs, as_ = b.get("score"), a.get("score")
        row = {
            "before": {"value": bv, "score": bs, "is_debt": b.get("is_debt"), "summary": b.get("summary")},
            "after": {"value": av, "score": as_, "is_debt": a.get("is_debt"), "summary": a.get("summary")},
            "metric": b.get("metric") or a.get("metric"),
            "threshold": b.get("threshold") if b.get("threshold") is not None else a.get("threshold"),
        }
        if bs is not None and as_ is not None:
            row["score_change"] = as_ - bs
            row["lowered"] = as_ < bs or (as_ == bs == 0)
        else:
            row["score_change"] = None
            row["lowered"] = None
        row["was_debt"] = bool(b.get("is_debt"))
        row["paid"] = bool(b.get("is_debt")) and a.get("is_debt") is False
        out[name] = row
    overall_b = (before.get("debt") or {}).get("overall")
    overall_a = (after.get("debt") or {}).get("overall")
    return {"dimensions": out, "overall": {"before": overall_b, "after": overall_a},
            "flagged_before": [n for n in dimensions() if _dim(before, n).get("is_debt")],
            "flagged_after": [n for n in dimensions() if _dim(after, n).get("is_debt")]}


def _mix(report: dict) -> dict[str, float]:
    return {str(s.get("source")): s.get("token_share") for s in (report.get("mixture") or {}).get("sources") or []}


def _windows(report: dict) -> list[dict]:
    return [{"fraction": w.get("fraction"), "source_tvd": w.get("source_tvd"), "documents": w.get("documents"),
             "source_shares": w.get("source_shares")} for w in (report.get("order") or {}).get("windows") or []]


def curate_section(before: dict, after: dict, recipe: dict, config: dict, reconciliation: dict,
                   operations: list, outputs: dict) -> dict[str, Any]:
    return {
        "recipe": recipe,
        "config": config,
        "reconciliation": reconciliation,
        "operations": [dataclasses.asdict(o) if dataclasses.is_dataclass(o) else o for o in operations],
        "debt": compare_debt(before, after),
        "mixture": {"before": _mix(before), "after": _mix(after)},
        "order": {"before": _windows(before), "after": _windows(after)},
        "outputs": outputs,
        "before_corpus": before.get("corpus"),
    }


# --------------------------------------------------------------------------------------------
# HTML


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}"
    if isinstance(x, dict):  # several thresholds
        return ", ".join(f"{escape(str(k).replace('_', ' '))} {_f(v, digits)}" for k, v in x.items())
    return escape(str(x))


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}%"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{escape(c)}</th>" for c in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="curate"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'


def curate_html(section: dict[str, Any]) -> str:
    """The before/after section (escaped text only, no scripts, no remote URLs)."""
    rec = section["reconciliation"]
    ok = rec.get("ok")
    out = [f'<p class="recon {"ok" if ok else "bad"}">read = kept + dropped + quarantined: '
           f'{rec["read"]:,} = {rec["kept"]:,} + {rec["dropped"]:,} + {rec["quarantined"]:,}'
           f'{"" if ok else " (MISMATCH)"}; output documents (copies counted) {rec["output_documents"]:,}, '
           f'tokens {rec["tokens_before"]:,} &rarr; {rec["tokens_after"]:,}</p>']
    debt = section["debt"]
    rows = []
    for name, d in debt["dimensions"].items():
        b, a = d["before"], d["after"]
        change = d.get("score_change")
        mark = "paid" if d.get("paid") else ("lower" if d.get("lowered") and (change or 0) < 0 else
                                             ("–" if change is None else ("same" if change == 0 else "higher")))
        rows.append([escape(name), escape(str(d.get("metric") or "")), _f(d.get("threshold")),
                     _f(b["value"]) + (" <b>DEBT</b>" if b.get("is_debt") else ""),
                     _f(a["value"]) + (" <b>DEBT</b>" if a.get("is_debt") else ""),
                     f"{_f(b['score'], 2)} &rarr; {_f(a['score'], 2)}", escape(mark)])
    ov = debt["overall"]
    out.append("<h3>Debt, before &rarr; after</h3>")
    out.append(_table(["dimension", "metric", "threshold", "before", "after", "score", "change"], rows))
    out.append(f'<p class="note">overall debt {_f(ov.get("before"), 2)} &rarr; {_f(ov.get("after"), 2)}</p>')
    ops = []
    for o in section["operations"]:
        ops.append([escape(o["op"]), "yes" if o["ran"] else "no", _f(o["documents_in"]), _f(o["documents_out"]),
                    _f(o["dropped"]), _f(o["upsampled"]), _f(o["downsampled"]), _f(o["tokens_in"]),
                    _f(o["tokens_out"]), escape(o.get("note") or "")])
    out.append("<h3>Operations</h3>")
    out.append(_table(["op", "ran", "docs in", "docs out", "dropped", "up-sampled", "down-sampled", "tokens in",
                       "tokens out", "note"], ops))
    ex = section.get("dropped_examples") or []
    if ex:
        out.append("<h3>What was dropped (the first documents of each op)</h3>")
        out.append(_table(["op", "id", "tokens", "why", "text"],
                          [[escape(e["op"]), escape(e["id"]), _f(e["tokens"]), escape(e["reason"]),
                            escape(e.get("preview") or "")] for e in ex]))
    mb, ma = section["mixture"]["before"], section["mixture"]["after"]
    if mb or ma:
        srcs = sorted(set(mb) | set(ma))
        out.append("<h3>Source mix (token share)</h3>")
        out.append(_table(["source", "before", "after"], [[escape(s), _pct(mb.get(s)), _pct(ma.get(s))] for s in srcs]))
    wb, wa = section["order"]["before"], section["order"]["after"]
    if wb or wa:
        rows = []
        for i in range(max(len(wb), len(wa))):
            b = wb[i] if i < len(wb) else {}
            a = wa[i] if i < len(wa) else {}
            rows.append([_pct(b.get("fraction") or a.get("fraction")), _f(b.get("source_tvd")), _f(a.get("source_tvd"))])
        out.append("<h3>Early windows: source mix distance from the whole (TVD)</h3>")
        out.append(_table(["first", "before", "after"], rows))
    return "".join(out)
