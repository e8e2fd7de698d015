"""Curate throughput and peak memory on a large corpus, next to its peers in the same run: reading +
tokenising (the floor of any pass) and one audit (curate runs two audits plus its own passes).

    python bench/curate.py --mb 200        # the issue's size; default 50

The corpus is ../shared/data/mixed/corpus.jsonl repeated with ~3% of the words perturbed per copy
(bench/_corpus.py), so near duplicates abound. Each configuration runs in a fresh subprocess, so its
peak RSS is its own. Prints a table (wall and CPU seconds, throughput per CPU second, the ratio to
read+tokenize in the same run, peak RSS) and curate's phases, ops and debt before -> after.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_big_corpus  # noqa: E402

CHILD = r"""
import json, resource, sys, time
mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
extra = {}
if mode == "read+tokenize":
    from curadebt.corpus import iter_batches, ReaderConfig
    n_tok = n_doc = 0
    for b in iter_batches(path, ReaderConfig(source_field="source")):
        n_doc += len(b); n_tok += sum(map(len, b.tokens))
elif mode == "audit":
    import curadebt
    r = curadebt.audit(path, source_field="source")
    n_tok, n_doc = r.corpus["tokens"], r.corpus["documents_audited"]
else:
    from curadebt.curation.runner import curate
    r = curate(path, out, source_field="source")
    n_tok, n_doc = r.reconciliation["tokens_before"], r.reconciliation["read"]
    extra = {"phases": r.seconds, "reconciliation": r.reconciliation,
             "ops": [(o.op, o.ran, o.dropped, o.tokens_in, o.tokens_out) for o in r.operations],
             "debt": {k: (v["before"]["value"], v["after"]["value"], v["before"]["is_debt"], v["after"]["is_debt"])
                      for k, v in r.comparison["dimensions"].items()}}
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "cpu_seconds": ru.ru_utime + ru.ru_stime, "tokens": n_tok, "docs": n_doc,
                  "peak_mb": ru.ru_maxrss / 1024, **extra}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50, help="corpus size in MB (default 50; the issue asks for >= 200)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--modes", default="read+tokenize,audit,curate", help="comma-separated subset to run")
    ap.add_argument("--edit-rate", type=float, default=0.03,
                    help="share of words perturbed per repetition (default 0.03: the repetitions are near duplicates "
                         "and near_dedup removes most of them; 0.5: few near duplicates, the output is about the input)")
    args = ap.parse_args()
    suffix = "" if args.edit_rate == 0.03 else f"-e{int(round(args.edit_rate * 100))}"
    path = make_big_corpus(args.mb, args.out / f"big-{int(args.mb)}mb{suffix}.jsonl", edit_rate=args.edit_rate)
    size_mb = path.stat().st_size / 1e6
    cur_out = args.out / f"curated-{int(args.mb)}mb"
    rows = []
    for mode in args.modes.split(","):
        shutil.rmtree(cur_out, ignore_errors=True)
        res = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(cur_out)], capture_output=True,
                             text=True, env={**os.environ, "CURADEBT_NO_PROGRESS": "1"})
        if res.returncode:
            print(res.stderr[-3000:])
            raise SystemExit(f"{mode} failed")
        rows.append((mode, json.loads(res.stdout.strip().splitlines()[-1])))
    first = rows[0][1]
    print(f"\ncorpus: {path.name}  {size_mb:.0f} MB  {first['docs']:,} docs  {first['tokens']:,} tokens  "
          f"(edit rate {args.edit_rate:g})\n")
    # CPU seconds are the fair measure on a shared machine (wall time waits for other processes)
    print(f"| {'configuration':16} | {'wall s':>7} | {'CPU s':>7} | {'MB/CPU-s':>8} | {'tokens/CPU-s':>12} "
          f"| {'x read CPU':>10} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 18}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 14}|{'-' * 12}|{'-' * 13}|")
    ref = dict(rows).get("read+tokenize")
    for mode, r in rows:
        cpu = r["cpu_seconds"]
        ratio = f"{cpu / ref['cpu_seconds']:10.2f}" if ref else f"{'-':>10}"
        print(f"| {mode:16} | {r['seconds']:7.1f} | {cpu:7.1f} | {size_mb / cpu:8.2f} | {r['tokens'] / cpu:12,.0f} "
              f"| {ratio} | {r['peak_mb']:11.0f} |")
    cur = dict(rows).get("curate")
    if cur:
        ph = cur["phases"]
        print("\ncurate phases (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in ph.items()))
        rc = cur["reconciliation"]
        print(f"read {rc['read']:,} = kept {rc['kept']:,} + dropped {rc['dropped']:,} + quarantined {rc['quarantined']:,}"
              f"; tokens {rc['tokens_before']:,} -> {rc['tokens_after']:,}")
        print("ops: " + "; ".join(f"{op} {'ran' if ran else 'skipped'} -{drop:,} docs" for op, ran, drop, *_ in cur["ops"]))
        print("debt before -> after: " + "; ".join(
            f"{k} {b if b is None else round(b, 3)}{'*' if bd else ''} -> {a if a is None else round(a, 3)}{'*' if ad else ''}"
            for k, (b, a, bd, ad) in cur["debt"].items()) + "   (* = debt)")


if __name__ == "__main__":
    main()
