"""How an audit's cost grows with the corpus and the workers: seconds, CPU seconds and peak memory
of ``curadebt.audit`` on corpora of several sizes (bench/_corpus.py: ../shared/data/mixed repeated
with 3% of each document's words changed per repetition), one process and ``--workers 2``.

    python bench/scaling.py                       # 25, 50, 100, 200 MB x workers 1, 2
    python bench/scaling.py --mb 25,50 --workers 1,2 --plot bench/out/scaling.png

Every run is its own subprocess (bench/_measure.py: peak memory of the process and its workers);
the sizes are run one after the other, the worker counts interleaved. Prints a Markdown table with
the throughput and the speed-up of 2 workers over one process at each size, and draws the plot.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _corpus import make_big_corpus  # noqa: E402
from _measure import print_table, run_worker  # noqa: E402

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from _measure import Meter

def main():
    import curadebt
    with Meter() as m:
        r = curadebt.audit(sys.argv[2], source_field="source", workers=int(sys.argv[3]))
    print(json.dumps({**m.result(), "documents": r.corpus["documents_audited"], "tokens": r.corpus["tokens"]}))

if __name__ == "__main__":
    main()
"""


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for w in sorted({r["workers"] for r in rows}):
        pts = sorted((r["mb"], r["seconds"], r["peak_mb"]) for r in rows if r["workers"] == w)
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{w} worker(s)" if w > 1 else "one process")
        axes[1].plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=f"{w} worker(s)" if w > 1 else "one process")
    axes[0].set_ylabel("audit seconds (wall)")
    axes[1].set_ylabel("peak memory, MB (all processes)")
    for ax in axes:
        ax.set_xlabel("corpus MB (JSONL)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", default="25,50,100,200", help="corpus sizes in MB (default 25,50,100,200)")
    ap.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--plot", type=Path, default=None, help="write the plot here (default OUT/scaling.png)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    script = args.out / "_scaling_child.py"
    script.write_text(CHILD)
    results = []
    for mb in (float(x) for x in args.mb.split(",")):
        path = make_big_corpus(mb, args.out / f"big-{int(mb)}mb.jsonl")
        size = path.stat().st_size / 1e6
        for w in (int(x) for x in args.workers.split(",")):
            res, err = run_worker([sys.executable, str(script), str(HERE), str(path), str(w)])
            if res is None:
                print(f"{mb:g} MB x{w} failed:\n{err}")
                continue
            results.append({"mb": size, "workers": w, **res})
            print(f"{size:.0f} MB x{w}: {res['seconds']:.1f} s", flush=True)
    rows = []
    for r in results:
        one = next((o for o in results if o["mb"] == r["mb"] and o["workers"] == 1), None)
        rows.append([f"{r['mb']:.0f}", f"{r['documents']:,}", f"{r['tokens'] / 1e6:.1f}", str(r["workers"]),
                     f"{r['seconds']:.1f}", f"{r['cpu_seconds']:.1f}", f"{r['mb'] / r['seconds']:.1f}",
                     f"{r['peak_mb']:,.0f}", f"{one['seconds'] / r['seconds']:.2f}x" if one else "-"])
    print()
    print_table(["MB", "documents", "M tokens", "workers", "seconds", "CPU s", "MB/s", "peak MB", "vs one process"],
                rows, title="Audit cost by corpus size and workers")
    out = args.plot or args.out / "scaling.png"
    plot(results, out)
    print(f"\nplot: {out}")


if __name__ == "__main__":
    main()
