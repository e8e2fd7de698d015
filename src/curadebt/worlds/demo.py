"""A small synthetic corpus with planted curation debts, generated in code from a seed.

``generate_world(out_dir, seed=0, n_docs=3000)`` writes three files and returns a
:class:`WorldManifest`:

- ``corpus.jsonl``   one document a line: ``{"id", "text", "source"}``, in training order;
- ``probes.jsonl``   competing-fact probes: ``{"id", "subject", "answers", "patterns"}``;
- ``manifest.json``  the ground truth: every planted debt with its exact counts, the controls that
  must *not* be flagged, and the per-source document and token counts.

Nothing is downloaded and nothing outside this module is read; the same ``(seed, n_docs)`` gives the
same bytes on every machine (one ``random.Random(seed)``, no set or hash ordering anywhere).

The texts are short news, encyclopedia, web (reviews, travel notes, recipes, how-tos), forum and
legal documents assembled from many sentence templates, a built-in list of 60 countries with their
capitals and 100 recurring people, plus a long tail of occasional people. Planted debts (counts for
the default 3000 documents; they scale with ``n_docs``):

1. **Over-represented entity / spillover** (salience): "Tom Cruise" in 300 documents (1-2 mentions
   each) while 28 other "Tom X" people appear in 2-5 documents each, so about 80% of the token "Tom"
   belongs to one entity.
2. **Dominant fact** (probes): 200 documents say Paris is the capital of France, 10 say Lyon and 4
   Marseille (20:1). Controls: Bolivia, Sucre 25 vs La Paz 24 (about 1:1, no debt) and Australia,
   Canberra 30 vs Sydney 12 (2.5:1, below the debt threshold). Each fact document holds exactly one
   sentence with the subject and one answer; the subjects and answers occur nowhere else.
3. **Duplicates**: 150 exact copies (a cookie notice copied 24 times, 126 copies of other documents,
   a third of them with whitespace changes) and 90 near copies (about 5% of the words replaced in one
   run; 3-word-shingle Jaccard about 0.85) of documents that carry no other planted debt.
4. **Dominant source** (mixture): the ``web`` source holds about 60% of the tokens.
5. **Early concentration** (order): every ``legal`` document (about 8% of tokens) comes first, so
   the first 5% of tokens is 100% legal.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curadebt.text.tokenize import word_tokenize
from curadebt.worlds.demo_manifest import (CORPUS_FILE, MANIFEST_FILE, MANIFEST_VERSION, PROBES_FILE,  # noqa: F401
                                           WorldManifest, count_manifest)
from curadebt.worlds.vocabulary import (ADJ, DISHES, FIELDS, GOODS, MONTHS, ORGS, PRODUCTS, PROFESSIONS,
                                        TASKS, TOPICS, WEEKDAYS)
from curadebt.worlds.demo_text import (COOKIE_NOTICE, EDIT_WORDS, EXACT_COPIES_COOKIE, EXACT_COPIES_OTHER,
                                       FACTS, FACT_FREE_SENTENCES, FACT_PATTERN_SENTENCES, FILLER_COUNTRIES,
                                       FILM_WORDS, MAX_ACCIDENTAL_JACCARD, NEAR_COPIES, NEAR_EDIT_FRACTION,
                                       OTHER_TOMS, PARTIES, PEOPLE, PROBE_PATTERNS, SIMILARITY_CHECKED_SOURCES,
                                       SOURCE_DOCS, SOURCE_LENGTH, SOURCE_ORDER, SOURCE_TEMPLATES, TAIL_FIRST,
                                       TAIL_LAST, TOM_CRUISE, TOM_CRUISE_DOCS, TOM_SENTENCES)

DEFAULT_DOCS = 3000

# ---------------------------------------------------------------------------------------------
# Sentence templates, per source. ``[a|b|c]`` picks one alternative; ``{slot}`` is a value: per
# document (person, country, capital, capital2, region, org, topic, profession, field, product, dish,
# task, film, party, party2) or per sentence (adj, good, good2, month, weekday, day, year, num, digit,
# n2, n3, n4, teen, pct). Names are never next to another capitalised word, so entity spans stay clean.
# Alternatives and slots keep two documents of one source far apart in word-shingle terms (no
# accidental near duplicates; tests/worlds/test_demo_world.py checks every pair).
# ---------------------------------------------------------------------------------------------


_SLOT_RE = re.compile(r"\{(\w+)\}")
_ALT_RE = re.compile(r"\[([^\[\]]*)\]")


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

def _scaled(count: int, n_docs: int, minimum: int = 1) -> int:
    return max(minimum, round(count * n_docs / DEFAULT_DOCS))


#: template slots filled per sentence (not from the document's context): a word drawn from a list ...
_CHOICE_SLOTS = {"adj": ADJ, "good": GOODS, "good2": GOODS, "month": MONTHS, "weekday": WEEKDAYS}
#: ... or an integer drawn from an inclusive range
_INT_SLOTS = {"digit": (0, 9), "teen": (14, 18), "n4": (5, 400), "day": (1, 28), "year": (1950, 2023),
              "num": (2, 95), "n2": (3, 40), "n3": (5, 400), "pct": (2, 60)}


class _Writer:
    """Draws slot values and assembles documents from templates."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tail_people: list[str] = []

    def person(self) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            return rng.choice(PEOPLE)
        # long tail: mostly new names, sometimes a repeat of an earlier tail name
        if self.tail_people and rng.random() < 0.25:
            return rng.choice(self.tail_people)
        name = f"{rng.choice(TAIL_FIRST)} {rng.choice(TAIL_LAST)}"
        self.tail_people.append(name)
        return name

    def context(self) -> dict[str, str]:
        rng = self.rng
        country, capital, region = rng.choice(FILLER_COUNTRIES)
        party, party2 = rng.choice(PARTIES)
        return {
            "country": country, "capital": capital, "region": region, "person": self.person(),
            "capital2": rng.choice(FILLER_COUNTRIES)[1], "party": party, "party2": party2,
            "person2": self.person(), "org": rng.choice(ORGS), "topic": rng.choice(TOPICS),
            "profession": rng.choice(PROFESSIONS), "field": rng.choice(FIELDS), "product": rng.choice(PRODUCTS),
            "dish": rng.choice(DISHES), "task": rng.choice(TASKS), "film": rng.choice(FILM_WORDS),
        }

    def fill(self, template: str, ctx: dict[str, str]) -> str:
        rng = self.rng
        template = _ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
        local = dict(ctx)
        for slot in _SLOT_RE.findall(template):
            if slot in local:
                continue
            if slot in _CHOICE_SLOTS:
                local[slot] = rng.choice(_CHOICE_SLOTS[slot])
            elif slot in _INT_SLOTS:
                local[slot] = str(rng.randint(*_INT_SLOTS[slot]))
            else:  # pragma: no cover - a template typo
                raise KeyError(f"unknown slot {slot!r} in {template!r}")
        return template.format(**local)

    def sentences(self, source: str) -> list[str]:
        """Filler sentences for one document of ``source`` (about the source's target length)."""
        rng = self.rng
        templates = SOURCE_TEMPLATES[source]
        lo, hi = SOURCE_LENGTH[source]
        target = rng.randint(lo, hi)
        ctx = self.context()
        order = list(range(len(templates)))
        rng.shuffle(order)
        out: list[str] = []
        words = 0
        i = 0
        while words < target:
            t = templates[order[i % len(order)]]
            i += 1
            s = self.fill(t, ctx)
            if i % 4 == 0:  # a new person now and then, so documents are not about one name only
                ctx["person"] = self.person()
            out.append(s)
            words += len(s.split())
        return out


