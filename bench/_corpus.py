"""Build a large benchmark corpus by repeating and perturbing ../shared/data/mixed/corpus.jsonl.

Each repetition changes ~3% of the words of every document (seeded), so the copies are near (not
exact) duplicates and the vocabulary keeps growing, as in a real crawl."""
from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIXED = ROOT.parent / "shared" / "data" / "mixed" / "corpus.jsonl"


def make_big_corpus(target_mb: float, out: Path, seed: int = 0, edit_rate: float = 0.03) -> Path:
    if not MIXED.exists():
        raise SystemExit(f"needs {MIXED} (../shared/data beside the project)")
    out = Path(out)
    if out.exists() and out.stat().st_size >= target_mb * 1e6:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    records = [json.loads(line) for line in MIXED.open(encoding="utf-8")]
    rng = random.Random(seed)
    written, rep = 0, 0
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        while written < target_mb * 1e6:
            for r in records:
                words = r["text"].split(" ")
                if rep:
                    for _ in range(max(1, int(len(words) * edit_rate))):
                        i = rng.randrange(len(words))
                        words[i] = words[i] + rng.choice("abcdefghij") + str(rep)
                line = json.dumps({"id": f"{r['id']}-r{rep}", "text": " ".join(words), "source": r["source"]},
                                  ensure_ascii=False) + "\n"
                fh.write(line)
                written += len(line.encode("utf-8"))
                if written >= target_mb * 1e6:
                    break
            rep += 1
    tmp.replace(out)
    return out
