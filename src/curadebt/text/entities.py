"""Entity candidates: multi-token capitalised spans by default. Extractors are pluggable:
any callable ``(text) -> list[str]`` returning entity surface strings works."""
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
# faster than testing the lookbehinds at every position, same matches: tests/test_salience.py).
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


EXTRACTORS: dict[str, EntityExtractor] = {"capitalised": capitalised_spans}


def get_extractor(spec: str | EntityExtractor | None = None) -> EntityExtractor:
    if spec is None:
        return capitalised_spans
    if callable(spec):
        return spec
    if spec in EXTRACTORS:
        return EXTRACTORS[spec]
    if ":" in spec:  # "package.module:function"
        import importlib

        mod, _, fn = spec.partition(":")
        return getattr(importlib.import_module(mod), fn)
    raise ValueError(f"unknown entity extractor {spec!r}: use 'capitalised' or 'package.module:function'")
