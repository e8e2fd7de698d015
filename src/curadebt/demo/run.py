"""`curadebt demo`: generate the planted-debt world, audit it, and check every planted debt is named."""
from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console


def run_demo(out: str | Path, seed: int = 0, progress: bool = True, console: Console | None = None) -> bool:
    from curadebt.core.config import build
    from curadebt.measures.runner import AuditConfig, audit
    from curadebt.demo.verify import verify_report
    from curadebt.worlds.demo import generate_world

    out = Path(out)
    t0 = time.perf_counter()
    manifest = generate_world(out / "world", seed=seed)
    if console:
        console.print(f"generated {manifest.n_docs:,} documents with planted debts in {manifest.corpus_path}")
    cfg = build(AuditConfig, source_field="source", id_field="id", probes=str(manifest.probes_path), seed=seed)
    report = audit(str(manifest.corpus_path), out / "report", cfg, progress=progress)
    checks = verify_report(report.to_json(), manifest)
    if console:
        from curadebt.report.summary import print_audit_summary

        print_audit_summary(report, out / "report")
        console.print("\n[bold]planted debts vs the report[/]")
        for c in checks:
            console.print(c.line(), markup=False, highlight=False)
        ok = sum(c.ok for c in checks)
        console.print(f"\n{ok}/{len(checks)} checks passed in {time.perf_counter() - t0:.1f} s; "
                      f"open {out / 'report' / 'report.html'} in a browser")
    return all(c.ok for c in checks)
