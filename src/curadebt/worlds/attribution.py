"""A synthetic world of facts whose source documents are known, for evaluating attribution.

``fact_world(seed)`` invents people and four relations (birthplace, home, job, instrument); every
fact ``(person, relation) -> object`` is stated in 1-3 training documents, each a short biography
of one person mixing several of their facts with filler sentences, plus distractor documents that
name the same cities without any person. So for every fact the exact set of documents that teach
it is known.

Every relation has four sentence templates ending in the object ("{s} was born in {o}.", "The
birthplace of {s} is {o}.", ...). For each fact one template is held out: its source documents
use the other three, and its **query** is the held-out template cut before the object ("The
birthplace of Orla Vantree is" -> "Tallinn"): a paraphrase never seen for this fact (though seen
for other facts, so a model can learn the form). Documents about the same person (their other
facts) and about the same object (other people born there, the city distractors) are the hard
negatives. The same seed gives the same world.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST = ("Orla", "Bastien", "Mirela", "Teodor", "Ysolde", "Caspian", "Linnea", "Evander", "Ottilie", "Ramsay",
         "Zelda", "Fenwick", "Anouk", "Desmond", "Isaura", "Leopold", "Marisol", "Tobiah", "Wilhelmina", "Cyprian",
         "Elspeth", "Hollis", "Ines", "Joaquin")
LAST = ("Vantree", "Okonkwo", "Brisbane", "Haldane", "Quillfeather", "Marchetti", "Svanberg", "Delacroix",
        "Pemberley", "Zhukova", "Ashdown", "Nakamura", "Thornbury", "Valcourt", "Eberhardt", "Lindgren",
        "Corrigan", "Amundsen", "Belvedere", "Rosenthal", "Kilbride", "Montague", "Fairweather", "Ostrowski")
CITIES = ("Tallinn", "Porto", "Lyon", "Krakow", "Bergen", "Utrecht", "Seville", "Graz", "Tampere", "Aarhus",
          "Ghent", "Bologna", "Cork", "Brno", "Malmo", "Valencia", "Leipzig", "Split", "Riga", "Vilnius",
          "Salzburg", "Turin", "Lille", "Basel")
JOBS = ("chemist", "baker", "lawyer", "pilot", "teacher", "farmer", "painter", "doctor", "nurse", "carpenter",
        "librarian", "journalist", "dentist", "plumber", "surveyor", "tailor")
INSTRUMENTS = ("violin", "cello", "piano", "flute", "harp", "trumpet", "guitar", "oboe", "clarinet", "bassoon",
               "accordion", "mandolin")

#: relation -> (objects, four templates ending in "{o}.")
RELATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "born": (CITIES, ("{s} was born in {o}.", "The birthplace of {s} is {o}.", "{s} is a native of {o}.",
                      "{s} came into the world in {o}.")),
    "lives": (CITIES, ("{s} lives in {o}.", "These days {s} resides in {o}.", "The home of {s} is in {o}.",
                       "{s} has settled in {o}.")),
    "job": (JOBS, ("{s} works as a {o}.", "By profession {s} is a {o}.", "{s} earns a living as a {o}.",
                   "The job of {s} is that of a {o}.")),
    "instrument": (INSTRUMENTS, ("{s} plays the {o}.", "The instrument of {s} is the {o}.",
                                 "{s} performs on the {o}.", "In the evenings {s} practises the {o}.")),
}

FILLER = (
    "Friends describe a quiet and patient person.", "The family kept a small garden behind the house.",
    "Weekends are usually spent walking in the hills.", "A collection of old maps hangs in the hallway.",
    "Mornings start early with a strong cup of tea.", "Neighbours often stop by for a chat.",
    "There is a cat that sleeps on the windowsill.", "Summer holidays were spent by the sea.",
    "Reading history books is a favourite pastime.", "An old bicycle is still used every day.",
    "Cooking for friends is a weekly ritual.", "The winters there can be long and dark.",
    "A brother and two sisters live nearby.", "Letters from abroad arrive every month.",
    "Photography became a hobby years ago.", "The local choir meets on Thursday evenings.",
)
CITY_FILLER = ("{c} has a busy harbour and an old market.", "Tourists in {c} often visit the cathedral.",
               "The trams in {c} run late into the night.", "{c} hosts a film festival every autumn.",
               "Rents in {c} have risen in recent years.", "The river through {c} freezes in hard winters.")


@dataclass
class Fact:
    index: int
    subject: str
    relation: str
    object: str
    query_template: int
    prompt: str  # the held-out template, cut before the object (no trailing space)
    sources: list[int] = field(default_factory=list)  # indices of the documents that state it

    @property
    def query(self) -> str:
        """The prompt and its answer: the prediction being attributed."""
        return f"{self.prompt} {self.object}"


@dataclass
class FactWorld:
    seed: int
    documents: list[str]
    facts: list[Fact]
    doc_kind: list[str]  # "bio" or "city"

    def summary(self) -> dict:
        n_src = [len(f.sources) for f in self.facts]
        return {"seed": self.seed, "documents": len(self.documents), "facts": len(self.facts),
                "bio_documents": self.doc_kind.count("bio"), "city_documents": self.doc_kind.count("city"),
                "sources_per_fact": {k: n_src.count(k) for k in sorted(set(n_src))}}


def fact_world(seed: int = 0, n_people: int = 40, max_sources: int = 3, fillers: tuple[int, int] = (1, 2),
               city_docs: int | None = None) -> FactWorld:
    """Generate a world (see the module doc). ``n_people`` <= 24 x 24; every person has one fact per
    relation, stated in 1..``max_sources`` (<= 3) documents; ``city_docs`` distractor documents
    (default ``n_people // 2``)."""
    if not 1 <= n_people <= len(FIRST) * len(LAST):
        raise ValueError(f"n_people must be between 1 and {len(FIRST) * len(LAST)}, got {n_people}")
    if not 1 <= max_sources <= 3:
        raise ValueError(f"max_sources must be 1, 2 or 3 (four templates, one held out), got {max_sources}")
    rng = random.Random(seed)
    names = rng.sample([f"{a} {b}" for a in FIRST for b in LAST], n_people)
    # no two people share a first or last name more than needed: sample from all pairs, fine either way
    facts: list[Fact] = []
    mentions: dict[str, list[tuple[int, int]]] = {}  # person -> [(fact index, template)]
    for person in names:
        for rel, (objects, templates) in RELATIONS.items():
            obj = rng.choice(objects)
            q = rng.randrange(len(templates))
            prompt = templates[q].split("{o}")[0].format(s=person).rstrip()
            f = Fact(len(facts), person, rel, obj, q, prompt)
            facts.append(f)
            others = [t for t in range(len(templates)) if t != q]
            for t in rng.sample(others, rng.randint(1, max_sources)):
                mentions.setdefault(person, []).append((f.index, t))
    docs: list[str] = []
    kinds: list[str] = []
    for person in names:
        ms = mentions[person]
        rng.shuffle(ms)
        groups: list[list[tuple[int, int]]] = []
        for m in ms:  # 1-3 mentions per document, never the same fact twice in one document
            if groups and len(groups[-1]) < rng.randint(1, 3) and all(m[0] != x[0] for x in groups[-1]):
                groups[-1].append(m)
            else:
                groups.append([m])
        for g in groups:
            sentences = []
            for fi, t in g:
                f = facts[fi]
                sentences.append(RELATIONS[f.relation][1][t].format(s=f.subject, o=f.object))
                f.sources.append(len(docs))
            sentences += rng.sample(FILLER, rng.randint(*fillers))
            rng.shuffle(sentences)
            docs.append(" ".join(sentences))
            kinds.append("bio")
    for _ in range(n_people // 2 if city_docs is None else city_docs):
        sentences = [t.format(c=rng.choice(CITIES)) for t in rng.sample(CITY_FILLER, 2)]
        docs.append(" ".join(sentences))
        kinds.append("city")
    # interleave: the training order is a seeded shuffle; remap source indices
    order = list(range(len(docs)))
    rng.shuffle(order)
    new_of = {old: new for new, old in enumerate(order)}
    docs = [docs[o] for o in order]
    kinds = [kinds[o] for o in order]
    for f in facts:
        f.sources = sorted(new_of[s] for s in f.sources)
    return FactWorld(seed=seed, documents=docs, facts=facts, doc_kind=kinds)


__all__ = ["Fact", "FactWorld", "RELATIONS", "fact_world"]
