"""The measure protocol: every audit measure is a mergeable summary.

    state  = measure.map(batch)          # look at one batch
    state  = measure.merge(state, other) # combine two states (associative; order of batches is
                                         # carried by Document.ordinal, never by call order)
    result = measure.finalize(state)     # a typed, JSON-serialisable dataclass

Because states merge, the same measure runs in one process, across processes, or on Ray and gives
identical results. States must be picklable. ``accumulate`` is an in-place fast path used by the
single-process engine; it must equal ``merge(state, map(batch))``. ``finalize_on(state, executor)``
lets a measure run its finalize as engine tasks (the near-duplicate grouping does).
"""
from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # the protocol names the batch type only; core imports nothing of curadebt
    from curadebt.corpus.batch import Batch

S = TypeVar("S")
R = TypeVar("R")


class Measure(ABC, Generic[S, R]):
    #: key of the measure's section in report.json
    name: str = ""

    @abstractmethod
    def empty(self) -> S:
        """The identity state (merging it changes nothing)."""

    @abstractmethod
    def map(self, batch: Batch) -> S:
        ...

    @abstractmethod
    def merge(self, a: S, b: S) -> S:
        ...

    @abstractmethod
    def finalize(self, state: S) -> R:
        ...

    def accumulate(self, state: S, batch: Batch) -> S:
        return self.merge(state, self.map(batch))

    def detach(self, state: S, put) -> S:
        """Called by an engine in the worker that built ``state``, before the state travels to the
        driver: a measure may move bulky parts into the engine's store (``put(value) -> ref``) and
        keep the refs; ``finalize_on`` then gets them back through its executor. Default: nothing."""
        return state

    def spill(self, state: S, put) -> S:
        """Called by an engine after every batch, in the process that accumulates ``state``: a
        measure whose state grows with the documents may move finished bulky parts into the
        engine's store (``put(value) -> ref``, as :meth:`detach`) once they pass its own budget, so
        memory stays bounded; the state must stay accumulable. Default: nothing."""
        return state

    def finalize_on(self, state: S, executor) -> R:
        """``finalize`` with an engine's :class:`~curadebt.engine.api.Executor` at hand (None when
        one process runs everything), for measures whose finalize is itself worth distributing.
        Must return what ``finalize`` returns."""
        return self.finalize(state)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, tuples, numpy scalars -> plain JSON types; NaN/inf -> None (strict JSON)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return to_jsonable(obj.item())
    return obj


def top_items(counter: dict, k: int) -> list[tuple[Any, int]]:
    """Deterministic top-k: by count descending, then key ascending (ties never depend on insertion order)."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
