"""What the commands print after a run: the audit's and curate's console summaries.

Everything from the data (entity names, sources, paths, messages) goes through
:func:`curadebt.report.console.data`, so rich markup in a corpus is printed as it is, never interpreted.
"""
from __future__ import annotations

from pathlib import Path

from rich.table import Table

from curadebt.report.console import console, data


def print_audit_summary(report, out: Path | None) -> None:
    c = report.corpus
    console.print(f"[bold]documents_read[/] {c['documents_read']:,} = audited {c['documents_audited']:,} "
                  f"+ quarantined {c['documents_quarantined']:,}   tokens {c['tokens']:,}   "
                  f"({report.seconds:.1f} s)")
    if c["quarantine_reasons"]:
        console.print("quarantined: " + ", ".join(f"{data(k)} {v}" for k, v in c["quarantine_reasons"].items()))
    if c.get("decoded_with_fallback"):
        console.print(f"decoded with a fallback encoding (flagged, kept): {c['decoded_with_fallback']}")
    print_skipped(c.get("skipped_paths") or [])
    for w in c.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {data(w)}", highlight=False)
    debt = report.to_json()["debt"] or {}
    table = Table(title=f"curation debt (overall {debt.get('overall', 0) or 0:.2f})", show_lines=False)
    for col in ("dimension", "score", "debt?", "summary"):
        table.add_column(col)
    for name, d in (debt.get("dimensions") or {}).items():
        score = d.get("score")
        table.add_row(name, "-" if score is None else f"{score:.2f}", "[red]DEBT[/]" if d.get("is_debt") else "ok",
                      data(d.get("summary", "")))
    console.print(table)
    for f in (debt.get("findings") or [])[:15]:
        console.print(f"  [{'red' if f.get('severity') == 'high' else 'yellow'}]{data(f.get('severity', ''))}[/] "
                      f"{data(f.get('dimension'))}: {data(f.get('message'))}", highlight=False)
    if out is not None:
        console.print(f"report: {data(out / 'report.json')}  {data(out / 'report.html')}  "
                      f"quarantine: {data(out / 'quarantine.jsonl')}", highlight=False)


def print_skipped(skipped: list[dict], shown: int = 5) -> None:
    """Say which paths under the input folders were not read, and why (never silently)."""
    if not skipped:
        return
    from collections import Counter

    by = Counter(s["reason"] for s in skipped)
    console.print(f"[yellow]skipped {len(skipped)} path(s)[/] (" + ", ".join(f"{data(k)} {v}" for k, v in sorted(by.items()))
                  + "): " + ", ".join(data(s["path"]) for s in skipped[:shown]) + (" ..." if len(skipped) > shown else "")
                  + "  (listed in report.json corpus.skipped_paths)", highlight=False)


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, dict):  # several thresholds
        return ", ".join(f"{str(k).replace('_', ' ')} {_fmt(v)}" for k, v in x.items())
    return data(x)


def print_curate_summary(result) -> None:
    r = result.reconciliation
    console.print(f"[bold]read {r['read']:,} = kept {r['kept']:,} + dropped {r['dropped']:,} + quarantined "
                  f"{r['quarantined']:,}[/]  ({'ok' if r['ok'] else 'MISMATCH'})   output {r['output_documents']:,} "
                  f"documents (copies counted), tokens {r['tokens_before']:,} -> {r['tokens_after']:,}   "
                  f"({result.seconds.get('total', 0):.1f} s)", highlight=False)
    print_skipped((result.before.get("corpus") or {}).get("skipped_paths") or [])
    ops = Table(title="operations", show_lines=False)
    for col in ("op", "ran", "docs in", "docs out", "dropped", "up-sampled", "tokens in", "tokens out", "note"):
        ops.add_column(col)
    for o in result.operations:
        ops.add_row(data(o.op), "yes" if o.ran else "no", f"{o.documents_in:,}", f"{o.documents_out:,}", f"{o.dropped:,}",
                    f"{o.upsampled:,}", f"{o.tokens_in:,}", f"{o.tokens_out:,}", data(o.note))
    console.print(ops)
    debt = Table(title="debt: before -> after")
    for col in ("dimension", "metric", "threshold", "before", "after", "score"):
        debt.add_column(col)
    for name, d in result.comparison["dimensions"].items():
        b, a = d["before"], d["after"]
        debt.add_row(data(name), data(d.get("metric") or ""), _fmt(d.get("threshold")),
                     _fmt(b["value"]) + (" [red]DEBT[/]" if b.get("is_debt") else ""),
                     _fmt(a["value"]) + (" [red]DEBT[/]" if a.get("is_debt") else ""),
                     f"{_fmt(b['score'])} -> {_fmt(a['score'])}")
    console.print(debt)
    shown: dict[str, int] = {}
    for e in (result.report.get("curate") or {}).get("dropped_examples") or []:
        if e["op"] in ("exact_dedup",) or shown.get(e["op"], 0) >= 2:
            continue  # exact copies explain themselves; two examples per op are enough here
        if not shown:
            console.print("[bold]dropped, for example[/] (more in report.html, every one in the ledger):")
        shown[e["op"]] = shown.get(e["op"], 0) + 1
        console.print(f"  {data(e['op'])} {data(e['id'])} ({e['tokens']:,} tokens): \"{data(e.get('preview') or '')}\" "
                      f"[dim]{data(e['reason'])}[/]", highlight=False)
    out = result.out
    console.print(f"corpus: {data(out / 'data')}/  ledger: {data(out / 'ledger.parquet')}  report: "
                  f"{data(out / 'report.json')}  {data(out / 'report.html')}  input audit: {data(out / 'before')}/",
                  highlight=False)
