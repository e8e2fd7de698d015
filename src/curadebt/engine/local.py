"""The local engine: embedded, no server. One process by default; with ``workers > 1`` a run
starts that many worker processes once (:class:`LocalWorkers`) and they do all its work: each pass
(they read their own units of the corpus and accumulate their own states, merged at the end:
:mod:`curadebt.engine.passes`) and the tasks of steps that need more than one pass (the
near-duplicate grouping, :mod:`curadebt.measures.lsh`), with blocks spilled to files
(:class:`LocalExecutor`).

Measures never know which engine runs them. Documents carry their ordinal, so a merged result
does not depend on which worker saw which unit.
"""
from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

from curadebt.core.errors import EXIT_INTERNAL, CuradebtError
from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch
from curadebt.engine.api import Executor, Ref, split_returns
from curadebt.engine.spill import alive as _alive
from curadebt.engine.spill import dump as _dump
from curadebt.engine.spill import load as _load
from curadebt.engine.spill import make_spill_dir, remove_spill_dir


def merge_states(measures: list[Measure], parts: list[dict]) -> dict:
    """Merge per-worker states measure by measure (in worker order, for reproducible bytes)."""
    out = {m.name: m.empty() for m in measures}
    for part in parts:
        for m in measures:
            out[m.name] = m.merge(out[m.name], part[m.name])
    return out


def _single(batches: Iterable[Batch], measures: list[Measure], on_batch, put=None) -> dict:
    """One pass in this process; with ``put``, measures spill bulky parts there (:meth:`Measure.spill`)."""
    states = {m.name: m.empty() for m in measures}
    for batch in batches:
        for m in measures:
            state = m.accumulate(states[m.name], batch)
            states[m.name] = m.spill(state, put) if put is not None else state
        if on_batch is not None:
            on_batch(batch)
    return states


def die_with_parent(parent_pid: int) -> None:
    """Make this worker process exit when the run's process ``parent_pid`` dies, even by SIGKILL (so
    a killed run never leaves workers holding memory): Linux's PR_SET_PDEATHSIG when it is this
    process's parent, else (a worker forked by a fork server, or not Linux) a watchdog thread."""
    import signal
    import sys

    if sys.platform.startswith("linux") and os.getppid() == parent_pid:
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent_pid:  # the parent died before the call
                os._exit(1)
            return
    import time

    def watch() -> None:
        while _alive(parent_pid):
            time.sleep(0.5)
        os._exit(1)

    if not _alive(parent_pid):
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


class EngineError(CuradebtError, RuntimeError):
    exit_code = EXIT_INTERNAL
    label = "engine error"


def _serve(index: int, inbox, outbox, spill_dir: str, parent_pid: int) -> None:
    """A worker process: calls of its :class:`~curadebt.engine.passes.PassWorker` and tasks, in the
    order they come, until ``None``."""
    die_with_parent(parent_pid)
    from curadebt.engine.passes import PassWorker, _error

    put = _FilePut(spill_dir)
    worker = PassWorker(put)
    while (msg := inbox.get()) is not None:
        method, args = msg
        if method == "task":
            number, fn, fargs, num_returns, prefix = args
            try:
                reply = ("task", number, _run_task(fn, fargs, num_returns, prefix))
            except BaseException as e:  # noqa: BLE001 - reported, raised by the driver
                reply = _error(number, e)
        elif method == "end":  # the states go through a file: a pipe is slow for hundreds of MB
            reply = worker.end(args[0])
            if reply[0] == "states":
                reply = ("states", put(reply[1]))
        else:
            reply = getattr(worker, method)(*args)
        outbox.put((index, "task" if method == "task" else "pass", reply))


