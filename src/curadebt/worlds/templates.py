"""Checks on the phrasings of a fact world: a held-out template must not share wording with the
training templates beyond its slots, or "held-out" accuracy measures recall of a trained string.

:func:`shared_ngrams` lists the word n-grams two template sets share, slots (``{p}``, ``{c}``, any
``{name}``) excluded: an n-gram that contains a slot is not counted, so "lives in {c}" and
"resident of {c}" share nothing, while "lives in" and "he lives in" share ("lives", "in").

:func:`shared_wording` applies the same check to two filled-in prompts of a pretrained model's
facts ("The capital of France is"): the subject and the answers become slots, and an n-gram made
only of function words ("of the", "in its") does not count, since it is no wording a model could
latch onto. ``curadebt.lab.facts.Fact.held_out_problems`` rejects any training / evaluation pair
with shared wording ("The capital of {} is" and "The capital city of {} is" share "the capital").
"""
from __future__ import annotations

import re
from typing import Iterable

_TOKEN = re.compile(r"\{\w*\}|[^\W\d_]+(?:'[^\W\d_]+)*|'[^\W\d_]+|\d+")

#: words that carry no content on their own (an n-gram of only these is not shared wording)
FUNCTION_WORDS = frozenset(
    "a an the of in on at to for by with from into and or but is are was were be been being has have had "
    "it its 's s this that these those which who whom whose as than then there their his her our your".split())


def template_words(template: str) -> list[str]:
    """Lower-cased words of a template; slots stay as ``{name}`` (punctuation dropped)."""
    return [t if t.startswith("{") else t.lower() for t in _TOKEN.findall(template)]


def ngrams(template: str, n: int, content_only: bool = False) -> set[tuple[str, ...]]:
    """The word n-grams of a template that contain no slot (``content_only``: and at least one word
    that is not a function word)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    w = template_words(template)
    grams = (tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return {g for g in grams if not any(x.startswith("{") for x in g)
            and not (content_only and all(x in FUNCTION_WORDS for x in g))}


def as_template(prompt: str, blanks: Iterable[str]) -> str:
    """``prompt`` with each of ``blanks`` (subject, answers; longest first, case folded) made a slot."""
    text = prompt.casefold()
    for b in sorted({b.casefold().strip() for b in blanks if b and b.strip()}, key=len, reverse=True):
        text = text.replace(b, " {} ")
    return text


def shared_wording(a: str, b: str, blanks: Iterable[str] = (), n: int = 2) -> list[str]:
    """The content n-grams two prompts share once ``blanks`` are slots (sorted, as text; empty: worded apart)."""
    blanks = list(blanks)
    common = ngrams(as_template(a, blanks), n, content_only=True) & ngrams(as_template(b, blanks), n, content_only=True)
    return sorted(" ".join(g) for g in common)


def shared_ngrams(heldout: Iterable[str], train: Iterable[str], n: int = 2) -> dict[str, set[tuple[str, ...]]]:
    """For each held-out template that shares any slot-free word n-gram with a training template,
    the n-grams it shares (an empty dict: the sets are disjoint at this n)."""
    seen: set[tuple[str, ...]] = set()
    for t in train:
        seen |= ngrams(t, n)
    out = {}
    for h in heldout:
        common = ngrams(h, n) & seen
        if common:
            out[h] = common
    return out
