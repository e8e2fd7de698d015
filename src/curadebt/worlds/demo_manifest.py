"""The demo world's ground truth: :class:`WorldManifest` (what ``manifest.json`` holds) and how it is
counted from the generated documents (never from the generator's targets)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curadebt.text.tokenize import word_tokenize
from curadebt.worlds.demo_text import (FACT_FREE_SENTENCES, FACT_PATTERN_SENTENCES, FACTS, NEAR_EDIT_FRACTION,
                                       OTHER_TOMS, SOURCE_ORDER, SOURCE_TEMPLATES, TOM_CRUISE, TOM_SENTENCES)

MANIFEST_VERSION = 1
CORPUS_FILE = "corpus.jsonl"
PROBES_FILE = "probes.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass
class WorldManifest:
    """Ground truth of a generated world. ``to_json()`` is what ``manifest.json`` holds."""

    seed: int
    n_docs: int
    sources: dict[str, dict[str, Any]]      # source -> {documents, tokens, token_share}
    debts: list[dict[str, Any]]             # planted debts (each: id, dimension, subject, ... exact counts)
    controls: list[dict[str, Any]]          # things that look similar but must not be flagged
    tokens: int = 0
    files: dict[str, str] = field(default_factory=lambda: {"corpus": CORPUS_FILE, "probes": PROBES_FILE,
                                                            "manifest": MANIFEST_FILE})
    version: int = MANIFEST_VERSION
    out_dir: Path | None = None             # where the files are (not written to manifest.json)

    @property
    def corpus_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["corpus"]

    @property
    def probes_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["probes"]

    @property
    def manifest_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["manifest"]

    def debt(self, debt_id: str) -> dict[str, Any]:
        for d in self.debts:
            if d["id"] == debt_id:
                return d
        raise KeyError(debt_id)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "generator": "curadebt.worlds.demo", "seed": self.seed,
                "n_docs": self.n_docs, "tokens": self.tokens, "files": dict(self.files),
                "sources": self.sources, "debts": self.debts, "controls": self.controls}

    @classmethod
    def load(cls, path: str | Path) -> "WorldManifest":
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_FILE
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(seed=d["seed"], n_docs=d["n_docs"], sources=d["sources"], debts=d["debts"],
                   controls=d["controls"], tokens=d.get("tokens", 0), files=d["files"], version=d["version"],
                   out_dir=path.parent)


def count_manifest(seed, n_docs, plan, docs, copies, cookie_index, exact_bases, near_bases, jaccards, tom_plan,
              fact_pattern_docs) -> WorldManifest:
    """The ground truth, counted from what was generated (never from the targets)."""
    sources, total = _source_counts(docs)
    debts = [_salience_debt(plan, tom_plan)]
    fact_debts, controls = _fact_entries(plan, fact_pattern_docs)
    debts += fact_debts
    debts.append(_duplicates_debt(plan, docs, copies, cookie_index, exact_bases, near_bases, jaccards))
    debts += _mixture_and_order_debts(sources, total)
    debts.append(_frequency_debt(docs))
    controls.append({"id": "salience-recurring-people", "dimension": "salience",
                     "kind": "recurring people with unshared name tokens",
                     "description": "the 100 recurring people use first and last names that no other entity "
                                    "uses, so no spillover is expected from them"})
    return WorldManifest(seed=seed, n_docs=n_docs, sources=sources, debts=debts, controls=controls, tokens=total)


def _source_counts(docs) -> tuple[dict[str, dict[str, Any]], int]:
    """Documents and word tokens per source (largest first), and the total tokens."""
    src: dict[str, dict[str, Any]] = {s: {"documents": 0, "tokens": 0} for s in SOURCE_ORDER}
    total = 0
    for p in docs:
        n = len(word_tokenize(p["text"]))
        src[p["source"]]["documents"] += 1
        src[p["source"]]["tokens"] += n
        total += n
    for s in src.values():
        s["token_share"] = round(s["tokens"] / total, 6)
    sources = dict(sorted(src.items(), key=lambda kv: (-kv[1]["tokens"], kv[0])))
    return sources, total


def _salience_debt(plan, tom_plan) -> dict[str, Any]:
    """Every 'Tom' token in the corpus belongs to one of the planted Tom people."""
    mentions = {name: 0 for name in tom_plan}
    documents = {name: 0 for name in tom_plan}
    for p in plan:
        if p["plant"] is not None and p["plant"][0] == "tom":
            mentions[p["plant"][1]] += p["plant"][2]
            documents[p["plant"][1]] += 1
    tom_tokens = sum(mentions.values())
    others = {n: mentions[n] for n in OTHER_TOMS}
    other_inside = sorted(others.values())
    median_other = (other_inside[len(other_inside) // 2] if len(other_inside) % 2
                    else (other_inside[len(other_inside) // 2 - 1] + other_inside[len(other_inside) // 2]) / 2)
    tc = mentions[TOM_CRUISE]
    return {
        "id": "salience-tom-cruise", "dimension": "salience", "kind": "over-represented entity (token spillover)",
        "subject": "Tom", "entity": TOM_CRUISE,
        "entity_documents": documents[TOM_CRUISE], "entity_mentions": tc, "token_count": tom_tokens,
        "share": round(tc / tom_tokens, 6),
        "lift": round(tom_tokens / (tom_tokens - tc + median_other), 6),
        "other_entities": dict(sorted(others.items())),
        "other_documents": dict(sorted((n, documents[n]) for n in OTHER_TOMS)),
        "description": f"'Tom' is {tc / tom_tokens:.0%} '{TOM_CRUISE}' ({tc} of {tom_tokens} occurrences); "
                       f"{len(OTHER_TOMS)} other 'Tom X' people share the rest",
    }


def _fact_entries(plan, fact_pattern_docs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per probe: the sentences of each answer; planted facts are debts, the others controls."""
    debts: list[dict[str, Any]] = []
    controls: list[dict[str, Any]] = []
    for probe_id, subject, answers, planted in FACTS:
        rows = {}
        for answer, _ in answers:
            k = sum(1 for p in plan if p["plant"] is not None and p["plant"][0] == "fact"
                    and p["plant"][1] == probe_id and p["plant"][3] == answer)
            rows[answer] = {"documents": k, "sentences": k, "pattern_matches": fact_pattern_docs.get((probe_id, answer), 0)}
        ranked = sorted(rows, key=lambda a: (-rows[a]["sentences"], a))
        top, runner = ranked[0], ranked[1]
        ratio = (rows[top]["sentences"] + 1) / (rows[runner]["sentences"] + 1)
        entry = {
            "id": f"probes-{probe_id}", "dimension": "probes", "kind": "dominant fact over its rivals",
            "subject": subject, "probe_id": probe_id, "answers": rows, "top_answer": top, "runner_up": runner,
            "raw_ratio": round(rows[top]["sentences"] / max(rows[runner]["sentences"], 1), 6),
            "dominance_ratio": round(ratio, 6),
            "description": f"{probe_id}: '{top}' {rows[top]['sentences']} vs '{runner}' {rows[runner]['sentences']} "
                           "sentences",
        }
        (debts if planted else controls).append(entry)
    return debts, controls


