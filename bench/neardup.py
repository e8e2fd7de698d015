"""Near-duplicate detection: curadebt vs datasketch, rensa and datatrove, same parameters, one run.

    pip install -e '.[bench]'                 # the peers: datasketch, rensa, datatrove
    python bench/neardup.py                   # 100 MB corpus, every system
    python bench/neardup.py --mb 5 --tools curadebt,rensa
    python bench/neardup.py --tools "" --quality-seeds 30     # recall/precision over 30 seeds, paired
    python bench/neardup.py --tools "" --detection-pairs 250  # per-pair miss rate vs ideal MinHash

The corpus is built from ../shared/data/mixed/corpus.jsonl: its documents are cut into passages of
60-300 words (real text, punctuation kept). Passages are used once as they are; past the end of the
pool they are reused with half of their words replaced (so they are not near duplicates of their
first use, and the corpus can be repeated to any size). Then planted duplicates are added:
``--near`` of the documents are copies of an earlier passage with 0-10% of the words replaced /
inserted / deleted, ``--exact`` are verbatim copies, and ``--distractors`` are copies with 15-40% of
the words edited (not targets: their true Jaccard sits around and below the threshold, so they test
precision). The order is shuffled (seeded). Ground truth: every planted 0-10% or exact copy belongs
with its source.

Systems (each in its own subprocess, one after the other, on the same texts, tokenised by the same
word tokenizer into the same word 3-shingles, with the same num_perm / bands / rows / seed):

* ``curadebt``: DuplicatesMeasure in one process (exact keys, MinHash, LSH, verification, clusters);
* ``curadebt-x2``: the same measure on the local engine with 2 worker processes (signatures in the
  workers, LSH once in the parent);
* ``datasketch``: MinHash (default sha1 hash) per document + MinHashLSH(params=(bands, rows)),
  candidates verified by the estimated Jaccard (``datasketch-xxh32``: the same with xxhash32);
* ``rensa``: Rust R-MinHash (``RMinHash.from_token_sets`` over the shingle strings) +
  ``RMinHashLSH`` (insert_many / query_all), candidates verified by ``jaccard``; its Rayon pool
  uses 2 threads;
* ``datatrove``: its MinHash pipeline (MinhashDedupSignature -> MinhashDedupBuckets ->
  MinhashDedupCluster) on the LocalPipelineExecutor with 2 workers, reading the texts as 2 JSONL
  shards, with this word tokenizer and text normalisation off (so its shingles are ours); its
  default 64-bit xxhash; it reports every bucket collision as a pair (no verification step).

Columns: docs/s and MB/s of the whole pipeline from texts (tokenise, hash, LSH, verify, cluster);
wall and CPU seconds (user + system, all threads and child processes); peak MB of resident memory
above what the subprocess held after loading the texts (all its processes together); precision:
share of reported pairs whose true Jaccard on the same shingles is >= threshold - 0.05; recall:
share of planted copies that end up in the same cluster as their source; then how many times
``--base`` (default curadebt-x2) is faster, in wall time and in CPU time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _datatrove import same_word_tokenizer  # noqa: E402
from _measure import Meter, print_table, run_worker  # noqa: E402
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
# systems (each runs in a subprocess: --worker NAME); each returns (roots, pairs, extra)
# ---------------------------------------------------------------------------------------------

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


def shingle_strings(words: list[str], k: int) -> list[str]:
    """The k-word shingles as strings (a text shorter than k words is one shingle)."""
    return [" ".join(words[j:j + k]) for j in range(max(1, len(words) - k + 1))]


def _curadebt_result(res):
    asg = res.assignments
    pairs = asg.pairs.tolist()
    copies = np.flatnonzero(asg.kind == 2)
    pairs += [[int(asg.exact_of[i]), int(asg.ordinals[i])] for i in copies]  # exact copies: reported too
    return asg.representative.tolist(), pairs, {"candidates": res.candidate_pairs}


def _batches(texts, size):
    from curadebt.corpus.batch import Batch
    from curadebt.core.document import Document

    for s in range(0, len(texts), size):
        yield Batch([Document(id=str(i), text=t, ordinal=i) for i, t in enumerate(texts[s:s + size], start=s)])


def _measure(a):
    from curadebt.measures.duplicates import DuplicatesMeasure

    return DuplicatesMeasure(num_perm=a.num_perm, bands=a.bands, shingle_size=a.shingle, threshold=a.threshold,
                             seed=a.seed)


def run_curadebt(texts, a, meter):
    m = _measure(a)
    with meter:
        state = m.empty()
        for batch in _batches(texts, a.batch_size):
            state = m.accumulate(state, batch)
        out = _curadebt_result(m.finalize(state))
    return out


def run_curadebt_x2(texts, a, meter):
    from curadebt.engine.local import run_measures

    m = _measure(a)
    with meter:
        state = run_measures(_batches(texts, a.batch_size), [m], workers=2)[m.name]
        out = _curadebt_result(m.finalize(state))
    return out


def run_datasketch(texts, a, meter, hashfunc=None):
    from datasketch import MinHash, MinHashLSH

    k, r = a.shingle, a.num_perm // a.bands
    kwargs = {"num_perm": a.num_perm, "seed": a.seed}
    if hashfunc is not None:
        kwargs["hashfunc"] = hashfunc
    with meter:
        lsh = MinHashLSH(num_perm=a.num_perm, params=(a.bands, r))
        sigs = []
        for i, text in enumerate(texts):
            w = word_tokenize(text)
            if not w:
                sigs.append(None)
                continue
            mh = MinHash(**kwargs)
            mh.update_batch([s.encode("utf-8") for s in shingle_strings(w, k)])
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
        roots = union_find(len(texts), pairs)
    return roots, pairs, {"candidates": cands}


def xxh32(b: bytes) -> int:
    import xxhash

    return xxhash.xxh32_intdigest(b)


def xxh64_str(s: str) -> int:
    import xxhash

    return xxhash.xxh64_intdigest(s.encode("utf-8"))


def run_rensa(texts, a, meter):
    from rensa import RMinHash, RMinHashLSH

    k = a.shingle
    with meter:
        rows, shingles = [], []
        for i, text in enumerate(texts):
            w = word_tokenize(text)
            if w:
                rows.append(i)
                shingles.append(shingle_strings(w, k))
        mhs = RMinHash.from_token_sets(shingles, num_perm=a.num_perm, seed=a.seed)
        del shingles
        lsh = RMinHashLSH(a.threshold, a.num_perm, a.bands)
        lsh.insert_many(mhs)
        pairs, cands = [], 0
        for i, found in enumerate(lsh.query_all(mhs)):
            mi = mhs[i]
            for j in found:
                if j > i:
                    cands += 1
                    if mi.jaccard(mhs[j]) >= a.threshold:
                        pairs.append([rows[i], rows[j]])
        roots = union_find(len(texts), pairs)
    return roots, pairs, {"candidates": cands}


def run_datatrove(texts, a, meter):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.utils.text import TextNormConfig

    workers = 2
    tmp = Path(tempfile.mkdtemp(prefix="neardup-datatrove-"))
    bounds = np.linspace(0, len(texts), workers + 1).astype(int)
    (tmp / "in").mkdir()
    for r in range(workers):  # input shards (not timed): datatrove reads documents from files
        with open(tmp / "in" / f"{r:02d}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(bounds[r], bounds[r + 1]):
                fh.write(json.dumps({"id": str(i), "text": texts[i]}) + "\n")
    norm = TextNormConfig(lowercase=False, norm_whitespace=False, remove_punctuation=False,
                          norm_unicode_diacritics=False, norm_numbers=False)
    cfg = MinhashConfig(n_grams=a.shingle, num_buckets=a.bands, hashes_per_bucket=a.num_perm // a.bands,
                        seed=a.seed, norm_config=norm)
    common = {"skip_completed": False, "start_method": "fork"}
    signature = MinhashDedupSignature(str(tmp / "sigs"), config=cfg, language=same_word_tokenizer())
    signature._hash_func = xxh64_str  # its default xxhash64, on UTF-8 bytes (xxhash>=3 rejects str)
    stage1 = LocalPipelineExecutor(
        [JsonlReader(str(tmp / "in")), signature],
        tasks=workers, workers=workers, logging_dir=str(tmp / "logs1"), **common)
    stage2 = LocalPipelineExecutor(
        [MinhashDedupBuckets(str(tmp / "sigs"), str(tmp / "buckets"), config=cfg)],
        tasks=a.bands, workers=workers, logging_dir=str(tmp / "logs2"), **common)
    stage3 = LocalPipelineExecutor(
        [MinhashDedupCluster(str(tmp / "buckets"), str(tmp / "remove"), config=cfg)],
        tasks=1, workers=1, logging_dir=str(tmp / "logs3"), **common)
    with meter:
        stage1.run()
        stage2.run()
        stage3.run()
        pairs = set()
        for f in sorted((tmp / "buckets").glob("*.dups")):
            data = f.read_bytes()
            for f1, d1, f2, d2 in struct.iter_unpack("<4I", data):
                i, j = int(bounds[f1]) + d1, int(bounds[f2]) + d2
                pairs.add((min(i, j), max(i, j)))
        pairs = sorted(pairs)
        roots = union_find(len(texts), pairs)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return roots, [list(p) for p in pairs], {"candidates": len(pairs)}


TOOLS = {
    "curadebt": run_curadebt,
    "curadebt-x2": run_curadebt_x2,
    "datasketch": run_datasketch,
    "datasketch-xxh32": lambda texts, a, meter: run_datasketch(texts, a, meter, hashfunc=xxh32),
    "rensa": run_rensa,
    "datatrove": run_datatrove,
}


def worker(a) -> None:
    texts = json.loads(Path(a.corpus).read_text(encoding="utf-8"))
    meter = Meter()
    roots, pairs, extra = TOOLS[a.worker](texts, a, meter)
    print(json.dumps({**meter.result(), "roots": roots, "pairs": pairs, **extra}))


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def true_jaccard(texts, k: int):
    """``jaccard(i, j)``: the Jaccard similarity of the k-word shingle sets of texts i and j (the
    sets are built once per text)."""
    from curadebt.measures.minhash import shingle_sets

    cache: dict[int, set] = {}

    def sh(i):
        if i not in cache:
            cache[i] = shingle_sets([word_tokenize(texts[i])], k)[0]
        return cache[i]

    def jaccard(i, j):
        x, y = sh(i), sh(j)
        return len(x & y) / len(x | y) if x or y else 1.0

    return jaccard


def evaluate(texts, source_of, roots, pairs, a) -> dict:
    """precision, recall, and recall over the planted copies whose true Jaccard with their source
    is at least the threshold (``recall_in_scope``: the ones a threshold-``a.threshold`` dedup is
    asked to find; edits of up to 10% can bring a short passage just below it)."""
    src = np.array(source_of)
    planted = np.flatnonzero(src >= 0)
    roots = np.array(roots)
    found = roots[planted] == roots[src[planted]]
    jaccard = true_jaccard(texts, a.shingle)
    ok = sum(jaccard(i, j) >= a.threshold - 0.05 for i, j in pairs)
    in_scope = np.array([jaccard(int(i), int(src[i])) >= a.threshold for i in planted], dtype=bool)
    return {"precision": ok / len(pairs) if pairs else 1.0,
            "recall": float(found.mean()) if len(planted) else 1.0,
            "recall_in_scope": float(found[in_scope].mean()) if in_scope.any() else 1.0,
            "in_scope": int(in_scope.sum())}


def run_tools(texts, source_of, tools, a, seed, quiet=False) -> dict:
    """Run each tool in its own subprocess on ``texts`` with hash seed ``seed``; evaluate each."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "texts.json"
        corpus.write_text(json.dumps(texts), encoding="utf-8")
        for tool in tools:
            cmd = [sys.executable, __file__, "--worker", tool, "--corpus", str(corpus),
                   "--num-perm", str(a.num_perm), "--bands", str(a.bands), "--shingle", str(a.shingle),
                   "--threshold", str(a.threshold), "--seed", str(seed), "--batch-size", str(a.batch_size)]
            r, err = run_worker(cmd, env={"RAYON_NUM_THREADS": "2"})
            if r is None:
                print(f"{tool}: failed\n{err}", flush=True)
                continue
            r.update(evaluate(texts, source_of, r["roots"], r["pairs"], a))
            r["n_pairs"] = len(r["pairs"])
            del r["roots"], r["pairs"]
            results[tool] = r
            if not quiet:
                print(f"  {tool}: {r['seconds']:.1f}s wall, {r['cpu_seconds']:.1f}s CPU", flush=True)
    return results