def _layout(source: str, sentences: list[str], rng: random.Random) -> str:
    """Join sentences into a document; paragraphs and line breaks depend on the source."""
    if source == "forum":
        return "\n".join(sentences)
    if source in ("encyclopedia", "web", "news") and len(sentences) > 4:
        cut = rng.randint(2, len(sentences) - 2)
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def _whitespace_variant(text: str, rng: random.Random) -> str:
    """Same words, different whitespace (a copy an exact-duplicate key must still match)."""
    kind = rng.randrange(3)
    if kind == 0:
        return "  " + text + "\n"
    if kind == 1:
        parts = text.split(" ")
        k = rng.randrange(1, len(parts))
        return " ".join(parts[:k]) + "   " + " ".join(parts[k:])
    out = text.replace(". ", ".  ")
    return out if out != text else text + "\n"


def _near_copy(text: str, rng: random.Random, fraction: float) -> tuple[str, int]:
    """Replace about ``fraction`` of the words in one contiguous run (a rewritten phrase).
    Returns (text, words edited)."""
    tokens = re.split(r"(\s+)", text)  # words at even indices, whitespace at odd ones
    word_idx = [i for i in range(0, len(tokens), 2) if tokens[i]]
    n_edit = max(2, round(fraction * len(word_idx)))
    start = rng.randrange(0, len(word_idx) - n_edit + 1)
    for j in word_idx[start:start + n_edit]:
        old = tokens[j]
        new = rng.choice(EDIT_WORDS)
        while new == old:
            new = rng.choice(EDIT_WORDS)
        tokens[j] = new
    return "".join(tokens), n_edit


def shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    """Word k-shingles (word tokens, case kept, as the duplicates measure uses); reports near-copy
    similarity."""
    toks = word_tokenize(text)
    return {tuple(toks[i:i + k]) for i in range(max(1, len(toks) - k + 1))}


def jaccard(a: str, b: str, k: int = 3) -> float:
    sa, sb = shingles(a, k), shingles(b, k)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def _insert(sentences: list[str], extra: list[str], rng: random.Random) -> list[str]:
    out = list(sentences)
    for s in extra:
        out.insert(rng.randint(0, len(out)), s)
    return out


@dataclass
class _Draft:
    """The world while it is generated: the unique documents' plan, then their copies and order."""

    plan: list[dict[str, Any]]
    cookie_index: int
    tom_plan: dict[str, int]
    fact_pattern_docs: dict[tuple[str, str], int] = field(default_factory=dict)
    copies: list[dict[str, Any]] = field(default_factory=list)
    exact_bases: list[int] = field(default_factory=list)
    near_bases: list[int] = field(default_factory=list)
    jaccards: list[float] = field(default_factory=list)
    neutral: list[int] = field(default_factory=list)   # unplanted documents not yet copied
    docs: list[dict[str, Any]] = field(default_factory=list)


def generate_world(out_dir: str | Path, seed: int = 0, n_docs: int = DEFAULT_DOCS) -> WorldManifest:
    """Generate the demo corpus, probes and manifest under ``out_dir``; same seed, same bytes.

    One ``random.Random(seed)`` drives every step, in this order: plan the unique documents and
    their plants, write their texts, make the copies, fix the training order."""
    if n_docs < 300:
        raise ValueError("n_docs must be at least 300 (the planted debts need room)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_cookie, n_other, n_near = (_scaled(EXACT_COPIES_COOKIE, n_docs), _scaled(EXACT_COPIES_OTHER, n_docs),
                                 _scaled(NEAR_COPIES, n_docs))
    draft = _plan_documents(rng, n_docs, n_docs - n_cookie - n_other - n_near)
    _write_texts(draft, _Writer(rng), rng)
    _exact_copies(draft, rng, n_cookie, n_other)
    _near_copies(draft, rng, n_near)
    _training_order(draft, rng)
    _write_files(out, draft.docs)
    manifest = count_manifest(seed, n_docs, draft.plan, draft.docs, draft.copies, draft.cookie_index, draft.exact_bases,
                         draft.near_bases, draft.jaccards, draft.tom_plan, draft.fact_pattern_docs)
    manifest.out_dir = out
    (out / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=False) + "\n",
                                     encoding="utf-8", newline="\n")
    return manifest


