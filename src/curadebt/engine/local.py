"""The local engine: embedded, no server. One process by default; ``workers > 1`` feeds batches to
worker processes that each accumulate their own state, and the states are merged at the end.

Measures never know which engine runs them. Documents carry their ordinal, so a merged result
does not depend on which worker saw which batch.

:class:`LocalExecutor` runs the tasks of steps that need more than one pass (the near-duplicate
grouping, :mod:`curadebt.measures.lsh`) in a pool of processes, with blocks spilled to files.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
from typing import Callable, Iterable

from curadebt.core.errors import EXIT_INTERNAL, CuradebtError
from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch
from curadebt.engine.api import Executor, Ref, split_returns


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


def die_with_parent(parent_pid: int) -> None:
    """Make this worker process exit when its parent dies, even by SIGKILL (so a killed run never
    leaves workers holding memory): Linux's PR_SET_PDEATHSIG, else a watchdog thread."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent_pid:  # the parent died before the call
                os._exit(1)
            return
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker(measures, tokenizer, extractor, inbox, outbox, spill_dir=None, parent_pid=None) -> None:
    if parent_pid is not None:
        die_with_parent(parent_pid)
    try:
        states = {m.name: m.empty() for m in measures}
        while (docs := inbox.get()) is not None:
            batch = Batch(docs, tokenizer, extractor)
            for m in measures:
                states[m.name] = m.accumulate(states[m.name], batch)
        if spill_dir is not None:  # bulky parts stay here, in the spill folder (Measure.detach)
            put = _FilePut(spill_dir)
            states = {m.name: m.detach(states[m.name], put) for m in measures}
        outbox.put(("ok", states))
    except BaseException as e:  # report, never hang the parent
        import traceback

        outbox.put(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


class EngineError(CuradebtError, RuntimeError):
    exit_code = EXIT_INTERNAL
    label = "engine error"


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
                 workers: int = 1, executor: "LocalExecutor | None" = None) -> dict[str, object]:
    """Run one pass of ``measures`` over ``batches``; returns {measure name: merged state}. With
    ``executor`` (and ``workers > 1``), measures may leave bulky parts of their states in its spill
    folder (:meth:`Measure.detach`) for a ``finalize_on`` with that executor."""
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
        spill = executor.dir if executor is not None else None
        procs = [ctx.Process(target=_worker, args=(measures, tok, ext, inbox, outbox, spill, os.getpid()), daemon=True)
                 for _ in range(workers)]
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


# ---------------------------------------------------------------------------------------------
# tasks over blocks (curadebt.engine.api): a process pool, blocks spilled to files
# ---------------------------------------------------------------------------------------------

def _dump(path: str, value) -> None:
    import pickle

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(value, f, protocol=5)
    os.replace(tmp, path)


def _load(path: str):
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


def _resolve(arg):
    if isinstance(arg, Ref):
        return _load(arg.key)
    if isinstance(arg, list) and arg and all(isinstance(a, Ref) for a in arg):
        return [_load(a.key) for a in arg]
    return arg


class _FilePut:
    """``put(value) -> Ref`` into a spill folder, usable in any process."""

    def __init__(self, folder: str):
        import uuid

        self.folder = folder
        self.prefix = uuid.uuid4().hex[:12]
        self.n = 0

    def __call__(self, value) -> Ref:
        self.n += 1
        path = os.path.join(self.folder, f"w{self.prefix}-{self.n}.pkl")
        _dump(path, value)
        return Ref(path)


def _run_task(fn, args, num_returns: int, prefix: str) -> list[str]:
    """In a worker: resolve the block arguments, run, spill each returned block to a file."""
    blocks = split_returns(fn(*[_resolve(a) for a in args]), num_returns)
    paths = []
    for k, b in enumerate(blocks):
        path = f"{prefix}-{k}.pkl"
        _dump(path, b)
        paths.append(path)
    return paths


SPILL_PREFIX = "curadebt-spill-"


def remove_stale_spills(folder: str | None = None) -> list[str]:
    """Remove the spill folders of local runs whose process is gone (killed runs); returns them.
    A spill folder is named ``curadebt-spill-<pid>-<random>``."""
    import shutil
    import tempfile

    folder = folder or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(SPILL_PREFIX):
            continue
        pid = name[len(SPILL_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class LocalExecutor(Executor):
    """Tasks in ``workers`` spawned processes; blocks are pickle files in a private spill folder
    (under ``TMPDIR``), removed by :meth:`close`, or by the next run if this one was killed. A
    worker that dies (e.g. out of memory) raises :class:`EngineError` instead of hanging; workers
    exit when this process dies."""

    name = "local"

    def __init__(self, workers: int = 2):
        import tempfile

        self.workers = max(1, int(workers))
        remove_stale_spills()
        self.dir = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
        self._pool = None
        self._n = 0

    def _name(self) -> str:
        self._n += 1
        return os.path.join(self.dir, f"b{self._n}")

    def put(self, value) -> Ref:
        path = self._name() + ".pkl"
        _dump(path, value)
        return Ref(path)

    def get(self, refs):
        if isinstance(refs, Ref):
            return _load(refs.key)
        return [self.get(r) for r in refs]

    def map(self, fn, tasks, num_returns: int = 1) -> list:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=die_with_parent, initargs=(os.getpid(),))
        futures = [self._pool.submit(_run_task, fn, args, num_returns, self._name()) for args in tasks]
        try:
            paths = [f.result() for f in futures]
        except BrokenProcessPool as e:
            raise EngineError("a worker process died (out of memory? see stderr); "
                              "re-run with --workers 1 to see the error in this process") from e
        refs = [[Ref(p) for p in ps] for ps in paths]
        return [r[0] for r in refs] if num_returns == 1 else refs

    def free(self, refs) -> None:
        if isinstance(refs, Ref):
            refs = [refs]
        for r in refs:
            if isinstance(r, (list, tuple)):
                self.free(list(r))
            else:
                try:
                    os.unlink(r.key)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        import shutil

        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        shutil.rmtree(self.dir, ignore_errors=True)
