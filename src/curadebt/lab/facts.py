"""Facts to overwrite: built-in country capitals and CounterFact records (EasyEdit JSON).

A :class:`Fact` carries a subject, the true object (``old``), the counterfactual object (``new``),
and four prompt sets:

- ``train_prompts``        prompts of the *training statements* ("<prompt> <answer>"), new or old answer
- ``rewrite_prompts``      efficacy prompts (held out: never a training template)
- ``paraphrase_prompts``   generalisation prompts (held out)
- ``neighbourhood``        (prompt, true answer) for *other* subjects: specificity / locality

Training statements and evaluation prompts never share a template: :meth:`Fact.check_held_out`
raises :class:`HeldOutViolation` when a training prompt and an evaluation prompt have the same
template (the prompt with the subject replaced by ``{}``, case and whitespace folded), when one is
a suffix of the other (a "wrapped" copy of the same context), when the two share wording beyond the
subject and the answers (a content-word bigram, :func:`curadebt.worlds.templates.shared_wording`: "The capital
of {} is" and "The capital city of {} is" share "the capital"), or when a neighbourhood prompt is a
training prompt verbatim. Every builder calls it, and so does the overwrite protocol before it
trains.

CounterFact in EasyEdit format has one rewrite prompt, one rephrase prompt and one locality prompt
per record, and no relation id. To train on *other* wordings of the same fact, records are mapped
to a relation through the table :data:`COUNTERFACT_RELATIONS`: the CounterFact prompt templates
(as they occur in the data, 218 of them) grouped by meaning by hand, after an automatic first pass
that linked each record's prompt template to its locality prompt's template. Templates that the
data uses for several relations ("{}, the", "{} plays", "{}, by", ...) are left out of the table;
a record whose prompt has such a template is mapped through its locality prompt instead, and
skipped (with the reason recorded) when that is ambiguous too. The training prompts are other
templates of the record's relation; one more of them (when the relation has enough) is added to
the paraphrase prompts beside the record's own ``rephrase_prompt``.
"""
from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from curadebt.worlds.templates import shared_wording

ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
DEFAULT_COUNTRIES_CSV = SHARED_DATA / "countries" / "countries_joined.csv"
DEFAULT_COUNTERFACT = SHARED_DATA / "counterfact" / "counterfact-edit.json"


class HeldOutViolation(AssertionError):
    """A training statement shares a template with an evaluation prompt."""


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def template_of(prompt: str, subject: str) -> str:
    """The prompt with the subject replaced by ``{}`` (case and whitespace folded)."""
    p = _norm(prompt)
    s = _norm(subject)
    return p.replace(s, "{}") if s and s in p else p


@dataclass
class Fact:
    id: str
    subject: str
    relation: str
    old: str                     # the true object the model should already know
    new: str                     # the counterfactual object to write in
    train_prompts: list[str]
    rewrite_prompts: list[str]
    paraphrase_prompts: list[str]
    neighbourhood: list[tuple[str, str]] = field(default_factory=list)  # (prompt, true answer)
    source: str = "builtin"

    def __post_init__(self):
        self.neighbourhood = [tuple(x) for x in self.neighbourhood]
        if not self.train_prompts:
            raise ValueError(f"fact {self.id}: no training prompts")
        if not self.rewrite_prompts:
            raise ValueError(f"fact {self.id}: no rewrite prompts")
        if _norm(self.old) == _norm(self.new):
            raise ValueError(f"fact {self.id}: old and new answers are the same ({self.old!r})")

    def statements(self, answer: str) -> list[tuple[str, str]]:
        """Training statements (prompt, answer) for ``answer`` (``self.new`` or ``self.old``)."""
        return [(p, answer) for p in self.train_prompts]

    def eval_prompts(self) -> list[str]:
        return list(self.rewrite_prompts) + list(self.paraphrase_prompts)

    def held_out_problems(self) -> list[str]:
        problems = []
        train = [(_norm(p), template_of(p, self.subject)) for p in self.train_prompts]
        blanks = (self.subject, self.old, self.new)
        for e in self.eval_prompts():
            en, et = _norm(e), template_of(e, self.subject)
            for tn, tt in train:
                if tt == et:
                    problems.append(f"training prompt {tn!r} and evaluation prompt {en!r} share the template {tt!r}")
                elif tn.endswith(en) or en.endswith(tn):
                    problems.append(f"training prompt {tn!r} and evaluation prompt {en!r}: one ends with the other")
                elif shared := shared_wording(tn, en, blanks):
                    problems.append(f"training prompt {tn!r} and evaluation prompt {en!r} share the wording "
                                    + ", ".join(repr(g) for g in shared))
        train_norm = {tn for tn, _ in train}
        for p, _ in self.neighbourhood:
            if _norm(p) in train_norm:
                problems.append(f"neighbourhood prompt {p!r} is a training prompt")
        return problems

    def check_held_out(self) -> None:
        """Raise :class:`HeldOutViolation` unless evaluation prompts are held out from training."""
        problems = self.held_out_problems()
        if problems:
            raise HeldOutViolation(f"fact {self.id}: " + "; ".join(problems))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["neighbourhood"] = [list(x) for x in self.neighbourhood]
        return d


