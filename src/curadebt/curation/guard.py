"""The tail guard: no operation removes the last kept document of an entity or of a fact.

A document is *the last copy* of a mention when it is the only kept document that mentions some
entity (an entity span of the scan, e.g. an invented person of a fact world), that supports some
probe answer (a competing fact of ``--probes``), or (with ``words``, as dedup uses it) that holds
some capitalised word (a one-word name: a country, a city). Dropping it would make that entity or fact vanish
from the corpus, which is the opposite of paying down curation debt: the tail is what a model
learns least. :class:`TailGuard` keeps kept-document counts per entity and per probe answer as the
op drops documents, and says when a drop would take one of them to zero.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

import numpy as np

from curadebt.curation.context import OpContext


class TailGuard:
    """Kept-document counts of every entity and probe answer under the current plan."""

    def __init__(self, ctx: OpContext, exclude: Iterable[int] = (), words: bool = False):
        table, kept = ctx.table, ctx.plan.kept
        self.table = table
        self.exclude = {int(h) for h in exclude}  # entity keys an op may take to zero (the capped one)
        doc_of = np.repeat(np.arange(table.n), np.diff(table.ent_off))
        hashes = table.ent_hash[kept[doc_of]] if len(doc_of) else table.ent_hash[:0]
        keys, counts = np.unique(hashes, return_counts=True)
        self.entities: Counter = Counter(dict(zip(keys.tolist(), counts.tolist())))
        pdoc = np.repeat(np.arange(table.n), np.diff(table.pr_off))
        sel = kept[pdoc] if len(pdoc) else np.zeros(0, bool)
        self.answers: Counter = Counter(zip(table.pr_probe[sel].tolist(), table.pr_answer[sel].tolist()))
        self.words: Counter | None = None
        if words:
            wdoc = np.repeat(np.arange(table.n), np.diff(table.cap_off))
            wk, wc = np.unique(table.cap_hash[kept[wdoc]] if len(wdoc) else table.cap_hash[:0], return_counts=True)
            self.words = Counter(dict(zip(wk.tolist(), wc.tolist())))
        self.kept_back: Counter = Counter()  # why documents were kept back: "entity" / "probe answer" / "word"

    def _doc_answers(self, d: int) -> set[tuple[int, int]]:
        a, b = self.table.pr_off[d], self.table.pr_off[d + 1]
        return set(zip(self.table.pr_probe[a:b].tolist(), self.table.pr_answer[a:b].tolist()))

    def _doc_words(self, d: int) -> list[int]:
        return self.table.cap_hash[self.table.cap_off[d]:self.table.cap_off[d + 1]].tolist()

    def last_copy(self, d: int) -> str | None:
        """What document ``d`` is the last kept copy of (``"entity"``, ``"probe answer"``, ``"word"``)
        or None."""
        for h in self.table.entity_hashes(d).tolist():
            if h not in self.exclude and self.entities[h] <= 1:
                return "entity"
        if any(self.answers[k] <= 1 for k in self._doc_answers(d)):
            return "probe answer"
        if self.words is not None and any(self.words[w] <= 1 for w in self._doc_words(d)):
            return "word"
        return None

    def drop(self, d: int) -> bool:
        """Drop ``d`` unless it is a last copy (then count it as kept back); True when dropped."""
        why = self.last_copy(d)
        if why is not None:
            self.kept_back[why] += 1
            return False
        for h in self.table.entity_hashes(d).tolist():
            self.entities[h] -= 1
        for k in self._doc_answers(d):
            self.answers[k] -= 1
        if self.words is not None:
            for w in self._doc_words(d):
                self.words[w] -= 1
        return True

    def filter_drops(self, ordinals: Iterable[int]) -> tuple[list[int], list[int]]:
        """Go through planned drops in order: (dropped, kept back as last copies)."""
        dropped, back = [], []
        for d in ordinals:
            (dropped if self.drop(int(d)) else back).append(int(d))
        return dropped, back
