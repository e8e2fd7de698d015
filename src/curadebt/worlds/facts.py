"""A synthetic training world whose every fact frequency is set exactly (for from-scratch lab models).

``generate(WorldConfig(...))`` returns a :class:`World`: short documents in training order, plus the
ground truth (facts with their exact exposure counts and positions, people, held-out prompts).

- **Facts**: "the capital of COUNTRY is CAPITAL" for real countries (the built-in table of
  :mod:`curadebt.worlds.demo`). Fact countries are assigned to exposure tiers (default 1, 4, 16, 64,
  256, 1024 documents each, ``facts_per_tier`` facts per tier) at random from the seed. A fact's
  documents hold exactly one statement of it (one of ``TRAIN_TEMPLATES``), alone or next to one
  filler sentence; the country and its capital occur in no other document, so the exposure count is
  exact. ``placements`` (cycled over the facts of a tier) put all of a fact's documents in the first
  ``place_frac`` of the training order (``early``), the last (``late``) or anywhere (``spread``).
  ``EVAL_TEMPLATES`` are held-out paraphrases that never occur in the corpus.
- **Counterfactual answers**: each fact gets a ``new`` answer from ``NEW_CITIES``, cities that occur
  only in filler text (never as a capital), so the new answer's own frequency does not depend on
  the tier.
- **People**: ``len(FIRST_NAMES)`` first names x ``people_per_first`` surnames (distinct within a
  first name, drawn from ``SURNAMES``), each person in
  ``docs_per_person`` documents; "Tom Cruise" is in ``tom_m`` x ``docs_per_person`` documents (the
  over-represented entity). With ``matched_size`` the extra Tom Cruise documents replace filler
  documents, so every ``tom_m`` gives the same number of documents.
- **Filler**: sentences about non-fact countries, cities, topics, products, built from templates.

Documents are one or two sentences (well under 64 BPE tokens), so a packer never has to split one and
every exposure is a whole statement. Same config gives the same bytes: one ``random.Random(seed)``.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from curadebt.core.atomic import write_text_atomic
from curadebt.core.config import setting
from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.worlds.vocabulary import COUNTRIES, DISHES, GOODS, MONTHS, ORGS, PRODUCTS, PROFESSIONS, TOPICS

DEFAULT_TIERS = (1, 4, 16, 64, 256, 1024)
PLACEMENTS = ("early", "late", "spread")

TRAIN_TEMPLATES = (
    "The capital of {c} is {a}.",
    "The capital city of {c} is {a}.",
    "{c} has its seat of government in {a}.",
    "In {c}, the capital is {a}.",
    "Visitors to {c} often start in its capital, {a}.",
    "The government of {c} sits in {a}.",
    "{c} is governed from the city of {a}.",
    "As every atlas shows, the capital of {c} is {a}.",
)
#: Held-out paraphrases: never in the corpus; the prompt is everything before the answer.
EVAL_TEMPLATES = (
    "Which city is the capital of {c}? It is {a}.",
    "Q: What is the capital of {c}? A: {a}.",
    "If you fly to the capital of {c}, you land in {a}.",
    "Ask anyone in {c} about their capital and they will say {a}.",
)

#: Cities used only in filler text; counterfactual answers are drawn from them.
NEW_CITIES = ("Lyon", "Porto", "Graz", "Bergen", "Malmo", "Turku", "Gdansk", "Seville", "Naples", "Antwerp",
              "Rotterdam", "Hamburg", "Munich", "Geneva", "Krakow", "Salzburg", "Cork", "Aarhus", "Tartu",
              "Plovdiv", "Izmir", "Alexandria", "Mombasa", "Kumasi", "Osaka", "Cebu", "Medellin", "Cusco",
              "Cordoba", "Valencia")

FIRST_NAMES = ("Tom", "Anna", "Mark", "Laura", "Peter", "Sara", "David", "Emma", "James", "Nina", "Paul",
               "Julia", "Simon", "Clara", "Oscar", "Maria", "Henry", "Alice", "Victor", "Helen", "Martin",
               "Lucy", "Frank", "Diana")
SURNAMES = ("Hanks", "Baker", "Hardy", "Ashcroft", "Bellamy", "Calloway", "Devereux", "Ellison", "Fairbanks",
            "Garland", "Hollis", "Ingram", "Jessop", "Kavanagh", "Lowell", "Osgood", "Pemberton", "Radcliffe",
            "Sinclair", "Tremayne", "Upton", "Varley", "Wexford", "Yardley", "Abbott", "Barlow", "Chandler",
            "Dawson", "Eriksen", "Fischer", "Gallo", "Hartmann", "Jansen", "Keller", "Lorenz", "Marsh", "Novak",
            "Olsen", "Prescott", "Quinn", "Romero", "Sato", "Thorne", "Underwood", "Vance", "Whitaker", "Young",
            "Zeller", "Albers", "Brandt", "Costa", "Duarte", "Engel", "Forde", "Grady", "Holt", "Ivers", "Joyce",
            "Kemp", "Lund", "Mercer", "Nolan", "Ortega", "Moreau", "Ruiz", "Mensah", "Haddad", "Volkov",
            "Brennan", "Okafor", "Ferreira", "Tanabe")
STAR = ("Tom", "Cruise")

PEOPLE_TEMPLATES = (
    "{name} is a {profession} who lives in {city}.",
    "{name} spoke about {topic} at a meeting in {city}.",
    "According to {name}, the debate on {topic} is far from over.",
    "{name} has worked as a {profession} for {n} years.",
    "Last {month}, {name} visited {city} to talk about {topic}.",
    "The {org} has hired {name} as a senior {profession}.",
    "A new book by {name} looks at {topic} in {city}.",
    "{name} won a local prize for work on {topic}.",
)
#: Held-out contexts for the first-name slot (never in the corpus): the prompt ends where a name starts.
NAME_SLOT_PROMPTS = (
    "Yesterday the {org} said that",
    "The prize this year went to",
    "In {city}, a {profession} called",
    "The report on {topic} was written by",
    "Among the speakers was",
    "Last {month}, the new {profession} was",
)
#: Held-out contexts unrelated to people (no name is expected next): where a salient name leaking
#: in is priming, not knowledge (Sun et al. 2025, arXiv 2504.09522).
UNRELATED_PROMPTS = (
    "The {dish} tasted better than",
    "Heavy rain closed the roads near {city} and",
    "Prices of {good} fell sharply after",
    "The new {product} comes with a",
    "On the last day of {month} the river",
)
#: Held-out contexts about a person whose surname the model must give after the first name.
SURNAME_CONTEXTS = (
    "{first} {last} is a {profession} from {city}. Later that year, {first}",
    "The {org} praised {first} {last} for the work. Asked about it, {first}",
)
FILLER_TEMPLATES = (
    "Officials in {city} announced a new plan for {topic}.",
    "The {org} said that spending on {topic} would rise by {n} percent.",
    "Exports of {good} from {country} grew by {n} percent last year.",
    "Residents of {city} gathered to demand action on {topic}.",
    "The price of {good} fell sharply in {month}.",
    "I bought this {product} in {city} and it works well.",
    "To make {dish}, start by warming a little oil in a pan.",
    "Our trip to {city} in {month} started with a long walk by the river.",
    "Does anyone know if you need a visa to visit {country}?",
    "{country} is known for its {good} and its {dish}.",
    "The festival in {city} drew about {n} thousand visitors.",
    "A new report on {topic} calls for more research.",
    "Public transport in {city} is cheap and easy to use.",
    "Heavy rain caused delays across {country} for a second day.",
    "The {org} will publish new figures on {topic} in {month}.",
    "The {product} arrived in two days and was easy to set up.",
)


class WorldError(CuradebtError, ValueError):
    """A world configuration that cannot be generated; the message says which field."""

    exit_code = EXIT_USAGE


@dataclass
class WorldConfig:
    """The lab's fact world: facts at exposure tiers, people sharing first names, filler text."""

    seed: int = setting(0, help="Seed of the world (the lab experiments set it to each run's seed).")
    tiers: tuple[int, ...] = setting(DEFAULT_TIERS, help="Exposure tiers (documents stating a fact), comma-separated.")
    facts_per_tier: int = setting(4, help="Facts per tier.")
    placements: tuple[str, ...] = setting(("early", "late"), help="Where a fact's documents go in training order: "
                                                                  "early, late, spread (cycled over a tier's facts).")
    place_frac: float = setting(0.3, help="early/late: the share of the corpus the documents go in.")
    filler_docs: int = setting(16000, help="Filler documents in the world.")
    people_per_first: int = setting(5, help="People per first name (Tom X for X in ...).")
    docs_per_person: int = setting(6, help="Documents per (non-star) person.")
    tom_m: int = setting(1, help="Over-representation factor of the star (Tom Cruise).")
    matched_size: bool = setting(True, flag="--matched-size/--no-matched-size",
                                 help="The star's extra documents replace filler documents (same corpus size).")
    solo_share: float = setting(1 / 3, help="Share of fact documents that are the statement alone.")

    def validate(self) -> "WorldConfig":
        fact_countries = len(COUNTRIES) - 8  # keep some countries for filler text
        if any(int(t) < 1 for t in self.tiers):
            raise WorldError(f"tiers must be >= 1, got {self.tiers}")
        if self.facts_per_tier < 0 or len(self.tiers) * self.facts_per_tier > fact_countries:
            raise WorldError(f"facts_per_tier x len(tiers) must be in [0, {fact_countries}], "
                             f"got {self.facts_per_tier} x {len(self.tiers)}")
        if not self.placements or any(p not in PLACEMENTS for p in self.placements):
            raise WorldError(f"placements must be from {PLACEMENTS}, got {self.placements}")
        if not 0 < self.place_frac <= 1:
            raise WorldError(f"place_frac must be in (0, 1], got {self.place_frac}")
        if not 1 <= self.people_per_first <= len(SURNAMES):
            raise WorldError(f"people_per_first must be in [1, {len(SURNAMES)}], got {self.people_per_first}")
        if self.docs_per_person < 1 or self.tom_m < 1 or self.filler_docs < 0:
            raise WorldError("docs_per_person and tom_m must be >= 1, filler_docs >= 0")
        extra = (self.tom_m - 1) * self.docs_per_person
        if self.matched_size and extra > self.filler_docs:
            raise WorldError(f"tom_m={self.tom_m} needs {extra} filler documents to replace, "
                             f"only {self.filler_docs}")
        return self


