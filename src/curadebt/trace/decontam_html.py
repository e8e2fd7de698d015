"""The decontamination report as an offline page (every text from the data escaped)."""
from __future__ import annotations

from typing import Any

from curadebt.report import htmlkit as hk
from curadebt.report.html import render_page

ITEMS_SHOWN = 200


def render_decontam_html(report: dict[str, Any]) -> str:
    cfg = report["config"]
    sections = [("Evaluation sets", _summary(report))]
    for ev in report["evals"]:
        sections.append((f"{ev['name']}: contaminated items", _items(ev)))
    meta = (f"{cfg['n']}-token overlaps against an index of {report['index']['documents']:,} documents, "
            f"{report['index']['tokens']:,} tokens ({report['index']['tokenizer']})")
    return render_page("curadebt decontaminate", sections, meta=meta)


def _summary(report: dict[str, Any]) -> str:
    rows = [[ev["name"], hk.cell(ev["items"], hk.num), hk.cell(ev["checked"], hk.num),
             hk.cell(ev["too_short"], hk.num), hk.cell(ev["contaminated"], hk.num),
             hk.cell(ev["contaminated_share"], hk.pct), hk.cell(ev["documents"], hk.num)] for ev in report["evals"]]
    tiles = hk.tiles([("contaminated training documents", hk.num(report["contaminated_documents"])),
                      ("evaluation sets", hk.num(len(report["evals"])))])
    return tiles + hk.table(["evaluation set", "items", "checked", "too short", "contaminated", "share",
                             "training documents"], rows)


def _items(ev: dict[str, Any]) -> str:
    rows = []
    for h in ev["hits"][:ITEMS_SHOWN]:
        for s in h["spans"]:
            docs = ", ".join(s["documents"][:5]) + (" ..." if s["n_documents"] > 5 else "")
            rows.append([h["id"], s["text"], hk.cell(s["tokens"], hk.num), hk.cell(s["count"], hk.num),
                         hk.cell(s["n_documents"], hk.num), docs])
    out = hk.table(["item", "overlapping span", "tokens", "occurrences", "documents", "first documents"], rows)
    if len(ev["hits"]) > ITEMS_SHOWN:
        out += f'<p class="note">the first {ITEMS_SHOWN:,} of {len(ev["hits"]):,} contaminated items (all in report.json)</p>'
    return out