def _plan_documents(rng: random.Random, n_docs: int, n_unique: int) -> _Draft:
    """The unique documents, one ``{"source", "plant"}`` each; a plant is None, ("cookie",),
    ("tom", name, mentions) or ("fact", probe_id, subject, answer)."""
    counts = {s: _scaled(c, n_docs) for s, c in SOURCE_DOCS.items()}
    counts["web"] += n_unique - sum(counts.values())  # web absorbs rounding
    if counts["web"] < n_unique // 4:
        raise ValueError("n_docs too small")
    plan: list[dict[str, Any]] = []
    for source in SOURCE_ORDER:
        plan.extend({"source": source, "plant": None} for _ in range(counts[source]))
    # one web document is the cookie notice (the base of the largest exact cluster)
    cookie_index = next(i for i, p in enumerate(plan) if p["source"] == "web")
    plan[cookie_index]["plant"] = ("cookie",)

    def free_slots(sources: tuple[str, ...]) -> list[int]:
        return [i for i, p in enumerate(plan) if p["plant"] is None and p["source"] in sources]

    # Tom Cruise and the other Toms
    tom_plan = {TOM_CRUISE: _scaled(TOM_CRUISE_DOCS, n_docs)}
    for name in OTHER_TOMS:
        tom_plan[name] = rng.randint(2, 5)
    for name, k in tom_plan.items():
        srcs = ("news", "web", "forum") if name == TOM_CRUISE else ("news", "web", "forum", "encyclopedia")
        for i in rng.sample(free_slots(srcs), k):
            plan[i]["plant"] = ("tom", name, 1 + (rng.random() < 0.4) if name == TOM_CRUISE else 1)
    # facts
    for probe_id, subject, answers, _ in FACTS:
        for answer, k in answers:
            for i in rng.sample(free_slots(("news", "web", "forum", "encyclopedia")), _scaled(k, n_docs)):
                plan[i]["plant"] = ("fact", probe_id, subject, answer)
    return _Draft(plan=plan, cookie_index=cookie_index, tom_plan=tom_plan)


def _write_texts(draft: _Draft, writer: "_Writer", rng: random.Random) -> None:
    """Write every unique document; a text that repeats an earlier one (whitespace aside), or is
    too similar to one of the same template-heavy source, is redrawn: the only duplicates are the
    planted ones."""
    def make_text(p: dict[str, Any]) -> str:
        source, plant = p["source"], p["plant"]
        sents = writer.sentences(source)
        if plant is not None and plant[0] == "tom":
            ctx = writer.context()
            ctx["tom"] = plant[1]
            picks = rng.sample(TOM_SENTENCES, plant[2])
            sents = _insert(sents, [writer.fill(t, ctx) for t in picks], rng)
        elif plant is not None and plant[0] == "fact":
            use_pattern = rng.random() < 0.6
            pool = FACT_PATTERN_SENTENCES if use_pattern else FACT_FREE_SENTENCES
            sents = _insert(sents, [rng.choice(pool).format(subject=plant[2], answer=plant[3])], rng)
            p["pattern"] = use_pattern
        return _layout(source, sents, rng)

    seen: set[str] = set()
    checked: dict[str, list[set]] = {s: [] for s in SIMILARITY_CHECKED_SOURCES}

    def accidental(p: dict[str, Any]) -> bool:
        if " ".join(p["text"].split()) in seen:
            return True
        if p["source"] in checked:
            sh = shingles(p["text"])
            n, limit = len(sh), MAX_ACCIDENTAL_JACCARD / (1 + MAX_ACCIDENTAL_JACCARD)
            # J >= t  <=>  |a & b| >= t / (1 + t) * (|a| + |b|)
            return any(len(sh & o) >= limit * (n + len(o)) for o in checked[p["source"]])
        return False

    for p in draft.plan:
        if p["plant"] == ("cookie",):
            p["text"] = COOKIE_NOTICE
        else:
            p["text"] = make_text(p)
            while accidental(p):
                p["text"] = make_text(p)
        seen.add(" ".join(p["text"].split()))
        if p["source"] in checked:
            checked[p["source"]].append(shingles(p["text"]))
        if p["plant"] is not None and p["plant"][0] == "fact":
            k = (p["plant"][1], p["plant"][3])
            draft.fact_pattern_docs[k] = draft.fact_pattern_docs.get(k, 0) + int(p["pattern"])