def _context(preload: tuple[str, ...]):
    """Where workers come from: a fork server (Linux, macOS) that imported ``preload`` once, so a
    worker starts with the modules and compiled functions a pass needs (a spawned worker spends about
    a second of CPU loading them: numba's registries, the measures); it is started cleanly, once per
    process, and never forks a process with threads. Else spawn."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    if preload:
        ctx.set_forkserver_preload(["curadebt.engine.passes", *preload])  # the first run's list stays
    return ctx


class LocalWorkers:
    """``n`` spawned worker processes that live for a whole run: every pass and every task of it
    (starting a process, with its imports and compiled code, costs about a second). They exit with
    :meth:`close`, or when this process dies. The :class:`~curadebt.engine.passes.Workers` channel."""

    def __init__(self, n: int, spill_dir: str, preload: tuple[str, ...] = ()):
        ctx = _context(preload)
        self.n = max(1, int(n))
        self.inboxes = [ctx.Queue() for _ in range(self.n)]
        self.outbox = ctx.Queue()
        self.procs = [ctx.Process(target=_serve, args=(i, self.inboxes[i], self.outbox, spill_dir, os.getpid()),
                                  daemon=True) for i in range(self.n)]
        for p in self.procs:
            p.start()
        self._filed = threading.Condition()
        self._replies: dict[str, deque] = {"pass": deque(), "task": deque()}
        self._reading = False

    def call(self, w: int, method: str, *args) -> None:
        self.inboxes[w].put((method, args))

    def reply(self, kind: str = "pass") -> tuple[int, tuple]:
        """The next reply of a pass (``kind`` "pass") or of a task ("task"): a pass and tasks may
        be waited on from different threads (curate draws a page on a worker during a pass), so one
        thread at a time reads the queue and files each reply under its kind."""
        with self._filed:
            while True:
                if self._replies[kind]:
                    return self._replies[kind].popleft()
                if not self._reading:
                    self._reading = True
                    break
                self._filed.wait()
        try:
            w, got, reply = self._next()
        finally:
            with self._filed:
                self._reading = False
                self._filed.notify_all()
        if got == kind:
            return w, reply
        with self._filed:
            self._replies[got].append((w, reply))
            self._filed.notify_all()
        return self.reply(kind)

    def _next(self) -> tuple[int, str, tuple]:
        while True:
            try:
                w, kind, reply = self.outbox.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if p.exitcode is not None]
                if dead:
                    raise EngineError(f"a worker process died (exit code {dead[0].exitcode}; out of memory? see "
                                      "stderr); re-run with --workers 1 to see the error in this process")
                continue
            if reply[0] == "states" and isinstance(reply[1], Ref):
                path = reply[1].key
                reply = ("states", _load(path))
                os.unlink(path)
            return w, kind, reply

    def close(self) -> None:
        for p, box in zip(self.procs, self.inboxes):
            if p.is_alive():
                box.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()


def run_measures(batches: Iterable[Batch], measures: list[Measure], on_batch: Callable[[Batch], None] | None = None,
                 workers: int = 1, executor: "LocalExecutor | None" = None) -> dict[str, object]:
    """One pass of ``measures`` over ``batches`` fed by this process; returns {measure name: merged
    state}. With ``executor`` (its workers do the pass), measures may leave bulky parts of their
    states in its spill folder (:meth:`Measure.detach`) for a ``finalize_on`` with it."""
    if workers <= 1 and executor is None:
        return _single(batches, measures, on_batch)
    from curadebt.engine.passes import PassSpec, collect_states, feed_batches

    own = executor is None
    ex = executor if executor is not None else LocalExecutor(workers)
    try:
        it = iter(batches)
        first = next(it, None)
        if first is None:
            return {m.name: m.empty() for m in measures}
        spec = PassSpec(measures, first._tokenizer, first._entity_extractor, None, [])
        ex.begin(spec)
        feed_batches(ex.channel, itertools.chain([first], it), on_batch)
        return collect_states(ex.channel, measures, detach=not own)
    finally:
        if own:
            ex.close()


# ---------------------------------------------------------------------------------------------
# tasks over blocks (curadebt.engine.api): a process pool, blocks spilled to files
# ---------------------------------------------------------------------------------------------

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

    def name(self) -> str:
        self.n += 1
        return os.path.join(self.folder, f"w{self.prefix}-{self.n}")

    def __call__(self, value) -> Ref:
        return Ref(_dump(self.name() + ".pkl", value))


def _run_task(fn, args, num_returns: int, prefix: str) -> list[str]:
    """In a worker: resolve the block arguments, run, spill each returned block to a file."""
    blocks = split_returns(fn(*[_resolve(a) for a in args]), num_returns)
    paths = []
    for k, b in enumerate(blocks):
        paths.append(_dump(f"{prefix}-{k}.pkl", b))
    return paths


# Tasks handed to a worker before its last one replied. One: a task queued behind a long one on a
# busy worker would wait while another worker idles (tasks take tenths of seconds, a hand-over a
# millisecond, so nothing is gained by queueing them).
TASKS_PER_WORKER = 1


class FileStore(Executor):
    """This process's store for what measures spill (one process, no workers): blocks are pickle
    files in a private spill folder, tasks run here, one after another, reading their blocks from
    the files; removed by :meth:`close` (or by the next run if this one was killed)."""

    name = "files"

    def __init__(self, spill_dir: str | None = None):
        self.workers = 1
        self.dir = make_spill_dir(spill_dir)
        self._put = _FilePut(self.dir)

    def put(self, value) -> Ref:
        return self._put(value)

    def get(self, refs):
        if isinstance(refs, Ref):
            return _load(refs.key)
        return [self.get(r) for r in refs]

    def map(self, fn, tasks, num_returns: int = 1) -> list:
        refs = [[Ref(p) for p in _run_task(fn, args, num_returns, self._put.name())] for args in tasks]
        return [r[0] for r in refs] if num_returns == 1 else refs

    def free(self, refs) -> None:
        for r in refs if isinstance(refs, (list, tuple)) else [refs]:
            if isinstance(r, (list, tuple)):
                self.free(r)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(r.key)

    def close(self) -> None:
        remove_spill_dir(self.dir)


@dataclass
class _TaskFuture:
    number: int
    done: bool = False
    paths: list | None = None
    error: tuple | None = None


class LocalExecutor(Executor):
    """A run's worker processes (:class:`LocalWorkers`, started on first use) doing its passes
    (:meth:`run_units`) and its tasks; blocks are pickle files in a private spill folder
    (:mod:`curadebt.engine.spill`: memory-backed within a budget, then on disk), removed by
    :meth:`close`, or by the next run if this one was killed. A worker that
    dies (e.g. out of memory) raises :class:`EngineError` instead of hanging; workers exit when this
    process dies."""

    name = "local"

    def __init__(self, workers: int = 2, preload: tuple[str, ...] = (), spill_dir: str | None = None):
        self.workers = max(1, int(workers))
        self.preload = tuple(preload)
        self.dir = make_spill_dir(spill_dir)
        self._pool: LocalWorkers | None = None
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._start_lock = threading.Lock()
        self._n = 0
        # tasks may be mapped from several driver threads at once (measures finalize side by side):
        # one thread at a time pumps the channel (hands out queued tasks, takes a reply) for all
        self._pump = threading.Lock()
        self._books = threading.Lock()
        self._queued: deque = deque()
        self._futures: dict[int, _TaskFuture] = {}
        self._load: list[int] = []

    def start(self) -> None:
        """Start the workers in a background thread, so this process goes on (loads its tokenizer,
        imports the measures, plans the units) while the fork server imports ``preload`` (about
        half a second that :attr:`channel` would otherwise wait for)."""
        with self._start_lock:
            if self._pool is None and self._starting is None:
                self._starting = threading.Thread(target=self._start, name="curadebt-workers-start", daemon=True)
                self._starting.start()

    def _start(self) -> None:
        try:
            self._pool = LocalWorkers(self.workers, self.dir, self.preload)
            self._load = [0] * self._pool.n
        except BaseException as e:  # raised by the first use of the channel
            self._start_error = e

    @property
    def channel(self) -> LocalWorkers:
        if self._pool is None:
            self.start()
            self._starting.join()
            if self._start_error is not None:
                raise self._start_error
        return self._pool

    def begin(self, spec) -> bool:
        """Every worker starts a pass with ``spec`` (a :class:`~curadebt.engine.passes.PassSpec`);
        False when one cannot read the corpus's files."""
        from curadebt.engine.passes import begin_pass

        return begin_pass(self.channel, spec)

    def on_states(self, w: int, reply: tuple) -> None:
        """A worker's states came back (their detached blocks are files already)."""

    def _name(self) -> str:
        with self._books:
            self._n += 1
            return os.path.join(self.dir, f"b{self._n}")

    def put(self, value) -> Ref:
        return Ref(_dump(self._name() + ".pkl", value))

    def get(self, refs):
        if isinstance(refs, Ref):
            return _load(refs.key)
        return [self.get(r) for r in refs]

    def map(self, fn, tasks, num_returns: int = 1) -> list:
        from curadebt.engine.passes import _raise

        self.channel  # noqa: B018 - start the workers
        futures = []
        for args in tasks:
            with self._books:
                self._n += 1
                fut = self._futures[self._n] = _TaskFuture(self._n)
                self._queued.append((fut.number, fn, args, num_returns, os.path.join(self.dir, f"b{self._n}")))
            futures.append(fut)
        for fut in futures:
            self._wait(fut)
        errors = [f.error for f in futures if f.error is not None]
        if errors:
            _raise(errors[0])
        refs = [[Ref(p) for p in f.paths] for f in futures]
        return [r[0] for r in refs] if num_returns == 1 else refs

    def _wait(self, fut: "_TaskFuture") -> None:
        pool = self.channel
        while not fut.done:
            with self._pump:
                if fut.done:
                    return
                with self._books:
                    while self._queued:
                        w = min(range(pool.n), key=lambda i: (self._load[i], i))
                        if self._load[w] >= TASKS_PER_WORKER:
                            break
                        pool.call(w, "task", *self._queued.popleft())
                        self._load[w] += 1
                w, reply = pool.reply("task")
                with self._books:
                    self._load[w] -= 1
                    done = self._futures.pop(reply[1])
                    if reply[0] == "error":
                        done.error = reply
                    else:
                        done.paths = reply[2]
                    done.done = True

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
        if self._starting is not None:
            self._starting.join()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        remove_spill_dir(self.dir)
