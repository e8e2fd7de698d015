"""Benchmark the token index (curadebt.trace) against a brute-force numpy scan and infini-gram.

    python bench/trace_index.py                     # 5M tokens (quick)
    python bench/trace_index.py --tokens 50000000   # the 50M-token run reported in docs/trace.md

1. Builds a corpus of at least --tokens word tokens by repeating ../shared/data/mixed/corpus.jsonl
   with perturbations (copy 0 is the original; later copies keep half the documents verbatim,
   as real crawls repeat documents, and substitute ~3% of the words of the others).
2. Builds the index through the same path as `curadebt index build` and reports build
   throughput and bytes per token.
3. Times exact counts of random n-grams (1-10 tokens; 80% taken from the corpus, 20% with one
   token changed, mostly absent): p50 / p99 latency, next to
   - a brute-force scan with numpy over the same token ids held in memory (and checks that every
     count agrees), and
   - the infini-gram package (pip install infini-gram), fed the same token ids in its own file
     format (its tokenising step needs a Hugging Face tokenizer download, so it is skipped; its
     suffix-array builder and engine run offline), again checking that every count agrees.
   Also times documents(), next_tokens() and maximal_spans().
Prints a table; --json writes the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from curadebt.text.tokenize import WORD_RE  # noqa: E402
from curadebt.trace.build import build_index  # noqa: E402
from curadebt.trace.index import TokenIndex  # noqa: E402

SHARED = (ROOT / ".." / "shared" / "data").resolve()


def make_corpus(path: Path, target_tokens: int, seed: int) -> tuple[int, int]:
    src = SHARED / "mixed" / "corpus.jsonl"
    if not src.exists():
        sys.exit(f"needs {src} (the shared real-data folder beside the project)")
    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    pool = [w for r in rows[::50] for w in r["text"].split()]
    tokens = docs = 0
    copy = 0
    with open(path, "w", encoding="utf-8") as fh:
        while tokens < target_tokens:
            for r in rows:
                text = r["text"]
                if copy > 0 and rng.random() < 0.5:
                    words = text.split()
                    for _ in range(max(1, len(words) // 33)):
                        words[rng.randrange(len(words))] = rng.choice(pool)
                    text = " ".join(words)
                n = len(WORD_RE.findall(text))
                fh.write(json.dumps({"id": f"c{copy}/{r['id']}", "text": text, "source": r.get("source")}) + "\n")
                tokens += n
                docs += 1
                if tokens >= target_tokens:
                    break
            copy += 1
    return docs, tokens


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def sample_queries(idx: TokenIndex, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    vocab = idx.tokenizer.vocab_size
    while len(out) < n:
        sh = idx.shards[int(rng.integers(len(idx.shards)))]
        m = int(rng.integers(1, 11))
        p = int(rng.integers(0, sh.n - m))
        q = np.asarray(sh.tokens[p:p + m], dtype=np.int64)
        if (q == sh.sep).any():
            continue
        if rng.random() < 0.2:
            q = q.copy()
            q[int(rng.integers(m))] = int(rng.integers(vocab))
        out.append(q)
    return out


def timed(fn, queries) -> tuple[list, list[float]]:
    res, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        r = fn(q)
        ms.append((time.perf_counter() - t0) * 1e3)
        res.append(r)
    return res, ms


def brute_count(T: np.ndarray, q: np.ndarray) -> int:
    m = len(q)
    N = len(T) - m + 1
    mask = T[:N] == q[0]
    for j in range(1, m):
        mask &= T[j:N + j] == q[j]
    return int(np.count_nonzero(mask))


def run_infini_gram(idx: TokenIndex, work: Path, queries: list[np.ndarray], mem_gb: int) -> dict:
    try:
        import infini_gram  # noqa: F401
        from infini_gram.engine import InfiniGramEngine
        import importlib.metadata as md
        version = md.version("infini-gram")
    except Exception as e:  # noqa: BLE001
        return {"error": f"infini-gram not importable ({e}); `pip install infini-gram` needs the network once"}
    u16 = all(sh.tokens.dtype.itemsize == 2 for sh in idx.shards)
    dt = np.uint16 if u16 else np.uint32
    sep = b"\xff" * np.dtype(dt).itemsize
    d = work / "infini-gram"
    shutil.rmtree(d, ignore_errors=True)
    (d / "data").mkdir(parents=True)
    (d / "index").mkdir()
    t0 = time.perf_counter()
    for s, sh in enumerate(idx.shards):  # same shards, same token ids, their layout (separator before each doc)
        toks = np.asarray(sh.tokens).astype(dt)
        starts = np.asarray(sh.doc_starts)
        offs, pos = [], 0
        with open(d / "index" / f"tokenized.{s}", "wb") as fh:
            for j in range(len(starts) - 1):
                b = sep + toks[starts[j]:starts[j + 1] - 1].tobytes()
                offs.append(pos)
                pos += len(b)
                fh.write(b)
        np.asarray(offs, dtype=np.uint64).tofile(d / "index" / f"offset.{s}")
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(d / "data"), "--save_dir",
                        str(d / "index"), "--token_dtype", "u16" if u16 else "u32", "--cpus", str(os.cpu_count() or 1),
                        "--mem", str(mem_gb), "--shards", str(len(idx.shards)), "--ulimit", "4096"],
                       capture_output=True, text=True)
    t_sa = time.perf_counter() - t0
    if r.returncode != 0:
        return {"error": f"infini_gram.indexing failed: {r.stderr[-500:]}"}
    size = sum(f.stat().st_size for f in (d / "index").iterdir() if f.name.startswith(("tokenized", "table")))
    eng = InfiniGramEngine(index_dir=str(d / "index"), eos_token_id=0,
                           vocab_size=min(idx.tokenizer.vocab_size + 1, 65535) if u16 else idx.tokenizer.vocab_size + 1,
                           token_dtype="u16" if u16 else "u32")
    qs = [q.tolist() for q in queries]
    res, first_ms = timed(lambda q: eng.count(input_ids=q)["count"], qs)
    res, ms = timed(lambda q: eng.count(input_ids=q)["count"], qs)
    return {"version": version, "sa_seconds": t_sa, "write_seconds": t_write, "bytes": size, "counts": res, "ms": ms,
            "first_ms": first_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=5_000_000, help="corpus size in word tokens (default 5M; 50M for the reported run)")
    ap.add_argument("--shard-tokens", type=int, default=100_000_000, help="token budget per shard")
    ap.add_argument("--tokenizer", default="words")
    ap.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8), help="tokenising processes")
    ap.add_argument("--queries", type=int, default=2000, help="count queries timed")
    ap.add_argument("--brute-queries", type=int, default=40, help="queries for the brute-force scan (slow)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the corpus and indexes go (default: a temp dir, removed)")
    ap.add_argument("--no-infini-gram", action="store_true")
    ap.add_argument("--mem-gb", type=int, default=8, help="memory given to infini-gram's builder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="curadebt-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"tokens_target": args.tokens, "cpus": os.cpu_count()}
    try:
        t0 = time.perf_counter()
        corpus = work / "corpus.jsonl"
        n_docs, n_tok = make_corpus(corpus, args.tokens, args.seed)
        print(f"corpus: {n_docs:,} documents, {n_tok:,} tokens, {corpus.stat().st_size / 1e6:,.0f} MB "
              f"({time.perf_counter() - t0:.1f} s to generate)", flush=True)

        from curadebt.corpus import ReaderConfig
        rep = build_index(corpus, work / "idx", tokenizer=args.tokenizer, reader_config=ReaderConfig(id_field="id"),
                          shard_tokens=args.shard_tokens, overwrite=True, workers=args.workers)
        results["build"] = rep.to_json()
        print(f"built: {rep.shards} shard(s) {rep.token_dtypes}, {rep.seconds:.1f} s "
              f"(tokenise {rep.tokenize_seconds:.1f}, sort {rep.sort_seconds:.1f}, write {rep.write_seconds:.1f}), "
              f"{rep.tokens_per_second:,.0f} tokens/s, {rep.index_bytes_per_token:.2f} B/token "
              f"({rep.total_bytes_per_token:.2f} with text)", flush=True)

        idx = TokenIndex.open(work / "idx")
        queries = sample_queries(idx, args.queries, args.seed)
        # first pass: right after opening (pages of the memory maps touched for the first time);
        # second pass: the same queries again (steady state). Both are reported.
        ours, first_ms = timed(idx.count, queries)
        ours2, ours_ms = timed(idx.count, queries)
        assert ours == ours2
        n_present = sum(1 for c in ours if c > 0)
        print(f"count: first pass p50 {pct(first_ms, 50):.3f} ms, p99 {pct(first_ms, 99):.3f} ms; "
              f"second pass p50 {pct(ours_ms, 50):.3f} ms, p99 {pct(ours_ms, 99):.3f} ms over {len(queries)} queries "
              f"({n_present} present, {len(queries) - n_present} absent)", flush=True)

        docs_q = [q for q, c in zip(queries, ours) if c > 0][:200]
        _, docs_ms = timed(lambda q: idx.documents(q, limit=10), docs_q)
        _, next_ms = timed(lambda q: idx.next_tokens(q, k=10), docs_q)
        rng = random.Random(args.seed)
        texts = []
        rows = [json.loads(line) for line in (SHARED / "mixed" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[::97]]
        for _ in range(20):  # 100-word "model outputs": verbatim pieces + invented glue
            words: list[str] = []
            while len(words) < 100:
                w = rng.choice(rows)["text"].split()
                a = rng.randrange(max(1, len(w) - 15))
                words += w[a:a + rng.randint(4, 15)] + rng.sample(["zorp", "flimsy", "quantum", "yesterday", "blue"], 2)
            texts.append(" ".join(words[:100]))
        _, spans_ms = timed(lambda t: idx.maximal_spans(t), texts)

        T = np.concatenate([np.asarray(sh.tokens).astype(np.uint32) for sh in idx.shards])
        bq = queries[:args.brute_queries]
        brute, brute_ms = timed(lambda q: brute_count(T, q), bq)
        brute_agree = all(a == b for a, b in zip(brute, ours))
        del T

        ig = {"error": "skipped (--no-infini-gram)"} if args.no_infini_gram else run_infini_gram(idx, work, queries, args.mem_gb)
        ig_agree = ig.get("counts") == ours if "counts" in ig else None

        results.update({
            "queries": len(queries), "present": n_present,
            "count_ms": {"p50": pct(ours_ms, 50), "p99": pct(ours_ms, 99), "mean": float(np.mean(ours_ms)),
                         "first_pass_p50": pct(first_ms, 50), "first_pass_p99": pct(first_ms, 99)},
            "documents_ms": {"p50": pct(docs_ms, 50), "p99": pct(docs_ms, 99)},
            "next_tokens_ms": {"p50": pct(next_ms, 50), "p99": pct(next_ms, 99)},
            "maximal_spans_100_tokens_ms": {"p50": pct(spans_ms, 50), "p99": pct(spans_ms, 99)},
            "brute": {"queries": len(bq), "p50": pct(brute_ms, 50), "p99": pct(brute_ms, 99), "agree": brute_agree},
            "infini_gram": {k: v for k, v in ig.items() if k not in ("counts", "ms", "first_ms")} | (
                {"p50": pct(ig["ms"], 50), "p99": pct(ig["ms"], 99), "first_pass_p50": pct(ig["first_ms"], 50),
                 "first_pass_p99": pct(ig["first_ms"], 99), "agree": ig_agree} if "ms" in ig else {}),
        })

        w = [26, 9, 12, 12, 11, 11, 13, 13, 18]
        line = lambda *c: print("  ".join(str(x).ljust(n) if i == 0 else str(x).rjust(n) for i, (x, n) in enumerate(zip(c, w))))
        print()
        print(f"{rep.tokens:,} tokens, {rep.documents:,} documents, {rep.shards} shard(s), {os.cpu_count()} CPUs, warm page cache")
        line("system", "build s", "tokens/s", "bytes/token", "count p50", "count p99", "1st pass p50", "1st pass p99", "counts agree")
        line("-" * w[0], *("-" * n for n in w[1:]))
        line("curadebt index", f"{rep.seconds:.1f}", f"{rep.tokens_per_second:,.0f}", f"{rep.index_bytes_per_token:.2f}",
             f"{pct(ours_ms, 50):.3f} ms", f"{pct(ours_ms, 99):.3f} ms", f"{pct(first_ms, 50):.3f} ms",
             f"{pct(first_ms, 99):.3f} ms", f"reference ({len(queries)} q)")
        line("  suffix sort only", f"{rep.sort_seconds:.1f}", f"{rep.tokens / max(rep.sort_seconds, 1e-9):,.0f}", "", "", "", "", "", "")
        line("brute-force numpy scan", "0", "-", "4.00 (RAM)", f"{pct(brute_ms, 50):.1f} ms", f"{pct(brute_ms, 99):.1f} ms",
             "", "", f"{'yes' if brute_agree else 'NO'} ({len(bq)} q)")
        if "ms" in ig:
            line(f"infini-gram {ig['version']}", f"{ig['sa_seconds']:.1f}", f"{rep.tokens / ig['sa_seconds']:,.0f}",
                 f"{ig['bytes'] / rep.tokens:.2f}", f"{pct(ig['ms'], 50):.3f} ms", f"{pct(ig['ms'], 99):.3f} ms",
                 f"{pct(ig['first_ms'], 50):.3f} ms", f"{pct(ig['first_ms'], 99):.3f} ms",
                 f"{'yes' if ig_agree else 'NO'} ({len(queries)} q)")
            print("  (infini-gram build = its suffix-array step only, on our token ids; its tokenising step needs a "
                  "Hugging Face tokenizer download)")
        else:
            print(f"infini-gram: {ig['error']}")
        print()
        w2 = [26, 12, 12]
        line2 = lambda *c: print("  ".join(str(x).ljust(n) if i == 0 else str(x).rjust(n) for i, (x, n) in enumerate(zip(c, w2))))
        line2("curadebt query", "p50 ms", "p99 ms")
        line2("-" * w2[0], "-" * w2[1], "-" * w2[2])
        line2("count", f"{pct(ours_ms, 50):.3f}", f"{pct(ours_ms, 99):.3f}")
        line2(f"documents(limit=10)", f"{pct(docs_ms, 50):.2f}", f"{pct(docs_ms, 99):.2f}")
        line2("next_tokens(k=10)", f"{pct(next_ms, 50):.2f}", f"{pct(next_ms, 99):.2f}")
        line2("maximal_spans(100 words)", f"{pct(spans_ms, 50):.1f}", f"{pct(spans_ms, 99):.1f}")
        print(f"(documents and next_tokens over {len(docs_q)} present n-grams; maximal_spans over {len(texts)} texts)")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
