"""The local engine: embedded, no server. One process by default; ``workers > 1`` feeds batches to
worker processes that each accumulate their own state, and the states are merged at the end.

Measures never know which engine runs them. Documents carry their ordinal, so a merged result
does not depend on which worker saw which batch.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
from typing import Callable, Iterable

from curadebt.audit.base import Measure
from curadebt.corpus.document import Batch


def merge_states(measures: list[Measure], parts: list[dict]) -> dict:
    """Merge per-worker states measure by measure (in worker order, for reproducible bytes)."""
    out = {m.name: m.empty() for m in measures}
    for part in parts:
        for m in measures:
            out[m.name] = m.merge(out[m.name], part[m.name])
    return out


def _single(batches: Iterable[Batch], measures: list[Measure], on_batch) -> dict:
    states = {m.name: m.empty() for m in measures}
    for batch in batches:
        for m in measures:
            states[m.name] = m.accumulate(states[m.name], batch)
        if on_batch is not None:
            on_batch(batch)
    return states


def _worker(measures, tokenizer, extractor, inbox, outbox) -> None:
    try:
        states = {m.name: m.empty() for m in measures}
        while (docs := inbox.get()) is not None:
            batch = Batch(docs, tokenizer, extractor)
            for m in measures:
                states[m.name] = m.accumulate(states[m.name], batch)
        outbox.put(("ok", states))
    except BaseException as e:  # report, never hang the parent
        import traceback

        outbox.put(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


class EngineError(RuntimeError):
    pass


def _check_alive(procs) -> None:
    dead = [p for p in procs if p.exitcode not in (None, 0)]
    if dead:
        raise EngineError(f"worker process exited with code {dead[0].exitcode} (out of memory? see stderr); "
                          "re-run with --workers 1 to see the error in this process")


def _put(q, item, procs) -> None:
    """Put with a liveness check, so a crashed worker never leaves the reader blocked forever."""
    while True:
        try:
            q.put(item, timeout=1.0)
            return
        except queue.Full:
            _check_alive(procs)


def _get(q, procs):
    while True:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            _check_alive(procs)
            if all(p.exitcode == 0 for p in procs) and q.empty():
                raise EngineError("workers exited without returning their state")


def run_measures(batches: Iterable[Batch], measures: list[Measure], on_batch: Callable[[Batch], None] | None = None,
                 workers: int = 1) -> dict[str, object]:
    """Run one pass of ``measures`` over ``batches``; returns {measure name: merged state}."""
    if workers <= 1:
        return _single(batches, measures, on_batch)
    ctx = mp.get_context("spawn")  # safe with the progress thread in the parent
    inbox, outbox = ctx.Queue(maxsize=2 * workers), ctx.Queue()
    procs = []
    it = iter(batches)
    try:
        first = next(it, None)
        tok = first._tokenizer if first is not None else None
        ext = first._entity_extractor if first is not None else None
        procs = [ctx.Process(target=_worker, args=(measures, tok, ext, inbox, outbox), daemon=True) for _ in range(workers)]
        for p in procs:
            p.start()
        batch = first
        while batch is not None:
            _put(inbox, batch.docs, procs)
            if on_batch is not None:
                on_batch(batch)
            batch = next(it, None)
        for _ in procs:
            _put(inbox, None, procs)
        parts = []
        for _ in procs:
            kind, payload = _get(outbox, procs)
            if kind == "error":
                raise EngineError(f"a worker failed: {payload}")
            parts.append(payload)
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    # Worker finishing order varies; states merge order-independently (the Measure contract).
    return merge_states(measures, parts)
