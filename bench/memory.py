"""Memory per document: audit and curate of corpora of many short documents (1M, 10M).

    python bench/memory.py                          # 1M documents, audit and curate, one process
    python bench/memory.py --docs 1000000,10000000 --workers 1,2

The corpus: N records ``{"id": "d<i>", "text": "<word> <word>"}``, the words drawn (seeded) from
the vocabulary of ../shared/data/mixed/corpus.jsonl (about 38k words), written to
bench/out/short-<N>.jsonl once. Short documents are where per-document state dominates: a few
bytes of text against the ids, signatures and features kept for every document.

Each row runs in its own subprocess. ``peak MB``: the largest resident memory of the process and
its workers together (sampled, bench/_measure.py); ``driver peak MB``: the process's own
``ru_maxrss``; ``bytes/doc``: peak over documents. The floor is the reader alone (read, parse,
tokenise every document, keep nothing). datasketch's MinHash LSH (the peer for the near-duplicate
index, which holds 128 hash values and the bucket keys of every document) is measured on the first
``--peer-docs`` documents and its bytes per document shown beside ours.

The local engine keeps up to 2 GiB of its blocks in /dev/shm by default (curadebt.engine.spill),
memory that no process's resident size shows; every row here spills to a folder on disk
(``CURADEBT_SPILL_DIR``), so the peaks are all the memory the run takes.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import print_table, run_worker  # noqa: E402

MIXED = HERE.parent.parent / "shared" / "data" / "mixed" / "corpus.jsonl"

CHILD = r"""
import json, resource, shutil, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from _measure import Meter
task, path, workers, work = sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])

def main():
    extra = {}
    with Meter() as m:
        if task == "read":
            from curadebt.corpus.readers import ReaderConfig, iter_batches
            n = 0
            for b in iter_batches(path, ReaderConfig()):
                n += sum(len(t) for t in b.tokens)
        elif task == "audit":
            import curadebt
            r = curadebt.audit(path, workers=workers)
            extra["documents"] = r.corpus["documents_audited"]
        elif task == "curate":
            import curadebt
            out = work / f"mem-curate-{workers}"
            shutil.rmtree(out, ignore_errors=True)
            r = curadebt.curate(path, out, workers=workers)
            extra["kept"] = r.reconciliation["kept"]
            shutil.rmtree(out, ignore_errors=True)
        elif task == "datasketch":
            from datasketch import MinHash, MinHashLSH
            import numpy as np
            lsh = MinHashLSH(threshold=0.5, num_perm=128)
            limit = int(sys.argv[6])
            with open(path) as fh:
                for i, line in enumerate(fh):
                    if i >= limit:
                        break
                    words = json.loads(line)["text"].split()
                    mh = MinHash(num_perm=128)
                    mh.update_batch([" ".join(words[j:j + 3]).encode() for j in range(max(1, len(words) - 2))])
                    lsh.insert(str(i), mh)
            extra["documents"] = min(limit, i + 1)
    print(json.dumps({**m.result(), **extra,
                      "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))

if __name__ == "__main__":
    main()
"""


def short_corpus(n: int, out: Path, seed: int = 0) -> Path:
    path = out / f"short-{n}.jsonl"
    if path.exists():
        return path
    import re

    if not MIXED.exists():
        raise SystemExit(f"needs {MIXED} (../shared/data beside the project)")
    words: set[str] = set()
    with MIXED.open(encoding="utf-8") as fh:
        for line in fh:
            words.update(re.findall(r"[A-Za-z]+", json.loads(line)["text"]))
    vocab = sorted(words)
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f'{{"id": "d{i}", "text": "{rng.choice(vocab)} {rng.choice(vocab)}"}}\n')
    tmp.replace(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", default="1000000", help="corpus sizes, comma-separated (default 1000000)")
    ap.add_argument("--tasks", default="read,audit,curate", help="read, audit, curate (comma-separated)")
    ap.add_argument("--workers", default="1", help="worker counts, comma-separated (default 1)")
    ap.add_argument("--peer-docs", type=int, default=1_000_000, help="documents datasketch indexes (0: skip)")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    script = args.out / "_memory_child.py"
    script.write_text(CHILD)
    rows = []
    for n in (int(x) for x in args.docs.split(",")):
        path = short_corpus(n, args.out)
        mb = path.stat().st_size / 1e6
        for task in args.tasks.split(","):
            for w in ([1] if task == "read" else [int(x) for x in args.workers.split(",")]):
                res, err = run_worker([sys.executable, str(script), str(HERE), task, str(path), str(w), str(args.out)],
                                      env={"CURADEBT_SPILL_DIR": tempfile.gettempdir()})
                if res is None:
                    print(f"{task} x{w} on {n:,} documents failed:\n{err}")
                    continue
                rows.append([f"{n:,}", f"{mb:.0f}", task, str(w), f"{res['seconds']:.1f}", f"{res['cpu_seconds']:.1f}",
                             f"{res['peak_mb']:,.0f}", f"{res['driver_peak_mb']:,.0f}",
                             f"{res['peak_mb'] * 2**20 / n:,.0f}"])
                print(" | ".join(rows[-1]), flush=True)
        if args.peer_docs and n >= args.peer_docs:
            res, err = run_worker([sys.executable, str(script), str(HERE), "datasketch", str(path), "1", str(args.out),
                                   str(args.peer_docs)])
            if res is None:
                print(f"datasketch failed (pip install -e '.[bench]'):\n{err[-500:]}")
            else:
                d = res["documents"]
                rows.append([f"{d:,}", "", "datasketch MinHashLSH", "1", f"{res['seconds']:.1f}",
                             f"{res['cpu_seconds']:.1f}", f"{res['peak_mb']:,.0f}", f"{res['driver_peak_mb']:,.0f}",
                             f"{res['peak_mb'] * 2**20 / d:,.0f}"])
            args.peer_docs = 0  # once
    print()
    print_table(["documents", "MB", "task", "workers", "seconds", "CPU s", "peak MB", "driver peak MB", "bytes/doc"],
                rows, title="Peak memory per corpus size (bytes/doc = peak / documents)")


if __name__ == "__main__":
    main()
