"""One pass of measures over a corpus on parallel workers that read for themselves.

The driver plans read units (:mod:`curadebt.corpus.units`) and schedules them; each worker reads
its units, keeps its own measure states, and hands its states back once at the end. The same
scheduler drives local worker processes and Ray actors: both expose a :class:`Workers` channel
(``call`` a method of a worker's :class:`PassWorker`, take the next ``reply``).

Scheduling (:func:`run_units`): units are handed out in reading order, at most
:data:`PER_WORKER` outstanding per worker. A worker reads a unit, holds its documents with local
ordinals and reports their count at once; the driver sends the unit's base ordinal (``place``) as
soon as the counts of the units before it are in, and the worker measures it. The parse of every
unit thus runs ahead of the measuring, and no worker waits for another's measures. A unit too
large to hold (a big compressed file) is handed out only when its base is known, and read and
measured in one call. The units' books and quarantine entries are merged in unit order, so
everything equals one sequential read. An error in a unit (a truncated file) is raised once the
units before it are done, the error of the lowest unit first, as a sequential read would have
raised it.

Corpora a worker cannot read (records held in memory) are fed by the driver in batches
(:func:`feed_batches`).
"""
from __future__ import annotations

import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from curadebt.core.measure import Measure
from curadebt.core.memory import release_free_memory
from curadebt.corpus.batch import Batch, chunked
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import ReaderConfig, ReadStats, iter_batches
from curadebt.corpus.units import HOLD_BYTES, UnitPlan, UnitRead, iter_unit, merge_stats, rebase

#: units handed to a worker and not yet measured (one being measured, one read ahead)
PER_WORKER = 2


@dataclass
class PassInput:
    """The corpus a pass reads, and the books it fills (``stats``, ``quarantine``)."""

    paths: Any
    reader: ReaderConfig
    tokenizer: Any = None
    extractor: Any = None
    quarantine: Quarantine = field(default_factory=Quarantine)
    stats: ReadStats = field(default_factory=ReadStats)
    count_tokens: bool = False         # workers report each unit's tokens (the session's ``units``)

    def batches(self) -> Iterator[Batch]:
        """The corpus read by this process, batch by batch."""
        return iter_batches(self.paths, self.reader, self.quarantine, self.stats, self.tokenizer, self.extractor)


@dataclass
class PassSpec:
    """What every worker needs for a pass (pickled once per worker per pass)."""

    measures: list[Measure]
    tokenizer: Any
    extractor: Any
    reader: ReaderConfig
    items: list                        # the plan's sources (SourceFile)
    sizes: list[int] = field(default_factory=list)   # their sizes as the driver sees them
    count_tokens: bool = False


@dataclass
class UnitBooks:
    """A unit after a pass: its first document's ordinal, its documents, its tokens (under the
    pass's tokenizer) and the corpus token its first document starts at."""

    unit: Any
    base: int
    documents: int
    tokens: int
    start_token: int = 0


@dataclass
class PassUnits:
    """The units of the last pass (for steps that read a stretch of the corpus again by units)."""

    items: list
    units: list[UnitBooks]


