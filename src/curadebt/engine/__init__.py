"""The one place that knows which engine runs: :func:`get` returns it, and nothing else in curadebt
branches on an engine's name.

An :class:`Engine` opens a :class:`Session` for a run: its workers, started once and kept for
every pass (``run_pass``: one pass of measures over a corpus) and every task (``executor``, for
steps that finalize in parallel; None when one local process runs everything). Engines: ``local``
(embedded; ``workers`` processes) and ``ray`` (a local Ray instance, or a cluster at
``ray_address``). Adding one is a class here and an entry in :data:`ENGINES`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from curadebt.core.config import setting
from curadebt.core.errors import EXIT_USAGE, CuradebtError


class EngineChoiceError(CuradebtError, ValueError):
    exit_code = EXIT_USAGE


@dataclass
class EngineConfig:
    """Where a pass runs. Every engine gives the same bytes."""

    engine: str = setting("local", help="'local' (embedded; --workers processes) or 'ray' (a local Ray instance, "
                                        "or --ray-address). Same output bytes on every engine.")
    workers: int = setting(1, help="Parallel workers: processes for --engine local, actors (and CPUs of a local "
                                   "Ray instance) for --engine ray.")
    ray_address: str | None = setting(None, help="Existing Ray cluster to join ('auto' or ray://host:10001); "
                                                 "without it --engine ray starts a local instance.")
    spill_dir: str | None = setting(None, help="Existing folder for the local engine's temporary blocks (one "
                                               "private sub-folder per run, removed at its end). Default: "
                                               "memory (/dev/shm, up to 2 GiB), then the temporary folder "
                                               "(TMPDIR); CURADEBT_SPILL_DIR sets the same. Ray keeps its "
                                               "blocks in its object store.")


class Session:
    """An engine's workers for one run, kept for all its passes and tasks: ``run_pass`` runs one
    pass of measures over a corpus (:class:`~curadebt.engine.passes.PassInput`) and returns the
    merged states; ``executor`` runs tasks on the workers (None when this process does
    everything); ``store`` is where measures spilled or detached their bulky parts (the executor,
    or this process's spill files; None while nothing was spilled), and so what their finalize
    needs."""

    executor: Any = None
    #: the units of the last pass that counted tokens (:class:`~curadebt.engine.passes.PassUnits`;
    #: None when this process read the corpus)
    units: Any = None

    @property
    def store(self) -> Any:
        return self.executor

    def run_pass(self, corpus, measures: list, advance: Callable[[], None] | None = None) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None


class SingleSession(Session):
    """Everything in this process: the corpus read batch by batch, each measure accumulated; what
    a measure spills goes to files of this process (:class:`~curadebt.engine.local.FileStore`)."""

    def __init__(self, spill_dir: str | None = None):
        self._store = None
        self._spill_dir = spill_dir

    @property
    def store(self) -> Any:
        return self._store

    def _put(self, value):
        if self._store is None:
            from curadebt.engine.local import FileStore

            self._store = FileStore(self._spill_dir)
        return self._store.put(value)

    def run_pass(self, corpus, measures, advance=None) -> dict:
        from curadebt.engine.local import _single

        return _single(corpus.batches(), measures, (lambda _b: advance()) if advance else None, put=self._put)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class WorkersSession(Session):
    """Parallel workers that read their own units (the executor holds them); the driver feeds them
    batches when the corpus is records in memory."""

    def __init__(self, executor):
        self.executor = executor

    def run_pass(self, corpus, measures, advance=None) -> dict:
        from curadebt.corpus.units import open_books, plan_units, source_sizes
        from curadebt.engine.passes import PassSpec, collect_states, feed_batches, run_units

        ex = self.executor
        plan = plan_units(corpus.paths, corpus.reader)
        spec = PassSpec(measures, corpus.tokenizer, corpus.extractor, corpus.reader, [],
                        count_tokens=corpus.count_tokens)
        if corpus.count_tokens:
            self.units = None
        if plan is not None and ex.begin(dataclasses.replace(spec, items=plan.items, sizes=source_sizes(plan))):
            open_books(plan, corpus.stats)
            units = run_units(ex.channel, plan, corpus.stats, corpus.quarantine, advance)
            if corpus.count_tokens:
                self.units = units
        else:  # records in memory, nothing to read, or workers that do not see the files
            batches = corpus.batches()
            first = next(batches, None)
            if first is None:
                return {m.name: m.empty() for m in measures}
            ex.begin(spec)
            feed_batches(ex.channel, itertools.chain([first], batches), (lambda _b: advance()) if advance else None)
        return collect_states(ex.channel, measures, detach=True, on_states=ex.on_states)


@dataclass
class Engine:
    workers: int = 1
    address: str | None = None
    spill_dir: str | None = None
    name = ""

    def check(self) -> None:
        """Fail before any work (a bad worker count, a spill folder that is not there, a missing
        dependency)."""
        if int(self.workers) < 1:
            raise EngineChoiceError(f"workers must be >= 1, got {self.workers}")
        if self.spill_dir is not None:
            from curadebt.engine.spill import check_spill_root

            check_spill_root(self.spill_dir)

    def _session(self, preload: tuple[str, ...]) -> Session:
        raise NotImplementedError

    @contextlib.contextmanager
    def session(self, preload: tuple[str, ...] = ()) -> Iterator[Session]:
        """The run's workers, started once, closed (their spill files removed) at the end.
        ``preload``: modules a worker imports before its first pass (where the engine can share
        them among its workers)."""
        s = self._session(tuple(preload))
        try:
            yield s
        finally:
            s.close()


class LocalEngine(Engine):
    name = "local"

    def _session(self, preload: tuple[str, ...]) -> Session:
        if self.workers <= 1:
            return SingleSession(self.spill_dir)
        from curadebt.engine.local import LocalExecutor

        ex = LocalExecutor(self.workers, preload, spill_dir=self.spill_dir)
        ex.start()  # the workers import while this process plans
        return WorkersSession(ex)


class RayEngine(Engine):
    name = "ray"

    def check(self) -> None:
        super().check()
        from curadebt.engine.ray_engine import require_ray

        require_ray()

    def _session(self, preload: tuple[str, ...]) -> Session:
        from curadebt.engine.ray_engine import RayExecutor

        return WorkersSession(RayExecutor(max(1, self.workers), address=self.address))


ENGINES: dict[str, type[Engine]] = {"local": LocalEngine, "ray": RayEngine}


def get(config: EngineConfig | Any) -> Engine:
    """The engine an :class:`EngineConfig` names (or a config holding one as ``execution``), checked."""
    config = getattr(config, "execution", config)
    name = getattr(config, "engine", "local")
    cls = ENGINES.get(name)
    if cls is None:
        raise EngineChoiceError(f"unknown engine {name!r}: use {' or '.join(repr(n) for n in ENGINES)}")
    eng = cls(workers=int(getattr(config, "workers", 1)), address=getattr(config, "ray_address", None),
              spill_dir=getattr(config, "spill_dir", None) or None)
    eng.check()
    return eng
