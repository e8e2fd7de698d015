"""Throughput of each engine: local with 1 and 2 worker processes, and Ray (a local instance with 2
CPUs), for the audit, the default curate recipe, and the near-duplicate grouping alone; plus the
driver's reader alone (read and parse; the ceiling of an engine fed by one driver).

    python bench/engines.py --mb 20              # builds bench/out/big-20mb.jsonl (near-dup rich)
    python bench/engines.py --corpus ../shared/data/mixed/corpus.jsonl

Every configuration runs in a fresh subprocess on the same corpus and must give the same result:
the audit's report.json minus its config section; for curate, the data shards and ledger bytes plus
both reports minus config; for the grouping, the components and pair counts. The peer of every
row is ``local x1`` (one process) in the same run: speed-up = its seconds / the row's seconds.
Ray's start-up is timed apart (``ray start s``) and not counted in the row's seconds; local worker
processes are started inside every pass, so their start-up is counted. ``CPU s`` (driver plus its
child processes) shows the work each engine spends, which on a shared machine says more than the
wall clock: wall-clock speed-up needs idle cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_big_corpus  # noqa: E402

CHILD = r"""
import hashlib, json, resource, shutil, sys, time
from pathlib import Path
task, engine, workers, path, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], Path(sys.argv[5])
extra_cfg = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
sys.path.insert(0, sys.argv[7])
from _measure import Meter

