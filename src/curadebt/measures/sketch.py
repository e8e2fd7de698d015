"""Exact counting under a memory budget, degrading to a Misra-Gries heavy-hitter summary beyond it.

While the number of distinct keys stays within ``budget`` the counts are exact. When it grows past
``budget * slack``, every count is lowered by the (budget+1)-th largest count and keys that reach
zero are dropped (the batched Misra-Gries step). Each reported count is then a lower bound and the
true count is at most ``count + error``, where ``error`` is the sum of the amounts subtracted: a
mergeable guarantee (errors add on merge). Any key whose true count exceeds ``error`` is kept.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BoundedCounter:
    budget: int
    counts: Counter = field(default_factory=Counter)
    total: int = 0          # exact number of items counted (kept or not)
    error: int = 0          # max undercount of any key; 0 while exact
    slack: float = 1.5

    @property
    def exact(self) -> bool:
        return self.error == 0

    def update(self, items, n_items: int | None = None) -> None:
        if n_items is None:
            items = list(items)
            n_items = len(items)
        self.counts.update(items)
        self.total += n_items
        self._maybe_prune()

    def _maybe_prune(self) -> None:
        if len(self.counts) <= self.budget * self.slack:
            return
        values = sorted(self.counts.values(), reverse=True)
        cut = values[self.budget]  # the (budget+1)-th largest count
        self.error += cut
        self.counts = Counter({k: v - cut for k, v in self.counts.items() if v > cut})

    def merge(self, other: "BoundedCounter") -> "BoundedCounter":
        out = BoundedCounter(self.budget, Counter(self.counts), self.total + other.total,
                             self.error + other.error, self.slack)
        out.counts.update(other.counts)
        out._maybe_prune()
        return out