def _mean_ci(x) -> str:
    """mean [95% CI] (Student t) of per-seed values."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    m = x.mean()
    if len(x) < 2 or x.std(ddof=1) == 0:
        return f"{m:+.5f}" if (x < 0).any() else f"{m:.5f}"
    h = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    fmt = "{:+.5f}" if m - h < 0 else "{:.5f}"
    return f"{fmt.format(m)} [{fmt.format(m - h)}, {fmt.format(m + h)}]"


def detection_check(a) -> str:
    """Per-pair detection probability on borderline pairs (planted copies with true Jaccard
    0.5-0.7): the share of (pair, hash seed) trials in which a pair is missed (no shared band, or an
    estimate under the threshold), for curadebt's hash family, for datasketch's, and for ideal
    MinHash (independent slots equal with probability J). Tells a systematic recall gap from the
    chance of one corpus."""
    from datasketch import MinHash

    from curadebt.measures.minhash import minhash_signatures, permutations, shingle_hashes
    from curadebt.text.wordhash import word_token_hashes

    texts, _, source_of = build_corpus(a.source, 5, a.near, 0.0, 0, 0.0)
    jaccard = true_jaccard(texts, a.shingle)
    pairs, jac = [], []
    for i, s in enumerate(source_of):
        if s >= 0 and len(pairs) < a.detection_pairs:
            j = jaccard(i, s)
            if 0.5 <= j <= 0.7:
                pairs.append((i, s))
                jac.append(j)
    jac = np.array(jac)
    docs = [texts[d] for p in pairs for d in p]
    rows, bands, need = a.num_perm // a.bands, a.bands, np.ceil(a.threshold * a.num_perm - 1e-9)

    def missed(eq):  # eq: (pairs, num_perm) equal slots
        return ~(eq.reshape(len(eq), bands, rows).all(2).any(1) & (eq.sum(1) >= need))

    h, off = word_token_hashes(docs)
    sh, sho = shingle_hashes(h, off, a.shingle)
    ours = np.mean([missed((sg := minhash_signatures(sh, sho, *permutations(a.num_perm, 1000 + t)))[0::2] == sg[1::2])
                    for t in range(a.detection_seeds)])
    rng = np.random.default_rng(0)
    ideal = np.mean([missed(rng.random((len(jac), a.num_perm)) < jac[:, None]) for _ in range(a.detection_seeds)])
    shingles = [[x.encode("utf-8") for x in shingle_strings(word_tokenize(t), a.shingle)] for t in docs]
    theirs = []
    for t in range(max(1, a.detection_seeds // 4)):  # datasketch is slower: a quarter of the seeds
        sigs = []
        for x in shingles:
            mh = MinHash(num_perm=a.num_perm, seed=1000 + t)
            mh.update_batch(x)
            sigs.append(mh.hashvalues)
        sigs = np.array(sigs)
        theirs.append(missed(sigs[0::2] == sigs[1::2]))
    n = len(jac)
    sd = np.sqrt(ours * (1 - ours) / (n * a.detection_seeds))
    return (f"detection on {n} borderline pairs (true Jaccard 0.5-0.7, mean {jac.mean():.3f}): miss rate curadebt "
            f"{ours:.5f} (sd {sd:.5f}, {a.detection_seeds} hash seeds), ideal MinHash {ideal:.5f}, datasketch "
            f"{np.mean(theirs):.5f} ({len(theirs)} seeds)")


def quality(a) -> str:
    """Recall and precision over seeds 1..K (a new corpus and new hash functions each), paired per
    seed against curadebt: is a difference more than the noise of random hash families?"""
    tools = a.quality_tools.split(",")
    per = {t: [] for t in tools}
    planted = []
    for seed in range(1, a.quality_seeds + 1):
        texts, _, source_of = build_corpus(a.source, a.quality_mb, a.near, a.exact, seed, a.distractors)
        res = run_tools(texts, source_of, tools, a, seed, quiet=True)
        planted.append(sum(x >= 0 for x in source_of))
        for t in tools:
            per[t].append(res.get(t))
        print(f"  seed {seed}: " + ", ".join(f"{t} {r['recall']:.4f}/{r['recall_in_scope']:.4f}/{r['precision']:.4f}"
                                             for t, r in res.items()) + " (recall/in scope/precision)", flush=True)
    base = per.get("curadebt")
    rows = []
    for t in tools:
        rs = per[t]
        if any(r is None for r in rs):
            continue
        row = [t]
        for key in ("recall", "recall_in_scope", "precision"):
            row.append(_mean_ci([r[key] for r in rs]))
        for key in ("recall", "recall_in_scope", "precision"):
            row.append("" if t == "curadebt" or not base else
                       _mean_ci([b[key] - r[key] for b, r in zip(base, rs)]))
        rows.append(row)
    head = (f"quality over {a.quality_seeds} seeds ({a.quality_mb:g} MB each, {int(np.mean(planted)):,} planted copies "
            f"per seed on average, a new corpus and new hash functions per seed); means with 95% CIs; "
            f"'curadebt minus' = paired per-seed difference (positive: curadebt higher)")
    return print_table(["system", "recall", "recall in scope", "precision", "curadebt minus: recall",
                        "in scope", "precision"], rows, title=head)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (default 100)")
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    p.add_argument("--near", type=float, default=0.15, help="planted near copies, share of originals")
    p.add_argument("--exact", type=float, default=0.05, help="planted exact copies, share of originals")
    p.add_argument("--distractors", type=float, default=0.05,
                   help="copies with 15-40%% of the words edited (not targets), share of originals")
    p.add_argument("--tools", default="curadebt,curadebt-x2,datasketch,rensa,datatrove",
                   help=f"comma-separated, from {', '.join(TOOLS)} (empty: quality comparison only)")
    p.add_argument("--base", default="curadebt-x2", help="the row the ratios compare with (default curadebt-x2)")
    p.add_argument("--num-perm", type=int, default=128)
    p.add_argument("--bands", type=int, default=32)
    p.add_argument("--shingle", type=int, default=3)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--quality-seeds", type=int, default=0,
                   help="also compare recall and precision over this many seeds (1..K: a new corpus and new hash "
                        "functions each), paired against curadebt, with 95%% CIs")
    p.add_argument("--quality-mb", type=float, default=10.0, help="corpus size of each quality seed (default 10)")
    p.add_argument("--quality-tools", default="curadebt,datasketch,rensa",
                   help="tools of the quality comparison (default curadebt,datasketch,rensa)")
    p.add_argument("--detection-pairs", type=int, default=0,
                   help="also measure the per-pair miss rate on this many borderline planted pairs (true Jaccard "
                        "0.5-0.7) for curadebt, datasketch and ideal MinHash over --detection-seeds hash seeds")
    p.add_argument("--detection-seeds", type=int, default=200, help="hash seeds of the detection check (default 200)")
    p.add_argument("--markdown", type=Path, help="also write the table (Markdown) to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    tools = [t for t in a.tools.split(",") if t]
    unknown = [t for t in tools + a.quality_tools.split(",") if t not in TOOLS]
    if unknown:
        sys.exit(f"unknown tool(s) {unknown}; choose from {list(TOOLS)}")
    if not a.source.exists():
        sys.exit(f"needs {a.source} (the shared real-data folder beside the project)")
    text = speed(tools, a) if tools else ""
    if a.quality_seeds:
        text += ("\n\n" if text else "") + quality(a)
    if a.detection_pairs:
        line = detection_check(a)
        print(line, flush=True)
        text += ("\n\n" if text else "") + line
    if a.markdown and text:
        a.markdown.write_text(text + "\n", encoding="utf-8")


def speed(tools, a) -> str:
    """Every tool once on the ``--mb`` corpus: throughput, memory, quality, ratios to ``--base``."""
    t0 = time.perf_counter()
    texts, _, source_of = build_corpus(a.source, a.mb, a.near, a.exact, a.seed, a.distractors)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    n_planted = sum(s >= 0 for s in source_of)
    head = (f"corpus: {len(texts):,} docs, {mb:.1f} MB, {n_planted:,} planted copies "
            f"(built in {time.perf_counter() - t0:.1f}s); num_perm={a.num_perm} bands={a.bands} "
            f"rows={a.num_perm // a.bands} shingle={a.shingle} threshold={a.threshold}; "
            f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(head, flush=True)
    results = run_tools(texts, source_of, tools, a, a.seed)
    return _speed_table(results, len(texts), mb, a, head) if results else ""


def _speed_table(results, n_docs, mb, a, head) -> str:
    base = results.get(a.base)
    rows = []
    for tool, r in results.items():
        rows.append([tool, f"{n_docs / r['seconds']:,.0f}", f"{mb / r['seconds']:.2f}", f"{r['seconds']:.1f}",
                     f"{r['cpu_seconds']:.1f}", f"{r['peak_mb']:.0f}", f"{r['precision']:.4f}", f"{r['recall']:.4f}",
                     f"{r['recall_in_scope']:.4f}",
                     f"{r['candidates']:,}", f"{r['n_pairs']:,}",
                     f"{r['seconds'] / base['seconds']:.1f}x" if base else "-",
                     f"{r['cpu_seconds'] / base['cpu_seconds']:.1f}x" if base else "-"])
    return print_table(["system", "docs/s", "MB/s", "wall s", "CPU s", "peak MB", "precision", "recall",
                        "recall in scope", "candidates", "pairs", f"{a.base} faster (wall)", f"{a.base} faster (CPU)"],
                       rows, title=head)


if __name__ == "__main__":
    main()
