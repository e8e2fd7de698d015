"""A world of conflicting facts for lock-in: each person is said to live in city A early in training
and in city B late, equally often.

``generate_conflict(ConflictWorldConfig(...))``: ``facts_per_n`` invented people for every ``n`` in
``ns``; each gets two distinct cities drawn at random (so every city is the early answer of some
facts and the late answer of others: the answers' own frequencies do not favour either side).
``n`` documents state the early city, at random places in the first ``window`` of the training
order, and ``n`` state the late city, in the last ``window``; generated filler fills the rest.
Phrasings are the Zipf world's (:mod:`curadebt.worlds.zipf`): 8 training ones in the corpus, 4
held-out ones that share no word pair with them. The training order *is* the document order, one
pass (so "early" stays early). Same config, same bytes.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curadebt.core.config import setting
from curadebt.worlds.facts import Filler, WorldError, training_order, write_world
from curadebt.worlds.vocabulary import COUNTRIES
from curadebt.worlds.zipf import CITIES, TRAIN_TEMPLATES, invented_names, statement


@dataclass
class ConflictWorldConfig:
    """People said to live in one city early in training and in another late, n times each."""

    seed: int = setting(0, help="Seed of the world (the lab sets it to each run's seed).")
    ns: tuple[int, ...] = setting((4, 16, 64), help="Statements of each answer per fact, comma-separated.")
    facts_per_n: int = setting(32, help="Facts per n.")
    window: float = setting(0.3, help="The early answer's statements go in the first `window` of the training "
                                      "order, the late answer's in the last.")
    filler_docs: int = setting(30000, help="Filler documents (generated sentences).")
    solo_share: float = setting(1 / 3, help="Share of fact documents that are the statement alone.")

    def validate(self) -> "ConflictWorldConfig":
        if not self.ns or any(int(n) < 1 for n in self.ns) or self.facts_per_n < 1:
            raise WorldError("ns must be >= 1 and facts_per_n >= 1")
        if not 0 < self.window <= 0.5:
            raise WorldError(f"window must be in (0, 0.5], got {self.window}")
        if self.filler_docs < 0 or not 0 <= self.solo_share <= 1:
            raise WorldError("filler_docs must be >= 0 and solo_share in [0, 1]")
        return self


@dataclass
class ConflictFact:
    person: str
    early: str
    late: str
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConflictWorld:
    config: ConflictWorldConfig
    docs: list[dict[str, Any]]            # in training order
    facts: list[ConflictFact]

    def texts(self) -> list[str]:
        return [d["text"] for d in self.docs]

    def write(self, out_dir: str | Path) -> Path:
        return write_world(out_dir, self.docs, {"config": asdict(self.config), "n_docs": len(self.docs),
                                                "facts": [f.to_dict() for f in self.facts]})


def generate_conflict(config: ConflictWorldConfig | None = None) -> ConflictWorld:
    cfg = (config or ConflictWorldConfig()).validate()
    rng = random.Random(cfg.seed)
    names = invented_names(cfg.facts_per_n * len(cfg.ns), rng)
    facts = []
    for i, name in enumerate(names):
        early, late = rng.sample(CITIES, 2)
        facts.append(ConflictFact(name, early, late, int(cfg.ns[i // cfg.facts_per_n])))
    filler = Filler(rng, [c for c, _, _ in COUNTRIES])
    items: list[tuple[str, dict[str, Any]]] = []
    for fi, f in enumerate(facts):
        for side, city in (("early", f.early), ("late", f.late)):
            for _ in range(f.n):
                text = statement(rng.choice(TRAIN_TEMPLATES), f.person, city)
                u = rng.random()
                if u >= cfg.solo_share:
                    text = (filler.sentence() + " " + text) if u < (1 + cfg.solo_share) / 2 else (text + " " + filler.sentence())
                items.append((side, {"text": text, "source": "fact", "meta": {"fact": fi, "side": side}}))
    for _ in range(cfg.filler_docs):
        text = filler.sentence()
        if rng.random() < 0.5:
            text += " " + filler.sentence()
        items.append(("spread", {"text": text, "source": "filler", "meta": {}}))
    order = training_order([p for p, _ in items], cfg.window, rng)
    docs = [{"id": f"c{cfg.seed}-{pos:06d}", **items[i][1]} for pos, i in enumerate(order)]
    return ConflictWorld(cfg, docs, facts)