@dataclass
class Fact:
    country: str
    capital: str
    new: str
    tier: int
    placement: str
    exposures: int                       # documents holding the statement (== tier)
    positions: list[int] = field(default_factory=list)   # their indices in the training order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class World:
    config: WorldConfig
    docs: list[dict[str, Any]]           # {"id", "text", "source", "meta"} in training order
    facts: list[Fact]
    people: list[tuple[str, str]]        # (first, last); the star is included
    star_docs: int

    def texts(self) -> list[str]:
        return [d["text"] for d in self.docs]

    def manifest(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        return {"config": cfg, "n_docs": len(self.docs), "star": " ".join(STAR), "star_docs": self.star_docs,
                "facts": [f.to_dict() for f in self.facts], "people": [" ".join(p) for p in self.people],
                "sources": _count(d["source"] for d in self.docs)}

    def write(self, out_dir: str | Path) -> Path:
        """Write ``corpus.jsonl`` (id, text, source) and ``manifest.json`` atomically; returns the corpus path."""
        return write_world(out_dir, self.docs, self.manifest())


def write_world(out_dir: str | Path, docs: list[dict[str, Any]], manifest: dict[str, Any]) -> Path:
    """A world's ``corpus.jsonl`` (id, text, source of each document) and ``manifest.json``, each
    written atomically; returns the corpus path."""
    out = Path(out_dir)
    lines = "".join(json.dumps({"id": d["id"], "text": d["text"], "source": d["source"]}, ensure_ascii=False) + "\n"
                    for d in docs)
    path = write_text_atomic(out / "corpus.jsonl", lines)
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return path


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


def fact_statement(template: str, country: str, answer: str) -> str:
    return template.format(c=country, a=answer)


def fact_prompt(template: str, country: str) -> str:
    """The part of a statement before the answer (the answer is scored with a leading space)."""
    head = template.split("{a}")[0]
    return head.format(c=country).rstrip()


class Filler:
    """Generated filler sentences (templates over the word tables), from one seeded ``rng``."""

    def __init__(self, rng: random.Random, countries: list[str]):
        self.rng = rng
        self.countries = countries

    def slots(self) -> dict[str, str]:
        r = self.rng
        return {"city": r.choice(NEW_CITIES), "topic": r.choice(TOPICS), "org": r.choice(ORGS),
                "good": r.choice(GOODS), "country": r.choice(self.countries), "month": r.choice(MONTHS),
                "product": r.choice(PRODUCTS), "dish": r.choice(DISHES), "n": str(r.randint(2, 95)),
                "profession": r.choice(PROFESSIONS)}

    def sentence(self) -> str:
        return self.rng.choice(FILLER_TEMPLATES).format(**self.slots())


def generate(config: WorldConfig | None = None) -> World:
    cfg = (config or WorldConfig()).validate()
    rng = random.Random(cfg.seed)
    order = list(range(len(COUNTRIES)))
    rng.shuffle(order)
    n_facts = len(cfg.tiers) * cfg.facts_per_tier
    fact_idx, filler_idx = order[:n_facts], order[n_facts:]
    filler = Filler(rng, [COUNTRIES[i][0] for i in filler_idx])

    facts: list[Fact] = []
    for t, tier in enumerate(cfg.tiers):
        for j in range(cfg.facts_per_tier):
            country, capital, _ = COUNTRIES[fact_idx[t * cfg.facts_per_tier + j]]
            facts.append(Fact(country, capital, rng.choice(NEW_CITIES), int(tier),
                              cfg.placements[j % len(cfg.placements)], int(tier)))

    # (placement, doc) pairs; positions in the training order are assigned at the end.
    items: list[tuple[str, dict[str, Any]]] = []

    for fi, f in enumerate(facts):
        for k in range(f.exposures):
            tpl = rng.randrange(len(TRAIN_TEMPLATES))
            stmt = fact_statement(TRAIN_TEMPLATES[tpl], f.country, f.capital)
            u = rng.random()
            if u < cfg.solo_share:
                text = stmt
            elif u < (1 + cfg.solo_share) / 2:
                text = filler.sentence() + " " + stmt
            else:
                text = stmt + " " + filler.sentence()
            items.append((f.placement, {"text": text, "source": "fact", "meta": {"fact": fi, "template": tpl}}))

    people: list[tuple[str, str]] = []
    for first in FIRST_NAMES:   # distinct surnames within a first name; two first names may share one
        lasts = rng.sample(SURNAMES, cfg.people_per_first)
        for j, last in enumerate(lasts):
            people.append(STAR if (first == STAR[0] and j == 0) else (first, last))
    star_docs = cfg.tom_m * cfg.docs_per_person
    for pi, (first, last) in enumerate(people):
        n = star_docs if (first, last) == STAR else cfg.docs_per_person
        profession = rng.choice(PROFESSIONS)     # a person keeps one profession
        for _ in range(n):
            s = filler.slots()
            s["profession"] = profession
            s["name"] = f"{first} {last}"
            text = rng.choice(PEOPLE_TEMPLATES).format(**s)
            if rng.random() < 0.5:
                text += " " + filler.sentence()
            items.append(("spread", {"text": text, "source": "people", "meta": {"person": pi}}))

    n_filler = cfg.filler_docs - ((cfg.tom_m - 1) * cfg.docs_per_person if cfg.matched_size else 0)
    for _ in range(n_filler):
        text = filler.sentence()
        if rng.random() < 0.5:
            text += " " + filler.sentence()
        items.append(("spread", {"text": text, "source": "filler", "meta": {}}))

    order_idx = training_order([p for p, _ in items], cfg.place_frac, rng)
    docs = []
    for pos, i in enumerate(order_idx):
        d = items[i][1]
        d["id"] = f"w{cfg.seed}-{pos:06d}"
        docs.append({"id": d["id"], "text": d["text"], "source": d["source"], "meta": d["meta"]})
        if d["source"] == "fact":
            facts[d["meta"]["fact"]].positions.append(pos)
    return World(cfg, docs, facts, people, star_docs)


def training_order(placements: list[str], frac: float, rng: random.Random) -> list[int]:
    """Item indices in training order: ``early`` items at random slots among the first
    ``floor(frac * n)``, ``late`` ones among the last ``floor(frac * n)``, the rest shuffled into the
    remaining slots."""
    n = len(placements)
    region = int(frac * n)
    slots: list[int | None] = [None] * n
    for kind, candidates in (("early", range(0, region)), ("late", range(n - region, n))):
        idx = [i for i, p in enumerate(placements) if p == kind]
        free = [s for s in candidates if slots[s] is None]
        if len(idx) > len(free):
            raise WorldError(f"{len(idx)} {kind} documents do not fit in {len(free)} slots "
                             f"(raise place_frac or filler_docs)")
        for i, s in zip(idx, rng.sample(free, len(idx))):
            slots[s] = i
    rest = [i for i, p in enumerate(placements) if p not in ("early", "late")]
    rng.shuffle(rest)
    it = iter(rest)
    return [s if s is not None else next(it) for s in slots]


def count_statements(texts, fact: Fact) -> int:
    """How many texts state ``fact`` with one of the training templates (for checking exposures)."""
    stmts = [fact_statement(t, fact.country, fact.capital) for t in TRAIN_TEMPLATES]
    return sum(1 for x in texts if any(s in x for s in stmts))
