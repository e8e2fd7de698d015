"""The arms of ``lab curate-vs-correct``: what each trains on, in which order, for how many steps.

Every arm trains the same model (same initialisation, same tokenizer, same optimiser) for the same
number of optimiser steps ``S`` (``epochs`` passes over the raw corpus). An arm is a list of
:class:`Phase` s (texts in training order, cycled for a share of ``S``); adding an arm is one
function here decorated with :func:`arm`.

Oracle arms change the fact documents with the world's ground truth (which document states which
fact); tool arms run ``curadebt curate`` (the Python API) on the raw corpus file and train on what
it writes, in the order it writes it. The fix arms (``raw+fix``, ``raw+fix-extra``) are not corpora:
they branch off the raw run (:mod:`curadebt.lab.curate_vs_correct`).
"""
from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from curadebt.worlds.zipf import ZipfWorld


@dataclass
class Phase:
    texts: list[str]          # in training order
    share: float              # of the arm's steps


@dataclass
class ArmPlan:
    phases: list[Phase]
    curate: dict[str, Any] = field(default_factory=dict)   # what the curate run did (tool arms)


@dataclass(frozen=True)
class ArmSpec:
    name: str
    kind: str                 # "oracle" | "tool" | "fix" | "reference"
    help: str
    build: Callable[..., ArmPlan] | None


ARMS: dict[str, ArmSpec] = {}


def arm(name: str, kind: str, help: str):
    def deco(fn):
        ARMS[name] = ArmSpec(name, kind, help, fn)
        return fn
    return deco


def _fix_arm(name: str, help: str) -> None:
    ARMS[name] = ArmSpec(name, "fix", help, None)


def fact_of_doc(world: ZipfWorld) -> list[int | None]:
    return [d["meta"].get("fact") for d in world.docs]


@arm("raw", "reference", "the raw corpus as generated (seeded shuffle), cycled")
def raw_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    return ArmPlan([Phase(world.texts(), 1.0)])


@arm("cap", "oracle", "every fact's documents beyond the first `cap` dropped (from step 0); filler kept")
def cap_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    seen = [0] * len(world.facts)
    texts = []
    for d, f in zip(world.docs, fact_of_doc(world)):
        if f is not None:
            seen[f] += 1
            if seen[f] > cfg.cap:
                continue
        texts.append(d["text"])
    return ArmPlan([Phase(texts, 1.0)])


@arm("uniform", "oracle", "every fact in the same number of documents (the mean: the fact share is kept), "
                          "head documents sampled, tail documents repeated at random places")
def uniform_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    rng = random.Random(world.config.seed * 7919 + 1)
    by_fact: dict[int, list[str]] = {}
    filler = []
    for d, f in zip(world.docs, fact_of_doc(world)):
        (by_fact.setdefault(f, []) if f is not None else filler).append(d["text"])
    m = max(1, round(sum(len(v) for v in by_fact.values()) / len(world.facts)))
    facts = []
    for f in sorted(by_fact):
        docs = by_fact[f]
        facts += rng.sample(docs, m) if len(docs) >= m else [docs[i % len(docs)] for i in range(m)]
    texts = filler + facts
    rng.shuffle(texts)
    return ArmPlan([Phase(texts, 1.0)])


def curate_texts(world: ZipfWorld, workdir: Path, name: str, recipe: dict[str, Any] | None) -> tuple[list[str], dict]:
    """``curadebt curate`` on the world's corpus (``recipe`` None: the default recipe); the written
    texts in output order and what each op did."""
    from curadebt.curation.recipe import recipe_from_dict
    from curadebt.curation.runner import curate

    src = workdir / "raw" / "corpus.jsonl"
    if not src.exists():
        world.write(workdir / "raw")
    out = workdir / name
    shutil.rmtree(out, ignore_errors=True)  # our own scratch folder: a killed run left it half-made
    res = curate(str(src), out, recipe_from_dict(recipe) if recipe is not None else None, progress=False)
    texts = []
    for shard in res.files["shards"]:
        with open(out / shard, encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    ops = [{"op": o.op, "ran": o.ran, "documents_in": o.documents_in, "documents_out": o.documents_out,
            "dropped": o.dropped} for o in res.operations]
    return texts, {"ops": ops, "documents": len(texts)}


def normalize_recipe(cfg) -> dict[str, Any]:
    return {"ops": [{"normalize": {"alpha": cfg.normalize_alpha, "min_exposure": cfg.normalize_min}},
                    {"order": {"strategy": "shuffle"}}]}


@arm("curate-default", "tool", "`curadebt curate` with its default recipe (its own order)")
def curate_default_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    texts, info = curate_texts(world, workdir, "curate-default", None)
    return ArmPlan([Phase(texts, 1.0)], info)


@arm("near-dedup", "tool", "`curadebt curate` with near_dedup alone (its defaults and tail guard), then a shuffle")
def near_dedup_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    texts, info = curate_texts(world, workdir, "near-dedup",
                               {"ops": [{"near_dedup": {"keep": "first"}}, {"order": {"strategy": "shuffle"}}]})
    return ArmPlan([Phase(texts, 1.0)], info)


@arm("normalize", "tool", "`curadebt curate` with normalize (alpha `normalize_alpha`, min_exposure "
                          "`normalize_min`, its default budgets), then a shuffle")
def normalize_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    texts, info = curate_texts(world, workdir, "normalize", normalize_recipe(cfg))
    return ArmPlan([Phase(texts, 1.0)], info)


@arm("raw-then-normalized", "tool", "the first `warmup_share` of the steps on the raw corpus, the rest on the "
                                    "normalize arm's corpus")
def raw_then_normalized_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    texts, info = curate_texts(world, workdir, "normalize", normalize_recipe(cfg))
    return ArmPlan([Phase(world.texts(), cfg.warmup_share), Phase(texts, 1 - cfg.warmup_share)], info)


@arm("normalized-then-raw", "tool", "the reverse: the normalize arm's corpus first, then the raw corpus")
def normalized_then_raw_arm(world: ZipfWorld, cfg, workdir: Path) -> ArmPlan:
    texts, info = curate_texts(world, workdir, "normalize", normalize_recipe(cfg))
    return ArmPlan([Phase(texts, cfg.warmup_share), Phase(world.texts(), 1 - cfg.warmup_share)], info)


_fix_arm("raw+fix", "raw for `fix_start` of the steps, then the rest on the corpus's own documents of the "
                    "facts the model gets wrong on the probe phrasings (repeated), 1:1 with raw replay: "
                    "matched compute")
_fix_arm("raw+fix-extra", "the whole raw run, then `fix_extra` x the steps more of the same fix: extra compute")

_NAME = re.compile(r"(?=\b([A-Z][a-z]+ [A-Z][a-z]+)\b)")  # every pair of capitalised words, overlapping


def fact_counts(texts: list[str], world: ZipfWorld) -> list[int]:
    """Per fact: documents in ``texts`` that name its person (each such document states the fact)."""
    index = {f.person: i for i, f in enumerate(world.facts)}
    out = [0] * len(world.facts)
    for t in texts:
        for i in {index[m] for m in _NAME.findall(t) if m in index}:
            out[i] += 1
    return out


def docs_naming(texts: list[str], world: ZipfWorld, facts: set[int]) -> list[str]:
    """The documents of ``texts`` that name a person of ``facts`` (found by the name, as a user would)."""
    names = {world.facts[i].person for i in facts}
    return [t for t in texts if any(m in names for m in _NAME.findall(t))]
