"""What a step may ask of an engine beyond one pass of measures: run tasks where the data lives.

A step that needs more than map/merge (the near-duplicate grouping: bucket by LSH key, verify
candidate pairs, connected components) is written against this small interface and never learns
which engine runs it::

    ref  = ex.put(value)                        # store a block where tasks can read it
    refs = ex.map(fn, [(a, b), ...])            # one task per argument tuple, in parallel
    refs = ex.map(fn, tasks, num_returns=k)     # each task returns k blocks -> k refs per task
    vals = ex.get(refs)                         # fetch blocks to the driver (small ones only)

``fn`` is a module-level function (it is pickled by name). A task's positional arguments may be
refs or lists of refs; the engine resolves them to values inside the worker, so blocks go from
worker to worker (local: files in a spill folder; Ray: the object store) and never through the
driver. Task results stay in the engine until the driver ``get``\\s them. Everything a task
returns must be a function of its inputs, so results never depend on scheduling.

:class:`SerialExecutor` runs the same tasks in this process (tests, and the reference the parallel
executors must equal); :class:`~curadebt.engine.local.FileStore` does too, with its blocks in files
(one process past its memory budget). The parallel ones live in :mod:`curadebt.engine.local` and
:mod:`curadebt.engine.ray_engine`; they also hold the run's workers for its passes (``channel``,
``begin``, ``on_states``: :mod:`curadebt.engine.passes`) and may be called from several threads at
once (measures finalize side by side).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence


class Ref:
    """A handle to a stored block (the engine decides what is inside)."""

    __slots__ = ("key",)

    def __init__(self, key: Any):
        self.key = key

    def __repr__(self) -> str:
        return f"Ref({self.key!r})"


class Executor:
    """The interface (see the module docstring). ``workers`` says how many tasks run at once."""

    workers: int = 1
    name: str = "executor"

    def put(self, value: Any) -> Any:
        raise NotImplementedError

    def get(self, refs):
        raise NotImplementedError

    def map(self, fn: Callable, tasks: Sequence[tuple], num_returns: int = 1) -> list:
        raise NotImplementedError

    def free(self, refs) -> None:
        """Drop blocks no longer needed (optional; engines may keep them until ``close``)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def split_returns(value, num_returns: int) -> list:
    """A task's return value as ``num_returns`` blocks (a tuple/list of that length when > 1)."""
    if num_returns == 1:
        return [value]
    if not isinstance(value, (tuple, list)) or len(value) != num_returns:
        raise RuntimeError(f"task returned {type(value).__name__}, expected {num_returns} blocks")
    return list(value)


class SerialExecutor(Executor):
    """Runs every task in this process, one after another; blocks are plain Python objects."""

    name = "serial"

    def __init__(self):
        self.workers = 1
        self._store: dict[int, Any] = {}
        self._next = 0

    def put(self, value: Any) -> Ref:
        self._next += 1
        self._store[self._next] = value
        return Ref(self._next)

    def _resolve(self, arg):
        if isinstance(arg, Ref):
            return self._store[arg.key]
        if isinstance(arg, list) and arg and all(isinstance(a, Ref) for a in arg):
            return [self._store[a.key] for a in arg]
        return arg

    def get(self, refs):
        if isinstance(refs, Ref):
            return self._store[refs.key]
        return [self.get(r) for r in refs]

    def map(self, fn: Callable, tasks: Sequence[tuple], num_returns: int = 1) -> list:
        out = []
        for args in tasks:
            blocks = [self.put(b) for b in split_returns(fn(*[self._resolve(a) for a in args]), num_returns)]
            out.append(blocks[0] if num_returns == 1 else blocks)
        return out

    def free(self, refs) -> None:
        for r in _flatten(refs):
            self._store.pop(r.key, None)


def _flatten(refs) -> list:
    if isinstance(refs, (list, tuple)):
        return [x for r in refs for x in _flatten(r)]
    return [refs]