class PassWorker:
    """A worker's side of a pass: read units, hold them until placed, accumulate measure states.
    Every method returns a reply tuple, never raises (an error is a reply the driver raises)."""

    def __init__(self, put: Callable | None = None) -> None:
        self.spec: PassSpec | None = None
        self.states: dict[str, Any] = {}
        self.held: dict[int, list] = {}
        self.put = put          # the engine's store, where measures spill (Measure.spill) and detach

    def begin(self, spec: PassSpec) -> tuple:
        """Start a pass; ``("unreadable", why)`` when this worker does not see the corpus's files as
        the driver does (a cluster node without the shared file system)."""
        import os

        for src, size in zip(spec.items, spec.sizes):
            try:
                mine = os.path.getsize(src.path) if not os.path.isdir(src.path) else size
            except OSError as e:
                return ("unreadable", f"{src.path}: {e}")
            if mine != size:
                return ("unreadable", f"{src.path}: {mine} bytes here, {size} on the driver")
        self.spec, self.held = spec, {}
        self.states = {m.name: m.empty() for m in spec.measures}
        return ("begun",)

    def read(self, unit, base: int | None) -> tuple:
        """Read a unit; measure it now when its ``base`` is given, else hold it for :meth:`place`."""
        try:
            docs, stats, quarantine = iter_unit(unit, self.spec.items, self.spec.reader, base or 0)
            tokens = 0
            if base is None:
                held = list(docs)
                self.held[unit.index] = held
                n = len(held)
            else:
                n, tokens = self._measure(docs)
            return ("read", UnitRead(unit.index, n, stats, quarantine.records, tokens), base is not None)
        except BaseException as e:  # noqa: BLE001 - reported, raised by the driver
            return _error(unit.index, e)

    def place(self, index: int, base: int) -> tuple:
        try:
            _, tokens = self._measure(rebase(self.held.pop(index), base))
            return ("placed", index, tokens)
        except BaseException as e:  # noqa: BLE001
            return _error(index, e)

    def feed(self, docs: list) -> tuple:
        """A batch the driver read."""
        try:
            return ("fed", self._batch(docs)[0])
        except BaseException as e:  # noqa: BLE001
            return _error(-1, e)

    def end(self, detach: bool = True) -> tuple:
        """The states (with ``detach``: bulky parts moved into the engine's store)."""
        try:
            measures = self.spec.measures if self.spec else []
            put = self.put if detach else None
            states = {m.name: (m.detach(self.states[m.name], put) if put else self.states[m.name]) for m in measures}
            self.spec, self.states, self.held = None, {}, {}
            release_free_memory(collect=False)  # a worker's pass garbage, before its next pass
            return ("states", states)
        except BaseException as e:  # noqa: BLE001
            return _error(-1, e)

    def _measure(self, docs: Iterable) -> tuple[int, int]:
        """Measure documents in batches; (documents, tokens: counted when the pass asks)."""
        n = tokens = 0
        for chunk in chunked(docs, self.spec.reader.batch_size):
            dn, dt = self._batch(chunk)
            n, tokens = n + dn, tokens + dt
        return n, tokens

    def _batch(self, docs: list) -> tuple[int, int]:
        spec = self.spec
        batch = Batch(docs, spec.tokenizer, spec.extractor)
        for m in spec.measures:
            state = m.accumulate(self.states[m.name], batch)
            self.states[m.name] = m.spill(state, self.put) if self.put is not None else state
        return len(docs), (sum(batch.token_counts) if spec.count_tokens else 0)


