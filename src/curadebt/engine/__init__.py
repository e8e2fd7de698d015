"""The one place that knows which engine runs: :func:`get` returns it, and nothing else in curadebt
branches on an engine's name.

An :class:`Engine` runs one pass of measures over batches (``run_pass``) and opens a task
executor for steps that finalize in parallel (``executor``; None when one local process runs
everything). Engines: ``local`` (embedded; ``workers`` processes) and ``ray`` (a local Ray instance,
or a cluster at ``ray_address``). Adding one is a class here and an entry in :data:`ENGINES`.
"""
from __future__ import annotations

import contextlib
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


@dataclass
class Engine:
    workers: int = 1
    address: str | None = None
    name = ""

    def check(self) -> None:
        """Fail before any work (a bad worker count, a missing dependency)."""
        if int(self.workers) < 1:
            raise EngineChoiceError(f"workers must be >= 1, got {self.workers}")

    def run_pass(self, batches, measures: list, on_batch: Callable | None = None, executor: Any = None) -> dict:
        raise NotImplementedError

    def _executor(self):
        return None

    @contextlib.contextmanager
    def executor(self) -> Iterator[Any]:
        ex = self._executor()
        try:
            yield ex
        finally:
            if ex is not None:
                ex.close()


class LocalEngine(Engine):
    name = "local"

    def run_pass(self, batches, measures, on_batch=None, executor=None) -> dict:
        from curadebt.engine.local import run_measures

        return run_measures(batches, measures, on_batch, workers=self.workers, executor=executor)

    def _executor(self):
        if self.workers <= 1:
            return None
        from curadebt.engine.local import LocalExecutor

        return LocalExecutor(self.workers)


class RayEngine(Engine):
    name = "ray"

    def check(self) -> None:
        super().check()
        from curadebt.engine.ray_engine import require_ray

        require_ray()

    def run_pass(self, batches, measures, on_batch=None, executor=None) -> dict:
        from curadebt.engine.ray_engine import run_measures_ray

        return run_measures_ray(batches, measures, on_batch, workers=max(1, self.workers), address=self.address,
                                executor=executor)

    def _executor(self):
        from curadebt.engine.ray_engine import RayExecutor

        return RayExecutor(max(1, self.workers), address=self.address)


ENGINES: dict[str, type[Engine]] = {"local": LocalEngine, "ray": RayEngine}


def get(config: EngineConfig | Any) -> Engine:
    """The engine an :class:`EngineConfig` names (or a config holding one as ``execution``), checked."""
    config = getattr(config, "execution", config)
    name = getattr(config, "engine", "local")
    cls = ENGINES.get(name)
    if cls is None:
        raise EngineChoiceError(f"unknown engine {name!r}: use {' or '.join(repr(n) for n in ENGINES)}")
    eng = cls(workers=int(getattr(config, "workers", 1)), address=getattr(config, "ray_address", None))
    eng.check()
    return eng
