"""The Ray engine: the same measures, accumulated by Ray actors, merged on the driver.

The driver streams the corpus with curadebt's own readers (so quarantine, ordinals and
``read = audited + quarantined`` are identical to a local run) and hands batches to a pool of
actors round-robin, with a bounded number in flight. Each actor accumulates its own state; the
states are merged at the end. Because measures merge order-independently, results equal the
single-process run.

    --engine ray                       start a local Ray instance (``--workers`` CPUs)
    --engine ray --ray-address auto    join an existing cluster (or ray://host:10001)

:class:`RayExecutor` runs the tasks of steps that need more than one pass (the near-duplicate
grouping, :mod:`curadebt.measures.lsh`) as Ray tasks; their blocks go worker to worker through the
object store. The MinHash signatures the actors computed are handed over the same way
(:meth:`Measure.detach`), so they never reach the driver.

Why actors and a driver-side reader, not Ray Data: the reader must assign every record its global
ordinal, quarantine bad records with their reason and count ``read = audited + quarantined``
exactly (cp1252 fallbacks, oversize records, missing ids), which Ray Data's readers do not do;
and a measure's state is an arbitrary mergeable Python object, which an actor simply keeps, where
Ray Data would need rows converted to Arrow and back. The grouping is a hash shuffle written
against :mod:`curadebt.engine.api`, so the very same code runs on the local engine.
"""
from __future__ import annotations

from typing import Callable, Iterable

from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch
from curadebt.engine.api import Executor
from curadebt.engine.local import merge_states

RAY_MISSING = ("the Ray engine needs Ray: pip install -e '.[ray]' (from a clone) (or pip install 'ray[data]'), "
               "or use --engine local")


class RayMissingError(CuradebtError, RuntimeError):
    exit_code = EXIT_USAGE