def main():
    ray_start = 0.0
    if engine == "ray":
        from curadebt.engine.ray_engine import ensure_ray
        t = time.perf_counter(); ensure_ray(None, num_cpus=workers); ray_start = time.perf_counter() - t
    import curadebt
    h = hashlib.sha256()
    cpu0 = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))
    meter = Meter().__enter__()  # CPU and memory of the workers too (a fork server's children included)
    t = time.perf_counter()
    if task == "audit":
        r = curadebt.audit(path, source_field="source", engine=engine, workers=workers, **extra_cfg)
        dt = time.perf_counter() - t
        d = r.to_json(); d.pop("config")
        h.update(json.dumps(d, sort_keys=True).encode())
        docs, extra = r.corpus["documents_audited"], {}
    elif task == "curate":
        from curadebt.curation.runner import curate
        out = work / f"curate-{engine}-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        r = curate(path, out, source_field="source", engine=engine, workers=workers, **extra_cfg)
        dt = time.perf_counter() - t
        data = hashlib.sha256()  # the curated corpus itself: shards and ledger
        for p in sorted(out.rglob("*")):
            if not p.is_file() or p.suffix == ".html" or p.name == "manifest.json":
                continue
            h.update(str(p.relative_to(out)).encode())
            if p.suffix == ".json":
                d = json.loads(p.read_text()); d.pop("config", None); d.get("curate", {}).pop("config", None)
                h.update(json.dumps(d, sort_keys=True).encode())
            else:
                h.update(p.read_bytes())
                data.update(str(p.relative_to(out)).encode()); data.update(p.read_bytes())
        docs = r.reconciliation["read"]
        extra = {k: round(v, 2) for k, v in r.seconds.items()}
        extra["near_dropped"] = sum(o.dropped for o in r.operations if o.op == "near_dedup")
        extra["data_digest"] = data.hexdigest()[:16]
        shutil.rmtree(out, ignore_errors=True)
    elif task == "read":  # the driver's reader alone: the ceiling of any engine fed by one driver
        from curadebt.corpus.quarantine import Quarantine
        from curadebt.corpus.readers import ReaderConfig, ReadStats, iter_batches
        import pickle
        docs = 0
        for b in iter_batches(path, ReaderConfig(source_field="source"), Quarantine(), ReadStats()):
            docs += len(b.docs)
            pickle.dumps(b.docs)  # the engines pickle every batch for the workers
        dt = time.perf_counter() - t
        h.update(str(docs).encode())
        extra = {}
    else:  # the near-duplicate grouping alone, on signatures computed beforehand (not timed)
        import numpy as np
        from curadebt.measures.lsh import block_starts, lsh_cluster_on
        from curadebt.measures.minhash import MinHasher, lsh_cluster
        from curadebt.corpus.readers import ReaderConfig, iter_batches
        from curadebt.corpus.quarantine import Quarantine
        from curadebt.corpus.readers import ReadStats
        hasher = MinHasher(128, 3, 0)
        sigs = np.concatenate([hasher.signatures(b.tokens) for b in
                               iter_batches(path, ReaderConfig(), Quarantine(), ReadStats())])
        cpu0 = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for f in ("ru_utime", "ru_stime"))
        t = time.perf_counter()
        if engine == "local" and workers == 1:
            res = lsh_cluster(sigs, 32, 0.5, 0)
            roots, cands, ver = res.roots, res.candidate_pairs, len(res.verified_pairs)
        else:
            from curadebt.engine.local import LocalExecutor
            from curadebt.engine.ray_engine import RayExecutor
            ex = LocalExecutor(workers) if engine == "local" else RayExecutor(workers)
            with ex:
                starts = block_starts(len(sigs), workers)
                blocks = [ex.put(sigs[starts[b]:starts[b + 1]]) for b in range(len(starts) - 1)]
                res = lsh_cluster_on(ex, blocks, starts, 32, 0.5, 0)
            roots, cands, ver = res.roots, res.candidate_pairs, res.verified_pairs
        dt = time.perf_counter() - t
        h.update(roots.tobytes()); h.update(str((cands, ver)).encode())
        docs = len(sigs)
        extra = {"candidate_pairs": int(cands), "verified_pairs": int(ver),
                 "components": int(len(np.unique(roots)))}
    meter.__exit__(None, None, None)
    cpu = max(meter.cpu_seconds, sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF,
              resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime")) - cpu0)
    print(json.dumps({"seconds": dt, "docs": docs, "digest": h.hexdigest()[:16], "ray_start": ray_start,
                      "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "all_peak_mb": meter.peak_mb, **extra}))

if __name__ == "__main__":
    main()
"""

CONFIGS = [("local", 1), ("local", 2), ("ray", 2)]
ONE_CONFIG = {"read"}  # tasks that do not depend on the engine
TASKS = ("read", "audit", "curate", "lsh")


def run_child(task: str, engine: str, workers: int, path: Path, work: Path, extra: dict) -> dict | None:
    """One run of a configuration in a fresh process."""
    env = {**os.environ, "CURADEBT_NO_PROGRESS": "1"}
    script = work / "_engines_child.py"
    script.write_text(CHILD)
    res = subprocess.run([sys.executable, str(script), task, engine, str(workers), str(path), str(work),
                          json.dumps(extra), str(Path(__file__).resolve().parent)], capture_output=True, text=True,
                         env=env)
    if res.returncode:
        print(f"{task} {engine} x{workers} failed:\n{res.stderr[-3000:]}")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_configs(task: str, configs: list, path: Path, work: Path, extra: dict, repeat: int) -> list:
    """Every configuration ``repeat`` times, the configurations interleaved (so a slow minute of a
    shared machine does not fall on one of them); per configuration the run of median seconds, with
    every run's seconds in ``runs``."""
    runs: dict = {c: [] for c in configs}
    for _ in range(repeat):
        for c in configs:
            r = run_child(task, c[0], c[1], path, work, extra)
            if r is not None:
                runs[c].append(r)
    rows = []
    for (e, w), rs in runs.items():
        if not rs:
            continue
        rs.sort(key=lambda r: r["seconds"])
        med = dict(rs[len(rs) // 2])
        if repeat > 1:
            med["runs"] = [round(r["seconds"], 2) for r in rs]
        rows.append((f"{e} x{w}", med))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=20, help="size of the generated corpus in MB (default 20)")
    ap.add_argument("--corpus", type=Path, default=None, help="use this JSONL corpus (with a 'source' field) instead")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {','.join(TASKS)}")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration, interleaved; the median is shown "
                                                           "(default 1)")
    ap.add_argument("--count-budget", type=int, default=None,
                    help="distinct n-grams counted exactly per n (default: curadebt's); beyond it the frequency "
                         "summary is a Misra-Gries sketch whose counts depend on how worker states merged "
                         "(within its error bound), so the audits of different engines differ there")
    args = ap.parse_args()
    extra = {"count_budget": args.count_budget} if args.count_budget else {}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.corpus or make_big_corpus(args.mb, args.out / f"big-{int(args.mb)}mb.jsonl")
    size_mb = path.stat().st_size / 1e6
    print(f"corpus: {path}  {size_mb:.1f} MB; {os.cpu_count()} CPUs (load average at start "
          f"{os.getloadavg()[0]:.1f})")
    all_same = True
    for task in args.tasks.split(","):
        configs = CONFIGS[:1] if task in ONE_CONFIG else CONFIGS
        rows = run_configs(task, configs, path, args.out, extra, args.repeat)
        if not rows:
            continue
        base = rows[0][1]["seconds"] if rows[0][0] == "local x1" else None
        print(f"\n{task}: {rows[0][1]['docs']:,} documents")
        print(f"| {'engine':9} | {'seconds':>8} | {'MB/s':>6} | {'docs/s':>8} | {'vs local x1':>11} | "
              f"{'CPU s':>7} | {'ray start s':>11} | {'driver peak MB':>14} | {'all peak MB':>11} | digest           | detail")
        print(f"|{'-' * 11}|{'-' * 10}|{'-' * 8}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 13}|{'-' * 16}|{'-' * 13}|{'-' * 18}|--------")
        for name, r in rows:
            detail = {k: v for k, v in r.items() if k not in ("seconds", "docs", "digest", "ray_start", "peak_mb", "cpu",
                                                               "all_peak_mb")}
            ratio = f"{base / r['seconds']:10.2f}x" if base else f"{'-':>11}"
            cpu = f"{r['cpu']:6.1f}" + ("*" if name.startswith("ray") else " ")
            print(f"| {name:9} | {r['seconds']:8.1f} | {size_mb / r['seconds']:6.2f} | {r['docs'] / r['seconds']:8,.0f} | "
                  f"{ratio} | {cpu} | {r['ray_start']:11.1f} | {r['peak_mb']:14.0f} | {r['all_peak_mb']:11.0f} | "
                  f"{r['digest']} | "
                  f"{json.dumps(detail) if detail else ''}")
        same = len({r["digest"] for _, r in rows}) == 1
        all_same &= same
        print(f"{task}: results identical across engines: {'yes' if same else 'NO'}")
        if task == "curate":
            print(f"curate: curated shards and ledger identical across engines: "
                  f"{'yes' if len({r['data_digest'] for _, r in rows}) == 1 else 'NO'}")
        print("CPU s and all peak MB: the driver and its worker processes (sampled; a fork server's children "
              "included); * Ray's workers are not children of the driver, so only the driver is counted")
    sys.exit(0 if all_same else 1)


if __name__ == "__main__":
    main()
