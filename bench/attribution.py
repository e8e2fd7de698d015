"""Attribution on a synthetic world with known sources: TracIn (exact, cosine, projected) against
BM25 and exact n-gram match (the token index). See curadebt.trace.attribution_eval.

    python bench/attribution.py                       # 3 seeds: 6.6 minutes, 1.7 GB on a busy 2-core box
    python bench/attribution.py --seeds 5 --jobs 2    # the run reported in docs/results.md

Prints a table (mean over seeds and 95% t-interval, the difference to BM25 paired by seed, and the
ratio to BM25), the model's accuracy on the held-out queries, and timings; --json writes everything.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from curadebt.trace.attribution_eval import METHODS, EvalConfig, evaluate, t_interval  # noqa: E402


def fmt(ci: tuple[float, float, float]) -> str:
    m, lo, hi = ci
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def table(res, subset: str, k: int) -> list[str]:
    summ = res.summary(subset)
    paired = res.paired("bm25")
    key = f"recall@{k}"
    bm = summ["bm25"]
    lines = [f"| method | recall@{k} [95% CI] | MRR [95% CI] | recall@{k} - BM25 | MRR - BM25 | MRR / BM25 |",
             "|---|---|---|---|---|---|"]
    for name in METHODS:
        if not summ.get(name):
            continue
        r, m = summ[name][key], summ[name]["mrr"]
        if name == "bm25":
            d1 = d2 = "-"
        elif subset == "all":
            d1, d2 = fmt(paired[name][key]), fmt(paired[name]["mrr"])
        else:
            d1 = d2 = "(see all)"
        ratio = m[0] / bm["mrr"][0] if bm and bm["mrr"][0] else float("nan")
        lines.append(f"| {name} | {fmt(r)} | {fmt(m)} | {d1} | {d2} | {ratio:.2f} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (worlds and models), 0..N-1 (default 3)")
    ap.add_argument("--people", type=int, default=40, help="people in each world (4 facts each; default 40)")
    ap.add_argument("--epochs", type=int, default=30, help="SGD epochs (default 30)")
    ap.add_argument("--checkpoints", type=int, default=5, help="checkpoints for TracIn (default 5)")
    ap.add_argument("--proj-dim", type=int, default=512, help="Rademacher projection size (default 512)")
    ap.add_argument("--sketch-dim", type=int, default=4096, help="CountSketch size (default 4096)")
    ap.add_argument("--jobs", type=int, default=1, help="seeds run in this many processes (default 1)")
    ap.add_argument("--json", type=Path, help="write all numbers here")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch log")
    a = ap.parse_args()
    if a.seeds < 1:
        ap.error("--seeds must be >= 1")
    cfg = EvalConfig(seeds=tuple(range(a.seeds)), n_people=a.people, epochs=a.epochs, checkpoints=a.checkpoints,
                     proj_dim=a.proj_dim, sketch_dim=a.sketch_dim)
    t0 = time.perf_counter()
    log = (lambda s: None) if a.quiet else (lambda s: print(f"[{time.perf_counter() - t0:6.0f}s] {s}",
                                                            file=sys.stderr, flush=True))
    res = evaluate(cfg, log=log, jobs=a.jobs)
    wall = time.perf_counter() - t0
    s0 = res.seeds[0]
    print(f"\nworld: {s0.world['documents']} documents ({s0.world['bio_documents']} biographies, "
          f"{s0.world['city_documents']} city distractors), {s0.world['facts']} facts with 1-3 source documents; "
          f"tiny GPT-2 with {s0.parameters:,} parameters, SGD {cfg.epochs} epochs, {cfg.checkpoints} checkpoints; "
          f"{len(res.seeds)} seeds; {wall:.0f} s wall")
    acc = t_interval([s.accuracy for s in res.seeds])
    print(f"model accuracy on the held-out paraphrase queries (top candidate among the relation's objects): "
          f"{fmt(acc)}; per seed {[round(s.accuracy, 3) for s in res.seeds]}; final train loss "
          f"{[round(s.final_loss, 3) for s in res.seeds]}")
    print("\nAll facts:")
    print("\n".join(table(res, "all", cfg.k)))
    print("\nFacts the model answers correctly:")
    print("\n".join(table(res, "correct", cfg.k)))
    print(f"\nwhat the non-source documents in each method's top {cfg.k} are (mean over seeds):")
    print("| method | same subject (the person's other biographies) | same object only | neither |")
    print("|---|---|---|---|")
    for name in METHODS:
        c = {key: sum(s.confusions[name][key] for s in res.seeds) / len(res.seeds)
             for key in ("same_subject", "same_object_only", "neither")}
        print(f"| {name} | {c['same_subject']:.3f} | {c['same_object_only']:.3f} | {c['neither']:.3f} |")
    print("\nper seed (recall@10 / MRR):")
    for s in res.seeds:
        print(f"  seed {s.seed}: " + ", ".join(f"{m} {s.metrics[m][f'recall@{cfg.k}']:.3f}/{s.metrics[m]['mrr']:.3f}"
                                            for m in METHODS) + f"; seconds {s.seconds}")
    if a.json:
        data = res.to_json()
        data["wall_seconds"] = wall
        fd, tmp = tempfile.mkstemp(dir=a.json.parent, prefix=f".{a.json.name}.")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
