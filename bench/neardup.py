"""Near-duplicate detection: curadebt vs datasketch (MinHash + MinHashLSH), same parameters.

    python bench/neardup.py                 # ~2 MB corpus
    python bench/neardup.py --mb 20 --tools curadebt,datasketch

The corpus is built from ../shared/data/mixed/corpus.jsonl: its documents are cut into passages of
60-300 words (real text, punctuation kept). Passages are used once as they are; past the end of the
pool they are reused with half of their words replaced (so they are not near duplicates of their
first use). Then planted duplicates are added: ``--near`` of the documents are copies of an earlier
passage with 0-10% of the words replaced / inserted / deleted, ``--exact`` are verbatim copies, and
``--distractors`` are copies with 15-40% of the words edited (not targets: their true Jaccard sits
around and below the threshold, so they test precision). The order is shuffled (seeded). Ground
truth: every planted 0-10% or exact copy belongs with its source.

Every tool runs in its own subprocess (so peak memory is its own) on the same texts, tokenised by
the same word tokenizer, with the same num_perm / bands / rows / shingle size / threshold, and
candidate pairs verified against the threshold by the estimated Jaccard. Reported:

* docs/s, MB/s: the whole near-dup pipeline from texts (tokenise, hash, LSH, verify, cluster);
* peak MB: the peak resident memory of the subprocess above what it held after loading the texts;
* precision: share of reported pairs whose true Jaccard on the same shingles is >= threshold - 0.05;
* recall: share of planted copies that end up in the same cluster as their source;
* vs curadebt: how many times faster curadebt is (curadebt docs/s / tool docs/s).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from curadebt.text.tokenize import WORD_RE, word_tokenize  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mixed" / "corpus.jsonl"


# ---------------------------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------------------------

def passages(path: Path, rng: random.Random) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            spans = [m.span() for m in WORD_RE.finditer(text)]
            i = 0
            while i < len(spans):
                n = rng.randint(60, 300)
                chunk = spans[i:i + n]
                if len(chunk) >= 30:
                    out.append(text[chunk[0][0]:chunk[-1][1]])
                i += n
    return out


def edit(rng: random.Random, words: list[str], rate: float, vocab: list[str]) -> list[str]:
    w = list(words)
    for _ in range(max(1, round(rate * len(w)))):
        op = rng.choice("rid")
        if op == "r":
            w[rng.randrange(len(w))] = rng.choice(vocab)
        elif op == "i":
            w.insert(rng.randrange(len(w) + 1), rng.choice(vocab))
        elif len(w) > 1:
            del w[rng.randrange(len(w))]
    return w


def build_corpus(source: Path, mb: float, near: float, exact: float, seed: int, distractors: float = 0.0):
    """Returns (texts, group, source_of): group[i] = ground-truth group, source_of[i] = index of the
    document a planted copy was made from (-1 for originals and distractors)."""
    rng = random.Random(seed)
    pool = passages(source, rng)
    vocab = [w for p in pool[:2000] for w in word_tokenize(p)]
    target = int(mb * 1_000_000)
    originals, size, reuse = [], 0, 0
    n_planted_share = near + exact + distractors
    while size * (1 + n_planted_share) < target:
        k = len(originals)
        if k < len(pool):
            text = pool[k]
        else:  # reuse a passage, half rewritten: a new, unrelated document
            base = pool[k % len(pool)]
            text = " ".join(edit(rng, word_tokenize(base), 0.5, vocab)) + f" r{reuse}"
            reuse += 1
        originals.append(text)
        size += len(text.encode("utf-8"))
    texts = list(originals)
    source_of = [-1] * len(texts)
    n_near, n_exact = int(len(originals) * near), int(len(originals) * exact)
    n_dist = int(len(originals) * distractors)
    for j in range(n_near + n_exact + n_dist):
        src = rng.randrange(len(originals))
        if j < n_near:
            texts.append(" ".join(edit(rng, word_tokenize(originals[src]), rng.uniform(0.0, 0.1), vocab)))
        elif j < n_near + n_exact:
            texts.append(originals[src])
        else:
            texts.append(" ".join(edit(rng, word_tokenize(originals[src]), rng.uniform(0.15, 0.4), vocab)))
            src = -1
        source_of.append(src)
    order = list(range(len(texts)))
    rng.shuffle(order)
    pos = {old: new for new, old in enumerate(order)}
    texts = [texts[i] for i in order]
    source_of = [pos[source_of[i]] if source_of[i] >= 0 else -1 for i in order]
    group = [s if s >= 0 else i for i, s in enumerate(source_of)]  # distractors: a group of their own
    return texts, group, source_of


# ---------------------------------------------------------------------------------------------
# tools (each runs in a subprocess: --worker NAME)
# ---------------------------------------------------------------------------------------------

def rss_mb() -> float:
    """Current resident memory (Linux /proc; 0 elsewhere, then peak MB is the absolute peak)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def union_find(n: int, pairs) -> list[int]:
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]


def run_curadebt(texts, a):
    from curadebt.audit.duplicates import DuplicatesMeasure
    from curadebt.corpus.document import Batch, Document

    m = DuplicatesMeasure(num_perm=a.num_perm, bands=a.bands, shingle_size=a.shingle, threshold=a.threshold, seed=a.seed)
    state = m.empty()
    for s in range(0, len(texts), a.batch_size):
        docs = [Document(id=str(i), text=t, ordinal=i) for i, t in enumerate(texts[s:s + a.batch_size], start=s)]
        state = m.accumulate(state, Batch(docs))
    res = m.finalize(state)
    asg = res.assignments
    pairs = asg.pairs.tolist()
    copies = np.flatnonzero(asg.kind == 2)
    pairs += [[int(asg.exact_of[i]), int(asg.ordinals[i])] for i in copies]  # exact copies: reported too
    return asg.representative.tolist(), pairs, {"candidates": res.candidate_pairs}


