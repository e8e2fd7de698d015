"""Decontamination: precision and recall on planted evaluation items, and speed next to a plain
n-gram set scan, in the same run.

    python bench/decontam.py                 # 2,000 CounterFact items, the mixed corpus
    python bench/decontam.py --items 5000 --seed 1

Evaluation items are CounterFact records (../shared/data/counterfact/counterfact-edit.json): each
item is ``prompt ground_truth. rephrase_prompt`` (about 20 words). A seeded random share of them is
planted into documents of ../shared/data/mixed at random places:

- ``verbatim``: the item as it is;
- ``case+punct``: upper-cased, with its spaces doubled and a "?!" added (the same words);
- ``edited``: one word in the middle third replaced (found when 13 words in a row survive on one side);
- ``distractor``: 12 consecutive words of an item (one short of the 13-word threshold): must not count.

Each planting goes into its own document between two sentinel words (so no planting splits another
or runs on into its document's words). The rest are not planted (a natural overlap of those with the corpus would show as a false positive).
Ground truth is what was planted; the reference is also a plain scan: a Python set of every item's
lower-cased word 13-grams, every corpus document's 13-grams looked up (what a data engineer would
write, and what datatrove's and dolma's decontamination steps compute with a Bloom filter; datatrove's
step loads its evaluation sets from the Hugging Face hub, so it cannot run offline here). Prints the
recall per planting kind, the precision, and the time of each method (curadebt's index build and its
queries separately).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data"

from curadebt.text.tokenize import word_tokenize_lower  # noqa: E402
from curadebt.trace.decontam import DecontamConfig, run_decontaminate  # noqa: E402

N = 13
SENTINEL = "qqplantedqq"
KINDS = ("verbatim", "case+punct", "edited", "distractor")


def items_from_counterfact(limit: int) -> list[dict]:
    rows = json.loads((SHARED / "counterfact" / "counterfact-edit.json").read_text(encoding="utf-8"))
    out = []
    for r in rows[:limit]:
        text = f"{r['prompt']} {r['ground_truth']}. {r['rephrase_prompt']}"
        if len(word_tokenize_lower(text)) >= N + 2:
            out.append({"id": str(r["case_id"]), "text": text})
    return out


def plant(items: list[dict], docs: list[dict], rng: random.Random, share: float) -> dict[str, str]:
    """Plant a share of the items (a quarter of each kind); returns item id -> kind."""
    chosen = rng.sample(items, int(len(items) * share))
    targets = rng.sample(range(len(docs)), len(chosen))  # one planting per document: none splits another
    kinds = {}
    for k, (item, target) in enumerate(zip(chosen, targets)):
        kind = KINDS[k % len(KINDS)]
        words = item["text"].split()
        if kind == "verbatim":
            text = item["text"]
        elif kind == "case+punct":
            text = "  ".join(words).upper() + "?!"
        elif kind == "edited":
            j = rng.randrange(len(words) // 3, 2 * len(words) // 3 + 1)  # one word in the middle third
            text = " ".join("zebra" if i == j else w for i, w in enumerate(words))
        else:
            toks = word_tokenize_lower(item["text"])
            a = rng.randrange(0, len(toks) - (N - 1) + 1)
            text = " ".join(toks[a:a + N - 1])
        doc = docs[target]
        cut = rng.randrange(len(doc["text"]) + 1)
        cut = doc["text"].rfind(" ", 0, cut) + 1  # at a word boundary
        # a sentinel word on each side, so a planting never runs on into the document's own words
        doc["text"] = doc["text"][:cut] + f" {SENTINEL} {text} {SENTINEL} " + doc["text"][cut:]
        kinds[item["id"]] = kind
    return kinds


def set_scan(items: list[dict], corpus: Path) -> tuple[set[str], float]:
    """The plain method: a set of every item's word 13-grams, every document's 13-grams looked up."""
    t = time.perf_counter()
    owner: dict[tuple, set[str]] = {}
    for it in items:
        toks = word_tokenize_lower(it["text"])
        for i in range(len(toks) - N + 1):
            owner.setdefault(tuple(toks[i:i + N]), set()).add(it["id"])
    found: set[str] = set()
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            toks = word_tokenize_lower(json.loads(line)["text"])
            for i in range(len(toks) - N + 1):
                hit = owner.get(tuple(toks[i:i + N]))
                if hit:
                    found |= hit
    return found, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=2000, help="CounterFact records to use (default 2000)")
    ap.add_argument("--planted", type=float, default=0.4, help="share of the items planted (default 0.4)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not (SHARED / "counterfact").exists():
        sys.exit(f"needs {SHARED}/counterfact and {SHARED}/mixed")
    rng = random.Random(a.seed)
    items = items_from_counterfact(a.items)
    docs = [json.loads(x) for x in (SHARED / "mixed" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    kinds = plant(items, docs, rng, a.planted)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus, ev = tmp / "corpus.jsonl", tmp / "eval.jsonl"
        corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        ev.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
        t = time.perf_counter()
        from curadebt.trace.build import build_index

        build_index(str(corpus), tmp / "index", tokenizer="words-lower")
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        res = run_decontaminate(str(corpus), [ev], tmp / "out", DecontamConfig(n=N, eval_fields=("text",)),
                                index=tmp / "index")
        t_query = time.perf_counter() - t
        ours = {h.id for h in res.reports[0].hits}
        theirs, t_scan = set_scan(items, corpus)
    tokens = res.index["tokens"]
    print(f"{len(items):,} CounterFact items ({len(kinds):,} planted), {len(docs):,} documents, {tokens:,} tokens; "
          f"n = {N}, seed {a.seed}\n")
    print("| planting | items | found (curadebt) | found (set scan) | expected |")
    print("|---|---:|---:|---:|---|")
    for kind in KINDS:
        ids = {i for i, k in kinds.items() if k == kind}
        want = "none" if kind == "distractor" else ("all" if kind != "edited" else "some")
        print(f"| {kind} | {len(ids):,} | {len(ids & ours):,} ({len(ids & ours) / max(len(ids), 1):.0%}) | "
              f"{len(ids & theirs):,} | {want} |")
    unplanted = {i["id"] for i in items} - set(kinds)
    print(f"| not planted | {len(unplanted):,} | {len(unplanted & ours):,} | {len(unplanted & theirs):,} | none |")
    positives = {i for i, k in kinds.items() if k != "distractor"}
    tp = len(ours & positives)
    fp = len(ours - positives)
    print(f"\nprecision {tp / max(tp + fp, 1):.3f} ({fp} false positives); recall on verbatim + case+punct "
          f"{len(ours & {i for i, k in kinds.items() if k in ('verbatim', 'case+punct')}) / max(1, sum(k in ('verbatim', 'case+punct') for k in kinds.values())):.3f}; "
          f"curadebt and the set scan agree on every item: {ours == theirs}")
    print("\n| method | seconds | ratio to the set scan |")
    print("|---|---:|---:|")
    print(f"| set scan (Python set of 13-grams) | {t_scan:.2f} | 1.00 |")
    print(f"| curadebt: index build + queries | {t_build + t_query:.2f} | {(t_build + t_query) / t_scan:.2f} |")
    print(f"| curadebt: queries on an existing index | {t_query:.2f} | {t_query / t_scan:.2f} |")


if __name__ == "__main__":
    main()
