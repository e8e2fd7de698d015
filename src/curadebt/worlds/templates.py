"""Checks on the phrasings of a fact world: a held-out template must not share wording with the
training templates beyond its slots, or "held-out" accuracy measures recall of a trained string.

:func:`shared_ngrams` lists the word n-grams two template sets share, slots (``{p}``, ``{c}``, any
``{name}``) excluded: an n-gram that contains a slot is not counted, so "lives in {c}" and
"resident of {c}" share nothing, while "lives in" and "he lives in" share ("lives", "in").
"""
from __future__ import annotations

import re
from typing import Iterable

_TOKEN = re.compile(r"\{\w+\}|[A-Za-z']+")


def template_words(template: str) -> list[str]:
    """Lower-cased words of a template; slots stay as ``{name}`` (punctuation dropped)."""
    return [t if t.startswith("{") else t.lower() for t in _TOKEN.findall(template)]


def ngrams(template: str, n: int) -> set[tuple[str, ...]]:
    """The word n-grams of a template that contain no slot."""
    w = template_words(template)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1) if not any(x.startswith("{") for x in w[i:i + n])}


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