def run_datasketch(texts, a, hashfunc=None):
    from datasketch import MinHash, MinHashLSH

    k, r = a.shingle, a.num_perm // a.bands
    lsh = MinHashLSH(num_perm=a.num_perm, params=(a.bands, r))
    kwargs = {"num_perm": a.num_perm, "seed": a.seed}
    if hashfunc is not None:
        kwargs["hashfunc"] = hashfunc
    sigs = []
    for i, text in enumerate(texts):
        w = word_tokenize(text)
        if not w:
            sigs.append(None)
            continue
        sh = [" ".join(w[j:j + k]).encode("utf-8") for j in range(max(1, len(w) - k + 1))]
        mh = MinHash(**kwargs)
        mh.update_batch(sh)
        lsh.insert(i, mh)
        sigs.append(mh)
    pairs, cands = [], 0
    for i, mh in enumerate(sigs):
        if mh is None:
            continue
        for j in lsh.query(mh):
            if j > i:
                cands += 1
                if mh.jaccard(sigs[j]) >= a.threshold:
                    pairs.append([i, j])
    return union_find(len(texts), pairs), pairs, {"candidates": cands}


def xxh32(b: bytes) -> int:
    import xxhash

    return xxhash.xxh32_intdigest(b)


TOOLS = {
    "curadebt": run_curadebt,
    "datasketch": run_datasketch,
    "datasketch-xxh32": lambda texts, a: run_datasketch(texts, a, hashfunc=xxh32),
}


def worker(a) -> None:
    texts = json.loads(Path(a.corpus).read_text(encoding="utf-8"))
    base = rss_mb()
    t0 = time.perf_counter()
    roots, pairs, extra = TOOLS[a.worker](texts, a)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": max(0.0, peak_mb() - base), "roots": roots, "pairs": pairs,
                      **extra}))


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def evaluate(texts, source_of, roots, pairs, a):
    from curadebt.audit.minhash import shingle_sets

    src = np.array(source_of)
    planted = np.flatnonzero(src >= 0)
    roots = np.array(roots)
    recall = float(np.mean(roots[planted] == roots[src[planted]])) if len(planted) else 1.0
    cache: dict[int, set] = {}

    def sh(i):
        if i not in cache:
            cache[i] = shingle_sets([word_tokenize(texts[i])], a.shingle)[0]
        return cache[i]

    ok = 0
    for i, j in pairs:
        x, y = sh(i), sh(j)
        ok += (len(x & y) / len(x | y) if x or y else 1.0) >= a.threshold - 0.05
    precision = ok / len(pairs) if pairs else 1.0
    return precision, recall


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mb", type=float, default=2.0, help="corpus size in MB (default 2)")
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    p.add_argument("--near", type=float, default=0.15, help="planted near copies, share of originals")
    p.add_argument("--exact", type=float, default=0.05, help="planted exact copies, share of originals")
    p.add_argument("--distractors", type=float, default=0.05,
                   help="copies with 15-40%% of the words edited (not targets), share of originals")
    p.add_argument("--tools", default="curadebt,datasketch,datasketch-xxh32")
    p.add_argument("--num-perm", type=int, default=128)
    p.add_argument("--bands", type=int, default=32)
    p.add_argument("--shingle", type=int, default=3)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    if not a.source.exists():
        sys.exit(f"needs {a.source} (the shared real-data folder beside the project)")

    t0 = time.perf_counter()
    texts, group, source_of = build_corpus(a.source, a.mb, a.near, a.exact, a.seed, a.distractors)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    n_planted = sum(s >= 0 for s in source_of)
    print(f"corpus: {len(texts):,} docs, {mb:.1f} MB, {n_planted:,} planted copies "
          f"(built in {time.perf_counter() - t0:.1f}s); num_perm={a.num_perm} bands={a.bands} "
          f"rows={a.num_perm // a.bands} shingle={a.shingle} threshold={a.threshold}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "texts.json"
        corpus.write_text(json.dumps(texts), encoding="utf-8")
        for tool in a.tools.split(","):
            cmd = [sys.executable, __file__, "--worker", tool, "--corpus", str(corpus),
                   "--num-perm", str(a.num_perm), "--bands", str(a.bands), "--shingle", str(a.shingle),
                   "--threshold", str(a.threshold), "--seed", str(a.seed), "--batch-size", str(a.batch_size)]
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
            if out.returncode != 0:
                print(f"{tool}: failed\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            prec, rec = evaluate(texts, source_of, r["roots"], r["pairs"], a)
            rows.append((tool, len(texts) / r["seconds"], mb / r["seconds"], r["seconds"], r["peak_mb"], prec, rec,
                         r["candidates"], len(r["pairs"])))
    if not rows:
        return
    base = next((row[1] for row in rows if row[0] == "curadebt"), None)
    head = f"{'tool':<18}{'docs/s':>10}{'MB/s':>8}{'seconds':>9}{'peak MB':>9}{'precision':>11}{'recall':>8}" \
           f"{'cands':>9}{'pairs':>8}{'vs curadebt':>13}"
    print(head)
    print("-" * len(head))
    for tool, dps, mbps, sec, peak, prec, rec, cands, npairs in rows:
        ratio = f"{base / dps:.1f}x" if base else "-"
        print(f"{tool:<18}{dps:>10,.0f}{mbps:>8.2f}{sec:>9.2f}{peak:>9.0f}{prec:>11.3f}{rec:>8.3f}{cands:>9,}"
              f"{npairs:>8,}{ratio:>13}")


if __name__ == "__main__":
    main()
