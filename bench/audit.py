"""Audit throughput and peak memory on a large corpus, next to tokenisation alone (the ceiling).

    python bench/audit.py --mb 200

Each configuration runs in a fresh subprocess so peak RSS is its own. Prints a table.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_big_corpus  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from curadebt.corpus import iter_batches, ReaderConfig
mode, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "read+tokenize":
    n_tok = n_doc = 0
    for b in iter_batches(path, ReaderConfig(source_field="source")):
        n_doc += len(b); n_tok += sum(map(len, b.tokens))
else:
    import curadebt
    opts = {"max_n": 1} if mode == "audit (unigrams)" else {}
    r = curadebt.audit(path, source_field="source", **opts)
    n_tok, n_doc = r.corpus["tokens"], r.corpus["documents_audited"]
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "cpu_seconds": ru.ru_utime + ru.ru_stime, "tokens": n_tok, "docs": n_doc,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=200, help="corpus size in MB (default 200)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    path = make_big_corpus(args.mb, args.out / f"big-{int(args.mb)}mb.jsonl")
    size_mb = path.stat().st_size / 1e6
    rows = []
    for mode in ("read+tokenize", "audit (unigrams)", "audit (default, n<=3)"):
        res = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True,
                             env={"CURADEBT_NO_PROGRESS": "1", **__import__("os").environ})
        if res.returncode:
            print(res.stderr[-2000:])
            raise SystemExit(f"{mode} failed")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((mode, r))
    ceiling = rows[0][1]["cpu_seconds"]  # CPU time: fairer than wall time on a shared machine
    print(f"\ncorpus: {path.name}  {size_mb:.0f} MB  {rows[0][1]['docs']:,} docs  {rows[0][1]['tokens']:,} tokens\n")
    print(f"| {'configuration':24} | {'seconds':>8} | {'CPU s':>7} | {'MB/s':>6} | {'tokens/s':>10} | {'peak RSS MB':>11} "
          f"| {'CPU vs tok.':>11} |")
    print(f"|{'-'*26}|{'-'*10}|{'-'*9}|{'-'*8}|{'-'*12}|{'-'*13}|{'-'*13}|")
    for mode, r in rows:
        print(f"| {mode:24} | {r['seconds']:8.1f} | {r['cpu_seconds']:7.1f} | {size_mb / r['seconds']:6.2f} | {r['tokens'] / r['seconds']:10,.0f} "
              f"| {r['peak_mb']:11.0f} | {ceiling / r['cpu_seconds']:10.2f}x |")


if __name__ == "__main__":
    main()
