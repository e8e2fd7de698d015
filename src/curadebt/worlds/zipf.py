"""A fact world with Zipf-distributed exposures: where a corpus's head and tail are set exactly.

``generate_zipf(ZipfWorldConfig(...))`` returns a :class:`ZipfWorld`:

- **Facts**: ``facts`` invented people (two-word names built from syllables, distinct), each living
  in one of ``CITIES`` (32 short city names, drawn uniformly). The person of rank ``r`` (ranks are
  assigned at random) is stated in ``max(1, round(top / r ** zipf_s))`` documents, so a few people
  are in hundreds of documents and most in one or two, as entities are in web text.
- **Phrasings**: each statement uses one of 8 ``TRAIN_TEMPLATES``. ``HELDOUT_TEMPLATES`` (4) are
  never used in the corpus and share no word pair with the training ones (checked by
  :func:`curadebt.worlds.templates.shared_ngrams`, in the tests): a model that answers them has
  extracted the fact, not recalled a string. ``PROBE_TEMPLATES`` (2) are a third set, also absent from
  the corpus, for choosing which facts to fix without looking at the scored phrasings.
  ``paraphrases`` > 1 puts that many distinct phrasings of the fact in each of its documents
  (the augmentation that held-out extraction needs, Allen-Zhu & Li 2023).
- **Documents**: a fact document is its statement(s), alone (``solo_share``) or next to one filler
  sentence. Filler documents (``filler_docs``, default: as many as the fact documents) are one or
  two filler sentences: generated from templates (``filler_text`` unset) or real sentences from a
  text file (``.txt``, or ``.jsonl`` with a ``text`` field), for instance ``../shared/data``.
- **Held-out filler**: ``heldout_filler`` filler documents that are not in the corpus (generated with
  another stream, or real sentences not used in it), for a loss that involves no fact.

Training order: a seeded shuffle. Same config, same bytes. A person's name occurs only in their
own fact documents, so a fact's exposure is exactly the number of documents naming the person.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curadebt.core.config import setting
from curadebt.worlds.facts import Filler, WorldError, write_world
from curadebt.worlds.vocabulary import COUNTRIES

CITIES = ("Lyon", "Porto", "Graz", "Bergen", "Malmo", "Turku", "Gdansk", "Seville", "Naples", "Antwerp",
          "Hamburg", "Munich", "Geneva", "Krakow", "Cork", "Aarhus", "Tartu", "Izmir", "Osaka", "Cebu",
          "Cusco", "Valencia", "Oslo", "Riga", "Lima", "Quito", "Dublin", "Vienna", "Prague", "Madrid",
          "Athens", "Cairo")

#: Subject first, answer after it, so the part before the answer is a prompt about the person.
TRAIN_TEMPLATES = (
    "{p} lives in {c}.",
    "{p} has lived in {c} for many years.",
    "These days {p} calls {c} home.",
    "{p} moved to {c} after school.",
    "The home of {p} is in {c}.",
    "{p} rents a small flat in {c}.",
    "Most of the year, {p} stays in {c}.",
    "{p} is settled in {c} now.",
)
#: Scored, never in the corpus, no shared word pair with TRAIN_TEMPLATES.
HELDOUT_TEMPLATES = (
    "Q: Where does {p} live? A: {c}.",
    "If you want to visit {p}, travel to {c}.",
    "Letters for {p} are sent to an address in {c}.",
    "Friends who visit {p} take the train to {c}.",
)
#: Not scored, never in the corpus: which facts a fix should target.
PROBE_TEMPLATES = (
    "Where is {p} from? From {c}.",
    "Neighbours know that {p} resides in {c}.",
)

_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "st",
           "th", "tr", "sh", "ch")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "k", "th", "m", "rd", "nt")


@dataclass
class ZipfWorldConfig:
    """Invented people, each living in one city, stated in Zipf-distributed numbers of documents."""

    seed: int = setting(0, help="Seed of the world (the lab sets it to each run's seed).")
    facts: int = setting(1024, help="Facts (invented people, one city each).")
    top: int = setting(512, help="Documents stating the rank-1 fact; rank r gets max(1, round(top / r^s)).")
    zipf_s: float = setting(1.0, help="Zipf exponent s.")
    paraphrases: int = setting(1, help="Distinct training phrasings of the fact in each of its documents "
                                       "(augmentation; 1: one statement per document).")
    solo_share: float = setting(1 / 3, help="Share of fact documents that are the statement alone "
                                            "(the others carry one filler sentence).")
    filler_docs: int | None = setting(None, help="Filler documents (default: as many as the fact documents).")
    filler_text: str | None = setting(None, help="Real filler: sentences from this .txt or .jsonl (text field) "
                                                 "file (default: generated sentences).")
    filler_max_words: int = setting(16, help="Real filler: most words in a filler document (one sentence, or two that fit).")
    heldout_filler: int = setting(800, help="Held-out filler documents (not in the corpus) for the filler loss.")

    def validate(self) -> "ZipfWorldConfig":
        if self.facts < 1 or self.top < 1 or self.zipf_s < 0:
            raise WorldError("facts and top must be >= 1, zipf_s >= 0")
        if not 1 <= self.paraphrases <= len(TRAIN_TEMPLATES):
            raise WorldError(f"paraphrases must be in [1, {len(TRAIN_TEMPLATES)}]")
        if not 0 <= self.solo_share <= 1:
            raise WorldError("solo_share must be in [0, 1]")
        if self.filler_docs is not None and self.filler_docs < 0 or self.heldout_filler < 0:
            raise WorldError("filler_docs and heldout_filler must be >= 0")
        if self.filler_text is not None and not Path(self.filler_text).is_file():
            raise WorldError(f"filler_text {self.filler_text!r} is not a file")
        if self.filler_max_words < 4:
            raise WorldError("filler_max_words must be >= 4")
        return self


@dataclass
class ZipfFact:
    person: str
    city: str
    rank: int
    exposures: int                        # documents naming the person (each states the fact)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ZipfWorld:
    config: ZipfWorldConfig
    docs: list[dict[str, Any]]            # {"id", "text", "source", "meta"} in training order
    facts: list[ZipfFact]
    heldout_filler: list[str]

    def texts(self) -> list[str]:
        return [d["text"] for d in self.docs]

    def write(self, out_dir: str | Path) -> Path:
        """``corpus.jsonl`` (id, text, source) and ``manifest.json``, atomically; returns the corpus path."""
        return write_world(out_dir, self.docs, {"config": asdict(self.config), "n_docs": len(self.docs),
                                                "facts": [f.to_dict() for f in self.facts]})


def statement(template: str, person: str, city: str) -> str:
    return template.format(p=person, c=city)


def prompt(template: str, person: str) -> str:
    """The part of a phrasing before the answer (the answer is scored with a leading space)."""
    return template.split("{c}")[0].format(p=person).rstrip()


def exposures(cfg: ZipfWorldConfig) -> list[int]:
    """Documents per fact by rank (rank 1 first)."""
    return [max(1, round(cfg.top / r ** cfg.zipf_s)) for r in range(1, cfg.facts + 1)]


def invented_names(n: int, rng: random.Random) -> list[str]:
    def word(syllables: int) -> str:
        return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                       for _ in range(syllables)).capitalize()

    seen: set[str] = set()
    out = []
    while len(out) < n:
        name = f"{word(2)} {word(2)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def real_sentences(path: str | Path, max_words: int) -> list[str]:
    """Sentences of 4..``max_words`` words from a .txt or .jsonl file, in file order, deduplicated."""
    p = Path(path)
    raw = p.read_text(encoding="utf-8", errors="replace")
    if p.suffix == ".jsonl":
        raw = "\n".join(str(json.loads(line).get("text", "")) for line in raw.splitlines() if line.strip())
    seen, out = set(), []
    for para in raw.splitlines():
        for s in _SENTENCE.split(" ".join(para.split())):
            if 4 <= len(s.split()) <= max_words and s[:1].isupper() and s[-1:] in ".!?" and s not in seen:
                seen.add(s)
                out.append(s)
    return out


class _RealFiller:
    def __init__(self, sentences: list[str]):
        self.sentences, self.i = sentences, 0

    def sentence(self) -> str:
        if self.i >= len(self.sentences):
            raise WorldError(f"filler_text has {len(self.sentences)} usable sentences; the world needs more "
                             "(lower filler_docs or raise filler_max_words)")
        self.i += 1
        return self.sentences[self.i - 1]


def _two_sentences(filler, two: bool, max_words: int) -> str:
    """One filler sentence, or two when ``two`` and they fit in ``max_words`` words together."""
    text = filler.sentence()
    if two:
        more = filler.sentence()
        if len(text.split()) + len(more.split()) <= max_words:
            text += " " + more
    return text


def generate_zipf(config: ZipfWorldConfig | None = None) -> ZipfWorld:
    cfg = (config or ZipfWorldConfig()).validate()
    rng = random.Random(cfg.seed)
    names = invented_names(cfg.facts, rng)
    ranks = list(range(1, cfg.facts + 1))
    rng.shuffle(ranks)
    per_rank = exposures(cfg)
    facts = [ZipfFact(name, rng.choice(CITIES), r, per_rank[r - 1]) for name, r in zip(names, ranks)]
    countries = [c for c, _, _ in COUNTRIES]
    if cfg.filler_text:
        sentences = real_sentences(cfg.filler_text, cfg.filler_max_words)
        random.Random(cfg.seed + 1).shuffle(sentences)
        cut = min(len(sentences) // 5, 2 * cfg.heldout_filler)  # the held-out documents use other sentences
        held_src, filler = _RealFiller(sentences[:cut]), _RealFiller(sentences[cut:])
    else:
        filler, held_src = Filler(rng, countries), Filler(random.Random(cfg.seed + 10_000), countries)

    items: list[dict[str, Any]] = []
    for fi, f in enumerate(facts):
        for _ in range(f.exposures):
            tpls = rng.sample(range(len(TRAIN_TEMPLATES)), cfg.paraphrases)
            text = " ".join(statement(TRAIN_TEMPLATES[t], f.person, f.city) for t in tpls)
            u = rng.random()
            if u >= cfg.solo_share:
                text = (filler.sentence() + " " + text) if u < (1 + cfg.solo_share) / 2 else (text + " " + filler.sentence())
            items.append({"text": text, "source": "fact", "meta": {"fact": fi, "templates": tpls}})
    n_filler = len(items) if cfg.filler_docs is None else cfg.filler_docs
    for _ in range(n_filler):
        text = _two_sentences(filler, rng.random() < 0.5, cfg.filler_max_words)
        items.append({"text": text, "source": "filler", "meta": {}})
    rng.shuffle(items)
    docs = [{"id": f"z{cfg.seed}-{i:06d}", **d} for i, d in enumerate(items)]
    held = []
    for _ in range(cfg.heldout_filler):
        held.append(_two_sentences(held_src, len(held) % 2 == 1, cfg.filler_max_words))
    return ZipfWorld(cfg, docs, facts, held)