def require_ray():
    """The ``ray`` module, or :class:`RayMissingError` saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise RayMissingError(RAY_MISSING) from e
    return ray


_ray = require_ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None):
    ray = _ray()
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus, **kwargs)
    return ray


class _ActorBlock:
    """A block an actor set aside in :meth:`Measure.detach`; the driver swaps it for an object ref."""

    __slots__ = ("actor", "k")

    def __init__(self, actor: int, k: int):
        self.actor, self.k = actor, k


class _Accumulator:
    def __init__(self, measures, tokenizer, extractor, index: int = 0):
        self.measures = measures
        self.tokenizer = tokenizer
        self.extractor = extractor
        self.index = index
        self.states = {m.name: m.empty() for m in measures}
        self.blocks: list = []

    def _keep(self, value) -> _ActorBlock:
        self.blocks.append(value)
        return _ActorBlock(self.index, len(self.blocks) - 1)

    def block(self, k: int):
        return self.blocks[k]

    def add(self, docs) -> int:
        batch = Batch(docs, self.tokenizer, self.extractor)
        for m in self.measures:
            self.states[m.name] = m.accumulate(self.states[m.name], batch)
        return len(docs)

    def result(self, detach: bool = False) -> bytes:
        """Pickled (states, number of detached blocks). Detached blocks are fetched with
        :meth:`block` by the driver, so their refs are owned by the driver and outlive this actor.
        Pickled, because numpy arrays that come out of Ray's object store are read-only views, and
        a measure may merge in place (as it may on the local engine)."""
        import pickle

        if detach:
            states = {m.name: m.detach(self.states[m.name], self._keep) for m in self.measures}
            return pickle.dumps((states, len(self.blocks)), protocol=5)
        return pickle.dumps((self.states, 0), protocol=5)


def run_measures_ray(batches: Iterable[Batch], measures: list[Measure], on_batch: Callable[[Batch], None] | None = None,
                     workers: int = 2, address: str | None = None,
                     executor: "RayExecutor | None" = None) -> dict[str, object]:
    """One pass of ``measures`` on Ray actors. With ``executor``, measures may leave bulky parts
    of their states in the object store (:meth:`Measure.detach`): each actor returns them by a
    separate call, so the driver owns the refs (the data stays in the object store) and the actors
    can go (they hold a CPU each, which the executor's tasks need)."""
    ray = ensure_ray(address, num_cpus=None if address else max(1, workers))
    Actor = ray.remote(num_cpus=1)(_Accumulator)
    it = iter(batches)
    first = next(it, None)
    if first is None:
        return {m.name: m.empty() for m in measures}
    actors = [Actor.remote(measures, first._tokenizer, first._entity_extractor, i) for i in range(max(1, workers))]
    in_flight: list = []
    max_in_flight = 2 * len(actors)
    batch, i = first, 0
    while batch is not None:
        in_flight.append(actors[i % len(actors)].add.remote(batch.docs))
        i += 1
        if len(in_flight) >= max_in_flight:
            done, in_flight = ray.wait(in_flight, num_returns=1)
            ray.get(done)
        if on_batch is not None:
            on_batch(batch)
        batch = next(it, None)
    ray.get(in_flight)
    import pickle

    results = [pickle.loads(r) for r in ray.get([a.result.remote(executor is not None) for a in actors])]
    if executor is not None:  # detached blocks: object refs owned by the driver, data in the object store
        table = {(i, k): actors[i].block.remote(k) for i, (_, nb) in enumerate(results) for k in range(nb)}
        if table:
            ray.wait(list(table.values()), num_returns=len(table), fetch_local=False)
        executor.add_blocks(table)
    for a in actors:
        ray.kill(a)
    return merge_states(measures, [r[0] for r in results])


# ---------------------------------------------------------------------------------------------
# tasks over blocks (curadebt.engine.api): Ray tasks, blocks in the object store
# ---------------------------------------------------------------------------------------------

def _flatten_refs(args: list, object_ref: type) -> tuple[list[int], list]:
    """Lists of object refs spread into top-level arguments (``shape``: each argument's list length,
    -1 for a plain argument). Ray resolves top-level refs before it schedules a task, so a task
    never waits inside a worker for its inputs; waiting there (``ray.get`` in the task) frees the
    CPU, Ray starts more workers for the queued tasks, and on a small machine the imports of those
    extra workers took 20 s of a 30 s audit."""
    shape, flat = [], []
    for a in args:
        if isinstance(a, list) and a and isinstance(a[0], object_ref):
            shape.append(len(a))
            flat.extend(a)
        else:
            shape.append(-1)
            flat.append(a)
    return shape, flat


def _ray_task(fn, num_returns, shape, *flat):
    from curadebt.engine.api import split_returns

    args, i = [], 0
    for n in shape:  # rebuild the arguments (see _flatten_refs); refs arrive resolved
        if n < 0:
            args.append(flat[i])
            i += 1
        else:
            args.append(list(flat[i:i + n]))
            i += n
    out = split_returns(fn(*args), num_returns)
    return out[0] if num_returns == 1 else tuple(out)


class RayExecutor(Executor):
    """Tasks as Ray tasks (one CPU each); blocks live in the object store. Task results are owned
    by the driver, so they outlive the worker that made them; blocks move worker to worker."""

    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None):
        self.ray = ensure_ray(address, num_cpus=None if address else max(1, workers))
        self.workers = max(1, int(workers))
        self._remote: dict[int, object] = {}
        self._blocks: dict = {}

    def add_blocks(self, table: dict) -> None:
        """Object refs for the blocks the scan actors detached ({(actor, k): ref})."""
        self._blocks.update(table)

    def _sub(self, arg):
        if isinstance(arg, _ActorBlock):
            return self._blocks[(arg.actor, arg.k)]
        if isinstance(arg, list) and arg and isinstance(arg[0], _ActorBlock):
            return [self._sub(a) for a in arg]
        return arg

    def close(self) -> None:
        self._blocks = {}

    def put(self, value):
        return self.ray.put(value)

    def get(self, refs):
        if isinstance(refs, list):
            return self.ray.get([self._sub(r) for r in refs])
        return self.ray.get(self._sub(refs))

    def map(self, fn, tasks, num_returns: int = 1) -> list:
        remote = self._remote.get(num_returns)
        if remote is None:
            remote = self._remote[num_returns] = self.ray.remote(num_cpus=1, num_returns=num_returns)(_ray_task)
        calls = [_flatten_refs([self._sub(a) for a in args], self.ray.ObjectRef) for args in tasks]
        return [remote.remote(fn, num_returns, shape, *flat) for shape, flat in calls]

    def free(self, refs) -> None:
        # Blocks are reference-counted: they go when the step drops its refs.
        pass
