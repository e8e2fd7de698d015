"""Audit throughput on each engine: local with 1 and 2 worker processes, and Ray (local instance).

    python bench/engines.py --mb 50

Every configuration runs in a fresh subprocess on the same corpus and must give the same report
(checked: the report.json bytes minus the config section are compared). Prints a table.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_big_corpus  # noqa: E402

CHILD = r"""
import hashlib, json, resource, sys, time
engine, workers, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import curadebt
t = time.perf_counter()
r = curadebt.audit(path, source_field="source", engine=engine, workers=workers)
dt = time.perf_counter() - t
d = r.to_json(); d.pop("config")
print(json.dumps({"seconds": dt, "docs": r.corpus["documents_audited"], "tokens": r.corpus["tokens"],
                  "digest": hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CONFIGS = [("local", 1), ("local", 2), ("ray", 2)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50, help="corpus size in MB (default 50)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    path = make_big_corpus(args.mb, args.out / f"big-{int(args.mb)}mb.jsonl")
    size_mb = path.stat().st_size / 1e6
    env = {**os.environ, "CURADEBT_NO_PROGRESS": "1"}
    rows = []
    for engine, workers in CONFIGS:
        res = subprocess.run([sys.executable, "-c", CHILD, engine, str(workers), str(path)], capture_output=True,
                             text=True, env=env)
        if res.returncode:
            print(f"{engine} x{workers} failed:\n{res.stderr[-3000:]}")
            continue
        rows.append((f"{engine} x{workers}", json.loads(res.stdout.strip().splitlines()[-1])))
    base = rows[0][1]["seconds"]
    print(f"\ncorpus: {path.name}  {size_mb:.0f} MB, {rows[0][1]['docs']:,} docs, {rows[0][1]['tokens']:,} tokens; "
          f"{os.cpu_count()} CPUs\n")
    print(f"| {'engine':10} | {'seconds':>8} | {'MB/s':>6} | {'docs/s':>8} | {'speed-up':>8} | {'driver peak MB':>14} | report digest |")
    print(f"|{'-'*12}|{'-'*10}|{'-'*8}|{'-'*10}|{'-'*10}|{'-'*16}|{'-'*15}|")
    for name, r in rows:
        print(f"| {name:10} | {r['seconds']:8.1f} | {size_mb / r['seconds']:6.2f} | {r['docs'] / r['seconds']:8,.0f} | "
              f"{base / r['seconds']:7.2f}x | {r['peak_mb']:14.0f} | {r['digest']} |")
    digests = {r["digest"] for _, r in rows}
    print("\nreports identical across engines:", "yes" if len(digests) == 1 else f"NO ({digests})")


if __name__ == "__main__":
    main()