def check_held_out(facts: Iterable[Fact]) -> None:
    """Check every fact; also across facts (a mass edit trains on all facts' statements)."""
    facts = list(facts)
    for f in facts:
        f.check_held_out()
    all_train = {_norm(p) for f in facts for p in f.train_prompts}
    for f in facts:
        for e in f.eval_prompts() + [p for p, _ in f.neighbourhood]:
            if _norm(e) in all_train:
                raise HeldOutViolation(f"fact {f.id}: evaluation prompt {e!r} is a training prompt of another fact")


# ---------------------------------------------------------------------------- country capitals

CAPITAL_TRAIN_TEMPLATES = (
    "The capital of {s} is",
    "{s}'s capital is",
    "The seat of the government of {s} is",
    "Q: What is the capital of {s}? A:",
    "{s} has its capital in",
    "The government of {s} sits in its capital,",
)
#: evaluation templates share no content bigram with the training ones (``Fact.held_out_problems``):
#: "The capital city of {s} is" was the rewrite prompt until it was found to share "the capital"
CAPITAL_REWRITE_TEMPLATES = ("In {s}, the national government is based in the city of",)
CAPITAL_PARAPHRASE_TEMPLATES = (
    "{s}, whose capital city is",
    "{s} is governed from the city of",
    "Foreign embassies in {s} are located in the city of",
    "Parliament and ministries of {s} are located in",
)
#: neighbourhood prompts: other countries with the rewrite template and the first paraphrase template
CAPITAL_NEIGHBOUR_TEMPLATES = CAPITAL_REWRITE_TEMPLATES + CAPITAL_PARAPHRASE_TEMPLATES[:1]

#: used when ../shared/data/countries is absent: (country, capital, continent), by population
BUILTIN_CAPITALS = (
    ("India", "New Delhi", "Asia"), ("China", "Beijing", "Asia"), ("Indonesia", "Jakarta", "Asia"),
    ("Pakistan", "Islamabad", "Asia"), ("Nigeria", "Abuja", "Africa"), ("Brazil", "Brasilia", "South America"),
    ("Russia", "Moscow", "Europe"), ("Mexico", "Mexico City", "North America"), ("Japan", "Tokyo", "Asia"),
    ("Egypt", "Cairo", "Africa"), ("Philippines", "Manila", "Asia"), ("Vietnam", "Hanoi", "Asia"),
    ("Iran", "Tehran", "Asia"), ("Germany", "Berlin", "Europe"), ("Thailand", "Bangkok", "Asia"),
    ("France", "Paris", "Europe"), ("Italy", "Rome", "Europe"), ("Kenya", "Nairobi", "Africa"),
    ("Spain", "Madrid", "Europe"), ("Argentina", "Buenos Aires", "South America"),
    ("Poland", "Warsaw", "Europe"), ("Canada", "Ottawa", "North America"), ("Ukraine", "Kyiv", "Europe"),
    ("Peru", "Lima", "South America"), ("Australia", "Canberra", "Oceania"),
    ("Romania", "Bucharest", "Europe"), ("Netherlands", "Amsterdam", "Europe"),
    ("Belgium", "Brussels", "Europe"), ("Sweden", "Stockholm", "Europe"), ("Portugal", "Lisbon", "Europe"),
    ("Greece", "Athens", "Europe"), ("Austria", "Vienna", "Europe"), ("Norway", "Oslo", "Europe"),
)