def _exact_copies(draft: _Draft, rng: random.Random, n_cookie: int, n_other: int) -> None:
    """The cookie notice n_cookie times, and 1-3 copies each of neutral documents (a third with
    whitespace changes) until n_other; the neutral documents left over stay in ``draft.neutral``."""
    plan = draft.plan
    for _ in range(n_cookie):
        draft.copies.append({"source": "web", "text": COOKIE_NOTICE, "copy_of": draft.cookie_index, "kind": "exact",
                             "whitespace": False})
    neutral = [i for i, p in enumerate(plan) if p["plant"] is None and p["source"] in ("web", "news", "forum")]
    rng.shuffle(neutral)
    left = n_other
    while left > 0:
        base = neutral.pop()
        k = min(left, rng.choices((1, 2, 3), weights=(70, 25, 5))[0])
        draft.exact_bases.append(base)
        for _ in range(k):
            ws = rng.random() < 1 / 3
            text = _whitespace_variant(plan[base]["text"], rng) if ws else plan[base]["text"]
            draft.copies.append({"source": plan[base]["source"], "text": text, "copy_of": base, "kind": "exact",
                                 "whitespace": ws})
        left -= k
    draft.neutral = neutral


def _near_copies(draft: _Draft, rng: random.Random, n_near: int) -> None:
    """1-2 near copies (NEAR_EDIT_FRACTION of the words replaced) each of neutral web documents."""
    plan, neutral = draft.plan, draft.neutral
    near_pool = [i for i in neutral if plan[i]["source"] == "web"]  # long enough for a 5% edit
    left = n_near
    while left > 0:
        base = near_pool.pop()
        neutral.remove(base)
        k = min(left, rng.choices((1, 2), weights=(60, 40))[0])
        draft.near_bases.append(base)
        for _ in range(k):
            text, _edited = _near_copy(plan[base]["text"], rng, NEAR_EDIT_FRACTION)
            draft.jaccards.append(jaccard(text, plan[base]["text"]))
            draft.copies.append({"source": plan[base]["source"], "text": text, "copy_of": base, "kind": "near",
                                 "whitespace": False})
        left -= k


def _training_order(draft: _Draft, rng: random.Random) -> None:
    """Every legal document first (in plan order), then everything else shuffled; ids by position."""
    legal = [p for p in draft.plan if p["source"] == "legal"]
    rest = [p for p in draft.plan if p["source"] != "legal"] + draft.copies
    rng.shuffle(rest)
    draft.docs = legal + rest
    for n, p in enumerate(draft.docs):
        p["id"] = f"doc-{n:05d}"


def _write_files(out: Path, docs: list[dict[str, Any]]) -> None:
    with open(out / CORPUS_FILE, "w", encoding="utf-8", newline="\n") as fh:
        for p in docs:
            fh.write(json.dumps({"id": p["id"], "text": p["text"], "source": p["source"]}, ensure_ascii=False) + "\n")
    with open(out / PROBES_FILE, "w", encoding="utf-8", newline="\n") as fh:
        for probe_id, subject, answers, _ in FACTS:
            fh.write(json.dumps({"id": probe_id, "subject": subject, "answers": [a for a, _ in answers],
                                 "patterns": list(PROBE_PATTERNS)}, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - thin wrapper
    import argparse

    ap = argparse.ArgumentParser(description="Generate the curadebt demo world (corpus, probes, manifest).")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    args = ap.parse_args(argv)
    m = generate_world(args.out_dir, seed=args.seed, n_docs=args.docs)
    print(json.dumps(m.to_json(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
