"""The Ray engine: the same passes and tasks as the local engine, on Ray actors.

A run starts ``--workers`` actors (one CPU each) and keeps them for all its passes and tasks. In a
pass each actor reads its own units of the corpus (:mod:`curadebt.engine.passes`; the driver only
plans and schedules them, so quarantine, ordinals and ``read = audited + quarantined`` equal a
sequential read) and accumulates its own states, merged on the driver at the end. Because
measures merge order-independently, results equal the single-process run. Actors read the corpus
from its path, so on a cluster the corpus must be on a file system every node sees; where an actor
cannot see a file (another size, or none), the driver reads the corpus and feeds them batches.

    --engine ray                       start a local Ray instance (``--workers`` CPUs)
    --engine ray --ray-address auto    join an existing cluster (or ray://host:10001)

:class:`RayExecutor` runs the tasks of steps that need more than one pass (the near-duplicate
grouping, :mod:`curadebt.measures.lsh`; the n-gram merges) on the same actors; their blocks go
worker to worker through the object store. The MinHash signatures the actors computed are handed
over the same way (:meth:`Measure.detach`), so they never reach the driver.

Why actors and curadebt's readers, not Ray Data: the reader must assign every record its global
ordinal, quarantine bad records with their reason and count ``read = audited + quarantined``
exactly (cp1252 fallbacks, oversize records, missing ids), which Ray Data's readers do not do;
and a measure's state is an arbitrary mergeable Python object, which an actor simply keeps, where
Ray Data would need rows converted to Arrow and back.
"""
from __future__ import annotations

from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.engine.api import Executor

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
    """A block an actor set aside in :meth:`Measure.detach`: the driver swaps it for its object ref."""

    __slots__ = ("actor", "k")

    def __init__(self, actor: int, k: int):
        self.actor, self.k = actor, k


class _Worker:
    """A Ray actor: a :class:`~curadebt.engine.passes.PassWorker` for the passes, and tasks. What the
    measures spill or detach goes to the object store from here (owned by this actor, which lives
    as long as the run's session); the refs of a pass come back with its states."""

    def __init__(self, index: int):
        from curadebt.engine.passes import PassWorker

        self.index = index
        self.refs: list = []
        self.worker = PassWorker(self._put)

    def _put(self, value) -> _ActorBlock:
        import ray

        self.refs.append(ray.put(value))
        return _ActorBlock(self.index, len(self.refs) - 1)

    def call(self, method: str, *args):
        """A PassWorker method. The states of ``end`` come back pickled (numpy arrays out of Ray's
        object store are read-only views, and a measure may merge in place), the refs beside them."""
        import pickle

        if method == "begin":
            self.refs = []
        if method == "end":
            reply = self.worker.end(args[0])
            if reply[0] == "states":
                return ("states", pickle.dumps(reply[1], protocol=5), self.refs)
            return reply
        return getattr(self.worker, method)(*args)

    def task(self, fn, num_returns: int, shape: list, *flat):
        return _ray_task(fn, num_returns, shape, *flat)


class RayWorkers:
    """The :class:`~curadebt.engine.passes.Workers` channel over ``n`` actors (one CPU each)."""

    def __init__(self, ray, n: int):
        self.ray, self.n = ray, n
        Actor = ray.remote(num_cpus=1)(_Worker)
        self.actors = [Actor.remote(i) for i in range(n)]
        self.pending: dict = {}          # object ref -> worker

    def call(self, w: int, method: str, *args) -> None:
        self.pending[self.actors[w].call.remote(method, *args)] = w

    def reply(self) -> tuple[int, tuple]:
        import pickle

        done, _ = self.ray.wait(list(self.pending), num_returns=1)
        w = self.pending.pop(done[0])
        reply = self.ray.get(done[0])
        if reply[0] == "states":
            reply = ("states", pickle.loads(reply[1]), reply[2])
        return w, reply

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)


# ---------------------------------------------------------------------------------------------
# tasks over blocks (curadebt.engine.api): on the actors, blocks in the object store
# ---------------------------------------------------------------------------------------------

def _flatten_refs(args: list, object_ref: type) -> tuple[list[int], list]:
    """Lists of object refs spread into top-level arguments (``shape``: each argument's list length,
    -1 for a plain argument). Ray resolves top-level refs before it runs a call, so a task never
    waits inside a worker for its inputs."""
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
    """A run's actors (one CPU each, started at once and kept for every pass and task: a Ray worker
    process costs seconds to start). Passes go through :attr:`channel`; tasks run on the actor with
    the fewest calls in flight, their blocks in the object store, owned by the driver (so they
    outlive the call that made them) and moved worker to worker."""

    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None):
        import threading

        self.ray = ensure_ray(address, num_cpus=None if address else max(1, workers))
        self.workers = max(1, int(workers))
        self.channel = RayWorkers(self.ray, self.workers)
        self._blocks: dict = {}
        self._in_flight: list[list] = [[] for _ in range(self.workers)]
        self._lock = threading.Lock()

    def begin(self, spec) -> bool:
        from curadebt.engine.passes import begin_pass

        return begin_pass(self.channel, spec)

    def on_states(self, w: int, reply: tuple) -> None:
        """An actor's states came back, with the refs of the blocks it detached."""
        for k, ref in enumerate(reply[2]):
            self._blocks[(w, k)] = ref

    def _sub(self, arg):
        if isinstance(arg, _ActorBlock):
            return self._blocks[(arg.actor, arg.k)]
        if isinstance(arg, list) and arg and isinstance(arg[0], _ActorBlock):
            return [self._sub(a) for a in arg]
        return arg

    def close(self) -> None:
        self._blocks = {}
        self.channel.close()

    def put(self, value):
        return self.ray.put(value)

    def get(self, refs):
        if isinstance(refs, list):
            return self.ray.get([self._sub(r) for r in refs])
        return self.ray.get(self._sub(refs))

    def _actor(self) -> int:
        """The actor with the fewest calls in flight (the lowest index on a tie)."""
        with self._lock:
            for refs in self._in_flight:
                if refs:
                    ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
                    done = set(ready)
                    refs[:] = [r for r in refs if r not in done]
            return min(range(self.workers), key=lambda i: (len(self._in_flight[i]), i))

    def map(self, fn, tasks, num_returns: int = 1) -> list:
        out = []
        for args in tasks:
            shape, flat = _flatten_refs([self._sub(a) for a in args], self.ray.ObjectRef)
            w = self._actor()
            call = self.channel.actors[w].task.options(num_returns=num_returns)
            refs = call.remote(fn, num_returns, shape, *flat)
            with self._lock:
                self._in_flight[w].append(refs if num_returns == 1 else refs[0])
            out.append(refs)
        return out

    def free(self, refs) -> None:
        # Blocks are reference-counted: they go when the step drops its refs.
        pass