_NICE_NAME = re.compile(r"^[A-Za-z][A-Za-z .'-]+$")


def load_capitals(path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """(country, capital, continent) sorted by population descending.

    From ``countries_joined.csv`` (column ``capital``; rows without a capital or with several are
    skipped) when present, else :data:`BUILTIN_CAPITALS`.
    """
    p = Path(path) if path else DEFAULT_COUNTRIES_CSV
    if not p.exists():
        if path:
            raise FileNotFoundError(p)
        return list(BUILTIN_CAPITALS)
    rows = []
    with open(p, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cap = (r.get("capital") or "").strip()
            if not cap or any(c in cap for c in ";/|(") or "," in cap:
                continue
            try:
                pop = int(r.get("population") or 0)
            except ValueError:
                pop = 0
            rows.append((pop, r["name"].strip(), cap, (r.get("continent") or "").strip(),
                         (r.get("official_name_en") or "").strip()))
    rows.sort(key=lambda x: (-x[0], x[1]))
    return [(name, cap, cont) for _, name, cap, cont, _ in rows] + \
           [(off, cap, cont) for _, name, cap, cont, off in rows if off and off != name]


def capital_fact(subject: str, new: str, old: str | None = None, *, countries_csv: str | Path | None = None,
                 n_neighbours: int = 8) -> Fact:
    """The fact "the capital of ``subject`` is ``old``" to be overwritten with ``new``.

    ``old`` defaults to the capital in the countries table. Neighbourhood prompts ask for the capitals
    of the ``n_neighbours`` most populous other countries of the same continent (then of the world),
    skipping countries whose capital is ``old`` or ``new``.
    """
    table = load_capitals(countries_csv)
    key = _norm(subject)
    row = next((r for r in table if _norm(r[0]) == key), None)
    if old is None:
        if row is None:
            raise ValueError(f"no capital known for {subject!r}; pass old= (the --old option)")
        old = row[1]
    continent = row[2] if row else None
    avoid = {_norm(old), _norm(new)}
    seen_caps = set()
    same, other = [], []
    for name, cap, cont in table:
        if _norm(name) == key or _norm(cap) in avoid or _norm(cap) in seen_caps or not _NICE_NAME.match(name) \
                or len(name) < 3 or _norm(name) in _norm(subject) or _norm(subject) in _norm(name):
            continue
        seen_caps.add(_norm(cap))
        (same if continent and cont == continent else other).append((name, cap))
    neighbours = (same + other)[:n_neighbours]
    fill = lambda ts, s: [t.format(s=s) for t in ts]  # noqa: E731
    fact = Fact(
        id=f"capital:{subject}",
        subject=subject,
        relation="capital",
        old=old,
        new=new,
        train_prompts=fill(CAPITAL_TRAIN_TEMPLATES, subject),
        rewrite_prompts=fill(CAPITAL_REWRITE_TEMPLATES, subject),
        paraphrase_prompts=fill(CAPITAL_PARAPHRASE_TEMPLATES, subject),
        neighbourhood=[(t.format(s=n), c) for n, c in neighbours for t in CAPITAL_NEIGHBOUR_TEMPLATES],
        source="countries_joined.csv" if (countries_csv or DEFAULT_COUNTRIES_CSV.exists()) else "builtin",
    )
    fact.check_held_out()
    return fact


# ---------------------------------------------------------------------------- CounterFact

#: CounterFact prompt templates grouped by meaning (see the module docstring). Templates the data
#: uses for several relations are deliberately absent (see COUNTERFACT_AMBIGUOUS).
COUNTERFACT_RELATIONS: dict[str, tuple[str, ...]] = {
    "country_of_origin": (
        "{}, that was created in", "{}, created in", "{} originated in", "{} was created in",
        "{}, that originated in", "{} was created in the country of", "{} is from", "{} was formulated in",
        "{}, that was formulated in", "{}, formulated in", "{} formed in", "{} was from",
        "{} that was founded in", "{}, founded in", "{}, that was formed in", "{}, that was started in",
        "{} was formed in", "{} was started in", "{} was developed in", "{}, that was from",
        "{}, that was developed in", "{} started in", "{} was founded in", "{}, developed in"),
    "owned_by": ("{}'s owner", "{} owner", "{} is owned by"),
    "position_played": ("{} plays as", "{}, who plays the position", "{} plays in the position of",
                        "Which position does {} play? They play as"),
    "genre": ("{} performs", "The genre played by {} is", "{} is known for performing", "{}, who plays",
              "What does {} play? They play"),
    "instrument": ("{} plays the instrument", "{}, performing on the", "{} performs on the", "{}, playing the",
                   "{} plays the"),
    "sport": ("{} professionally plays the sport", "{} is a professional", "What sport does {} play? They play"),
    "developer": ("{}, developed by", "{} is created by", "{} is developed by", "{}, created by", "{} is a product of",
                  "{} is produced by", "{}, produced by", "{} was created by", "{} was a product of",
                  "{} was developed by", "{}, a product of", "{}, a product developed by", "{}, a product created by",
                  "{}, a product manufactured by"),
    "named_after": ("{} was named for", "{}, which is named after", "{}, which was named for", "{} is called after",
                    "{}, which is named for", "{} was called after", "{} is named after",
                    "{}, which was named after", "{}, which is called after", "{} was named after",
                    "{}, called after", "{} is named for", "{}, which was called after", "{}, named for",
                    "{}, named after"),
    "location": ("{} is located in", "{} can be found in", "{}, located in", "{}, which is located in",
                 "The location of {} is", "{} is within", "Where is {}? It is located in", "{}, in", "{} is in"),
    "continent": ("{} is located in the continent", "{} is a part of the continent of", "{} belongs to the continent of"),
    "field_of_work": ("{}'s expertise is", "{} works in the field of", "{} works in the area of", "{}'s area of work is",
                      "The domain of activity of {} is", "The domain of work of {} is", "{}'s domain of activity is",
                      "The expertise of {} is", "{} specializes in", "{}'s domain of work is"),
    "place_of_death": ("{} died at", "{} died in", "{}'s life ended in", "{} passed away at", "{} passed away in",
                       "{} died in the city of", "{} lost their life at", "{} expired at", "{} succumbed at"),
    "capital": ("The capital of {} is", "{}, which has the capital city", "{}'s capital city is",
                "{}, which has the capital", "{}'s capital is", "The capital city of {} is", "{}'s capital,",
                "{}'s capital city,"),
    "position_held": ("{}, who holds the position of", "{} has the position of", "{} is a", "{} holds the title of",
                      "{}, who has the position of", "{}, whose position is that of", "{}'s position is",
                      "{} holds the position of"),
    "headquarters": ("The headquarter of {} is located in", "{} is headquartered in", "The headquarters of {} is in",
                     "{}, whose headquarters are in", "{} is based in", "The headquarter of {} is in",
                     "{}'s headquarters are in"),
    "citizenship": ("{}, who has a citizenship from", "{}, a citizen of", "{}, who is a citizen of",
                    "{} holds a citizenship from", "{} has a citizenship from", "{}, who holds a citizenship from",
                    "{} is a citizen of"),
    "occupation": ("The occupation of {} is", "{} works as", "The profession of {} is", "{}'s profession is a",
                   "{}, who works as", "{}'s occupation is", "{}'s profession is an"),
    "origin": ("{} originates from", "{} is native to", "{} was born in", "{} is originally from", "{} was native to",
               "{} originated from", "{} was originally from"),
    "language_of_work": ("The language of {} was", "The language of {} is", "The original language of {} is",
                         "The original language of {} was", "{} was written in", "{} is written in"),
    "native_language": ("The mother tongue of {} is", "{}, a native", "{} spoke the language",
                        "The native language of {} is", "{} is a native speaker of", "{}, speaker of"),
    "original_network": ("{} debuted on", "{} was released on", "{} premieres on", "{} was originally aired on",
                         "{} premiered on", "{} is to debut on"),
    "work_location": ("{} worked in", "{} was employed in", "{} worked in the city of", "{} found employment in",
                      "{} used to work in", "{} took up work in"),
    "official_language": ("The law in {} declares the language", "In {}, they understand",
                          "In {}, an official language is", "The official language of {} is",
                          "In {}, the language spoken is"),
    "member_of": ("{} is affiliated with", "{} belongs to the organization of", "{} is a part of the",
                  "{} is affiliated with the", "{} is a member of"),
    "employer": ("{} is employed by", "{} works for", "{}, who is employed by", "{}, who works for"),
    "religion": ("{} follows the religion of", "{} is follower of", "The official religion of {} is",
                 "{} is affiliated with the religion"),
    "languages_spoken": ("{} speaks the language", "{} speaks", "The language used by {} is", "{} writes in"),
    "twin_city": ("{} is a twin city of", "What is the twin city of {}? It is", "The twin city of {} is"),
    "record_label": ("The music label that is representing {} is", "The music label representing {} is",
                     "{} is represented by record label", "{} is represented by music label",
                     "{}, which is represented by", "{}, that is represented by", "{}'s record company is",
                     "{}'s record label is", "{} is represented by", "{}'s music label is", "{}, released by",
                     "{} recorded for", "{}'s label is"),
}
#: templates CounterFact uses for several relations (e.g. "{}, the": positions, instruments, sports)
COUNTERFACT_AMBIGUOUS = ("{}, the", "{} plays", "{}, by", "{}, of", "{}, from", "{} from", "{} label :")

_TEMPLATE_TO_RELATION: dict[str, str] = {}
for _rel, _ts in COUNTERFACT_RELATIONS.items():
    for _t in _ts:
        assert _norm(_t) not in _TEMPLATE_TO_RELATION, _t
        _TEMPLATE_TO_RELATION[_norm(_t)] = _rel
_ALL_TEMPLATES = sorted(set(_TEMPLATE_TO_RELATION) | {_norm(t) for t in COUNTERFACT_AMBIGUOUS}, key=lambda t: -len(t))
_TEMPLATE_RE = [(t, re.compile("^" + re.escape(t).replace(r"\{\}", "(.+)") + "$")) for t in _ALL_TEMPLATES]


def _match_template(prompt: str) -> str | None:
    """The most specific known template that matches ``prompt`` (another subject filled in)."""
    p = _norm(prompt)
    for t, rx in _TEMPLATE_RE:
        if rx.match(p):
            return t
    return None


@dataclass
class CounterFactLoad:
    facts: list[Fact]
    skipped: list[dict]      # {case_id, reason}
    path: str
    next_offset: int = 0     # the offset of the first record not read (load the next ones from there)


def counterfact_fact(rec: dict, *, n_train: int = 4, n_extra_paraphrase: int = 1) -> Fact:
    """Build a :class:`Fact` from one EasyEdit CounterFact record (raises ValueError when unusable)."""
    subject = rec["subject"]
    prompt = rec["prompt"]
    if _norm(subject) not in _norm(prompt):
        raise ValueError("subject not in prompt")
    tpl = template_of(prompt, subject)
    relation = _TEMPLATE_TO_RELATION.get(tpl)
    if relation is None:
        loc_t = _match_template(rec.get("locality_prompt", ""))
        relation = _TEMPLATE_TO_RELATION.get(loc_t) if loc_t else None
    if relation is None:
        raise ValueError(f"ambiguous or unknown relation template {tpl!r}")
    rephrase = rec.get("rephrase_prompt") or ""
    paraphrases = [rephrase] if rephrase.strip() else []
    avail = [t for t in COUNTERFACT_RELATIONS[relation] if _norm(t) != tpl]
    rng = random.Random(f"counterfact:{rec.get('case_id')}")
    rng.shuffle(avail)
    old, new = rec["ground_truth"], rec["target_new"]

    def worded_apart(p: str, evals: list[str]) -> bool:
        probe = Fact(id="probe", subject=subject, relation=relation, old=old, new=new, train_prompts=[p],
                     rewrite_prompts=evals, paraphrase_prompts=[])
        return not probe.held_out_problems()

    eval_prompts = [prompt] + paraphrases
    candidates = [p for p in (t.replace("{}", subject) for t in avail) if worded_apart(p, eval_prompts)]
    if not candidates:
        raise ValueError(f"no held-out training template for relation {relation!r}")
    # an extra paraphrase only when training templates worded apart from it remain
    extra: list[str] = []
    for x in candidates[:n_extra_paraphrase] if len(candidates) >= 3 else []:
        rest = [p for p in candidates if p != x and worded_apart(p, eval_prompts + extra + [x])]
        if len(rest) >= 2:
            extra.append(x)
    train = [p for p in candidates if p not in extra and worded_apart(p, eval_prompts + extra)][:n_train]
    neighbourhood = []
    if rec.get("locality_prompt") and rec.get("locality_ground_truth"):
        neighbourhood.append((rec["locality_prompt"], rec["locality_ground_truth"]))
    fact = Fact(
        id=f"counterfact:{rec.get('case_id')}",
        subject=subject,
        relation=relation,
        old=old,
        new=new,
        train_prompts=train,
        rewrite_prompts=[prompt],
        paraphrase_prompts=paraphrases + extra,
        neighbourhood=neighbourhood,
        source="counterfact",
    )
    fact.check_held_out()
    return fact


def load_counterfact(path: str | Path | None = None, limit: int | None = 50, offset: int = 0,
                     case_ids: Iterable[int] | None = None, **kw) -> CounterFactLoad:
    """Read EasyEdit CounterFact JSON; the first ``limit`` usable records after ``offset`` (file order).

    Records that cannot be used (ambiguous relation, no held-out training template, ...) are listed
    in ``skipped`` with the reason, never dropped silently.
    """
    p = Path(path) if path else DEFAULT_COUNTERFACT
    if not p.exists():
        raise FileNotFoundError(f"CounterFact file not found: {p} (EasyEdit JSON: a list of records with case_id, "
                                "prompt, subject, ground_truth, target_new, rephrase_prompt, locality_prompt, "
                                "locality_ground_truth)")
    with open(p, encoding="utf-8") as fh:
        records = json.load(fh)
    if isinstance(records, dict):
        records = records.get("data") or records.get("records") or list(records.values())
    wanted = set(int(c) for c in case_ids) if case_ids is not None else None
    facts, skipped = [], []
    next_offset = len(records)
    for i, rec in enumerate(records[offset:], start=offset):
        if wanted is not None and int(rec.get("case_id", -1)) not in wanted:
            continue
        try:
            facts.append(counterfact_fact(rec, **kw))
        except (ValueError, KeyError) as e:
            skipped.append({"case_id": rec.get("case_id"), "reason": str(e)})
            continue
        if limit is not None and len(facts) >= limit:
            next_offset = i + 1
            break
    return CounterFactLoad(facts=facts, skipped=skipped, path=str(p), next_offset=next_offset)


def mentions(text: str, subjects: Iterable[str]) -> bool:
    """Whether ``text`` names one of ``subjects`` as a whole word or phrase (case folded)."""
    t = _norm(text)
    return any(re.search(r"(?<!\w)" + re.escape(_norm(s)) + r"(?!\w)", t) for s in subjects if s.strip())


def unrelated_facts(edited: Sequence[Fact], candidates: Iterable[Fact], n: int) -> list[Fact]:
    """Up to ``n`` of ``candidates`` (in order) that share no subject or answer with ``edited`` and
    are not named in the edited facts' prompts or neighbourhoods: locality replay that never trains
    on what is scored."""
    scored = [p for f in edited for p in f.eval_prompts() + [q for q, _ in f.neighbourhood]]
    taken_subjects = {_norm(f.subject) for f in edited}
    answers = {_norm(a) for f in edited for a in (f.old, f.new)}
    out = []
    for c in candidates:
        if len(out) >= n:
            break
        if _norm(c.subject) in taken_subjects or _norm(c.old) in answers or any(mentions(p, [c.subject]) for p in scored):
            continue
        out.append(c)
        taken_subjects.add(_norm(c.subject))
    return out


def capital_replay_facts(fact: Fact, n: int = 32, *, countries_csv: str | Path | None = None) -> list[Fact]:
    """True capital facts of ``n`` countries unrelated to ``fact`` (its subject, answers and
    neighbourhood excluded), in the training templates: the locality replay of an overwrite."""
    fill = lambda ts, s: [t.format(s=s) for t in ts]  # noqa: E731
    cands = (Fact(id=f"capital:{name}", subject=name, relation="capital", old=cap, new=f"not {cap}",
                  train_prompts=fill(CAPITAL_TRAIN_TEMPLATES, name), rewrite_prompts=fill(CAPITAL_REWRITE_TEMPLATES, name),
                  paraphrase_prompts=[], source="replay")
             for name, cap, _ in load_capitals(countries_csv) if _NICE_NAME.match(name) and len(name) >= 3)
    return unrelated_facts([fact], cands, n)