def _duplicates_debt(plan, docs, copies, cookie_index, exact_bases, near_bases, jaccards) -> dict[str, Any]:
    exact_docs = sum(1 for c in copies if c["kind"] == "exact")
    near_docs = sum(1 for c in copies if c["kind"] == "near")
    return {
        "id": "duplicates", "dimension": "duplicates", "kind": "exact and near duplicates",
        "subject": "documents",
        "exact_duplicate_documents": exact_docs,
        "exact_clusters": 1 + len(exact_bases),
        "whitespace_variants": sum(1 for c in copies if c["whitespace"]),
        "near_duplicate_documents": near_docs, "near_clusters": len(near_bases),
        "duplicate_share": round((exact_docs + near_docs) / len(docs), 6),
        "largest_cluster": {"kind": "exact", "size": 1 + sum(1 for c in copies if c["copy_of"] == cookie_index),
                            "representative": plan[cookie_index]["id"],
                            "ids": sorted([plan[cookie_index]["id"]] + [c["id"] for c in copies
                                                                         if c["copy_of"] == cookie_index])},
        "near_edit_fraction": NEAR_EDIT_FRACTION,
        "copies": [{"id": c["id"], "copy_of": plan[c["copy_of"]]["id"], "kind": c["kind"],
                    "whitespace_changed": c["whitespace"]} for c in sorted(copies, key=lambda c: c["id"])],
        "near_jaccard_3word": {"min": round(min(jaccards), 4), "mean": round(sum(jaccards) / len(jaccards), 4)},
        "description": f"{exact_docs} exact copies in {1 + len(exact_bases)} clusters and {near_docs} near copies "
                       f"in {len(near_bases)} clusters ({(exact_docs + near_docs) / len(docs):.1%} of documents)",
    }


def _mixture_and_order_debts(sources, total) -> list[dict[str, Any]]:
    debts: list[dict[str, Any]] = []
    top_source = next(iter(sources))
    debts.append({
        "id": "mixture-dominant-source", "dimension": "mixture", "kind": "dominant source",
        "subject": top_source, "token_share": sources[top_source]["token_share"],
        "description": f"source '{top_source}' holds {sources[top_source]['token_share']:.0%} of tokens",
    })
    legal_tokens = sources["legal"]["tokens"]
    n_legal = sources["legal"]["documents"]
    debts.append({
        "id": "order-early-legal", "dimension": "order", "kind": "topic concentrated early",
        "subject": "legal", "documents": n_legal, "first_position": 0, "last_position": n_legal - 1,
        "token_share": sources["legal"]["token_share"],
        "ends_at_token_fraction": round(legal_tokens / total, 6),
        "description": f"all {n_legal} 'legal' documents come first: the first "
                       f"{legal_tokens / total:.1%} of tokens is 100% legal",
    })
    return debts


def _frequency_debt(docs) -> dict[str, Any]:
    trigrams: Counter = Counter()
    n_tri = 0
    for p in docs:
        toks = word_tokenize(p["text"])
        trigrams.update(" ".join(toks[i:i + 3]) for i in range(len(toks) - 2))
        n_tri += max(0, len(toks) - 2)
    top = sorted(trigrams.items(), key=lambda kv: (-kv[1], kv[0]))
    coverage = sum(c for _, c in top[:100]) / n_tri
    return {
        "id": "frequency-templated-text", "dimension": "frequency", "kind": "repetitive phrasing",
        "subject": "3-grams", "trigrams": n_tri, "top100_coverage_3gram": round(coverage, 6),
        "top": [[g, c] for g, c in top[:5]],
        "description": f"the whole world is written from about {_n_templates()} sentence templates: the 100 most "
                       f"frequent 3-grams cover {coverage:.0%} of all 3-grams (natural prose: 1-4%)",
    }


def _n_templates() -> int:
    return (sum(len(t) for t in SOURCE_TEMPLATES.values()) + len(TOM_SENTENCES) + len(FACT_PATTERN_SENTENCES)
            + len(FACT_FREE_SENTENCES))