def _error(index: int, e: BaseException) -> tuple:
    import pickle

    try:
        pickle.dumps(e)
        exc = e
    except Exception:  # noqa: BLE001 - an unpicklable error travels as text
        exc = None
    return ("error", index, exc, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


class Workers(Protocol):
    """A channel to ``n`` workers, each holding a :class:`PassWorker`: ``call`` queues a method call
    on one worker (calls to one worker run in order); ``reply`` blocks for the next reply of any
    worker, as ``(worker, reply)``."""

    n: int

    def call(self, w: int, method: str, *args) -> None: ...

    def reply(self) -> tuple[int, tuple]: ...


class WorkerError(RuntimeError):
    pass


def _raise(reply: tuple) -> None:
    _, _, exc, text = reply
    if exc is not None:
        raise exc
    raise WorkerError(f"a worker failed: {text}")


def run_units(workers: Workers, plan: UnitPlan, stats: ReadStats, quarantine: Quarantine,
              advance: Callable[[], None] | None = None) -> PassUnits:
    """Read and measure every unit of ``plan`` on ``workers`` (see the module docstring); the
    books go to ``stats`` and ``quarantine`` in unit order. Returns each unit's books."""
    pending = deque(plan.units)
    load = [0] * workers.n              # units handed to each worker, not yet measured
    held: dict[int, int] = {}           # unit held (read, not placed) -> its worker
    counts: dict[int, int] = {}
    reads: dict[int, UnitRead] = {}
    base_of: dict[int, int] = {}
    frontier, base, flushed = 0, 0, 0   # units < frontier are counted; base = their documents
    waiting = 0                         # calls without a reply
    errors: dict[int, tuple] = {}
    tokens: dict[int, int] = {}

    def dispatch() -> None:
        nonlocal waiting
        while pending and not errors:
            unit = pending[0]
            w = min(range(workers.n), key=lambda i: (load[i], i))
            if load[w] >= PER_WORKER:
                return
            if unit.nbytes <= HOLD_BYTES:  # read now, measured once the base is known
                workers.call(w, "read", unit, None)
                held[unit.index] = w
            elif unit.index == frontier:   # too big to hold: read and measured in one go
                workers.call(w, "read", unit, base)
            else:
                return  # it goes when its base is known
            pending.popleft()
            load[w] += 1
            waiting += 1

    dispatch()
    while waiting:
        w, reply = workers.reply()
        waiting -= 1
        kind = reply[0]
        if kind == "error":
            errors[reply[1]] = reply
            continue
        if kind == "placed":
            load[w] -= 1
            tokens[reply[1]] = reply[2]
        elif kind == "read":
            r, measured = reply[1], reply[2]
            if measured:
                load[w] -= 1
                tokens[r.index] = r.tokens
            counts[r.index], reads[r.index] = r.documents, r
            while frontier in counts:
                base_of[frontier] = base
                base += counts[frontier]
                frontier += 1
            for k in sorted(k for k in held if k in base_of):
                if not errors:
                    workers.call(held.pop(k), "place", k, base_of[k])
                    waiting += 1
            while flushed in reads:
                done = reads.pop(flushed)
                merge_stats(stats, done.stats)
                for rec in done.quarantined:
                    quarantine.add(rec)
                flushed += 1
                if advance is not None:
                    advance()
        dispatch()
    if errors:
        _raise(errors[min(errors)])
    books, start = [], 0
    for u in plan.units:
        books.append(UnitBooks(u, base_of[u.index], counts[u.index], tokens.get(u.index, 0), start))
        start += books[-1].tokens
    return PassUnits(plan.items, books)


def feed_batches(workers: Workers, batches: Iterable[Batch], on_batch: Callable | None = None) -> None:
    """The driver reads and hands out batches (corpora a worker cannot read), a bounded number in
    flight per worker."""
    load = [0] * workers.n
    waiting = 0
    for batch in batches:
        w = min(range(workers.n), key=lambda i: (load[i], i))
        while load[w] >= PER_WORKER:
            done, reply = workers.reply()
            waiting -= 1
            if reply[0] == "error":
                _raise(reply)
            load[done] -= 1
            w = min(range(workers.n), key=lambda i: (load[i], i))
        workers.call(w, "feed", batch.docs)
        load[w] += 1
        waiting += 1
        if on_batch is not None:
            on_batch(batch)
    while waiting:
        _, reply = workers.reply()
        waiting -= 1
        if reply[0] == "error":
            _raise(reply)


def begin_pass(workers: Workers, spec: PassSpec) -> bool:
    """Every worker starts a pass; False when one of them cannot read the files."""
    for w in range(workers.n):
        workers.call(w, "begin", spec)
    readable = True
    for _ in range(workers.n):
        _, reply = workers.reply()
        if reply[0] == "error":
            _raise(reply)
        readable = readable and reply[0] == "begun"
    return readable


def collect_states(workers: Workers, measures: list[Measure], detach: bool,
                   on_states: Callable[[int, tuple], None] | None = None) -> dict:
    """Every worker's states, merged in worker order (measures merge order-independently)."""
    for w in range(workers.n):
        workers.call(w, "end", detach)
    parts: dict[int, dict] = {}
    for _ in range(workers.n):
        w, reply = workers.reply()
        if reply[0] == "error":
            _raise(reply)
        if on_states is not None:
            on_states(w, reply)
        parts[w] = reply[1]
    out = {m.name: m.empty() for m in measures}
    for w in sorted(parts):
        for m in measures:
            out[m.name] = m.merge(out[m.name], parts[w][m.name])
    return out
