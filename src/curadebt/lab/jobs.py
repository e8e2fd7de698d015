"""Independent jobs of a lab experiment (seed x arm, seed x schedule, ...), resumable and parallel.

:func:`run_jobs` runs ``fn(job, *args)`` for every job, writes each result to
``out/partial/NAME.json`` as it finishes (with the settings' ``key``), and on a rerun with the same
key reuses what is there: a killed run loses at most the jobs in flight. ``workers`` > 1 runs jobs
in that many spawned processes (one torch thread each); results come back keyed by job, so the
caller assembles them in its own order and the output is the same bytes either way.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable, Hashable, Sequence

from curadebt.lab.io import write_json


def settings_key(config: dict[str, Any], ignore: Sequence[str] = ()) -> str:
    """A short hash of the settings a job's result depends on (``ignore``: those it does not)."""
    d = {k: v for k, v in config.items() if k not in ignore}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _timed(fn: Callable[..., dict[str, Any]], job: Any, args: tuple, threads: int | None) -> tuple[dict[str, Any], float]:
    if threads:
        from curadebt.lab.scratch import set_threads

        set_threads(threads)
    t0 = time.perf_counter()
    return fn(job, *args), time.perf_counter() - t0


def _load(path: Path, key: str) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("result") if data.get("key") == key else None


def run_jobs(jobs: Sequence[Hashable], fn: Callable[..., dict[str, Any]], args: tuple, *, out: Path, key: str,
             name: Callable[[Any], str], workers: int = 1, log: Callable[[str], None] = lambda m: None,
             describe: Callable[[dict[str, Any]], str] = lambda r: "") -> tuple[dict[Any, dict[str, Any]], dict[str, float]]:
    """Results of ``fn(job, *args)`` by job, and the seconds of the jobs run now (not reused).
    ``fn`` must be a module-level function (it is pickled into the worker processes)."""
    partial = Path(out) / "partial"
    results: dict[Any, dict[str, Any]] = {}
    for job in jobs:
        got = _load(partial / f"{name(job)}.json", key)
        if got is not None:
            results[job] = got
    if results:
        log(f"reusing {len(results)} finished job(s) from {partial}")
    pending = [j for j in jobs if j not in results]
    seconds: dict[str, float] = {}

    def done(job: Any, result: dict[str, Any], secs: float) -> None:
        results[job] = result
        seconds[name(job)] = secs
        write_json(partial / f"{name(job)}.json", {"key": key, "result": result})
        log(f"[{len(results)}/{len(jobs)}] {name(job)}: {describe(result)} ({secs:.0f} s)")

    if workers > 1 and len(pending) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        import os

        from curadebt.engine.local import die_with_parent

        # workers die with this process, even when it is killed: a stopped run leaves no job computing
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            futs = {pool.submit(_timed, fn, job, args, 1): job for job in pending}
            for f in as_completed(futs):
                done(futs[f], *f.result())
    else:
        for job in pending:
            done(job, *_timed(fn, job, args, None))
    return results, seconds
