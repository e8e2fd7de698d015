"""The local engine: one pass over the batches in this process, feeding every measure.

Measures never know which engine runs them; a multi-process or Ray engine maps batches to states
elsewhere and merges them. Ordinals make the merged result independent of the split.
"""
from __future__ import annotations

from typing import Callable, Iterable

from curadebt.audit.base import Measure
from curadebt.corpus.document import Batch


def run_measures(batches: Iterable[Batch], measures: list[Measure],
                 on_batch: Callable[[Batch], None] | None = None) -> dict[str, object]:
    states = {m.name: m.empty() for m in measures}
    for batch in batches:
        for m in measures:
            states[m.name] = m.accumulate(states[m.name], batch)
        if on_batch is not None:
            on_batch(batch)
    return states
