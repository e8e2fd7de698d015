"""The shape every lab experiment has: a config, ``run(config, out, log) -> result``, and the
result's rendering (a markdown summary, a plot, an offline HTML page), written the same way for all.

An experiment module ends with its :class:`Experiment`::

    EXPERIMENT = Experiment(name="inertia", title="Inertia: ...", config=InertiaConfig, run=run_inertia,
                            markdown=SR.inertia_markdown, plot=SR.inertia_plot)

and ``curadebt lab NAME`` builds the config, calls :meth:`Experiment.run` and writes with
:meth:`Experiment.write`: ``NAME.json`` (the result without its timings: the same seed gives the
same bytes), ``timing.json``, ``NAME.md``, ``NAME.png`` and ``NAME.html``. An experiment with more
files (the overwrite experiment's CSVs and SVG) gives its own ``write``.
"""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from curadebt.lab.io import atomic_write, write_json


@dataclass(frozen=True)
class Experiment:
    name: str                                            # file stem of its outputs
    title: str                                           # its page's title
    config: type                                         # the config dataclass run() takes
    run: Callable[..., Any]                              # (config, out, log) -> result
    markdown: Callable[[Any], str]                       # result -> summary table(s)
    plot: Callable[[Any, Path], Any] | None = None       # (result, png path) -> None
    writer: Callable[..., dict[str, Path]] | None = None  # (result, out, **options): own files instead

    def __call__(self, config: Any, out: Path, log: Callable[[str], None] | None = None) -> Any:
        """Run it, recording wall seconds and the process's CPU seconds in the result's ``timing``."""
        t0 = time.perf_counter()
        result = self.run(config, out, log if log is not None else silent)
        timing = result.setdefault("timing", {}) if isinstance(result, dict) else result.timing
        timing.setdefault("wall_seconds", time.perf_counter() - t0)
        timing["cpu_seconds"] = cpu_seconds()
        return result

    def write(self, result: Any, out: Path, **options: Any) -> dict[str, Path]:
        """Every output file of ``result`` in ``out``, each written atomically (``options`` go to an
        experiment's own writer)."""
        if self.writer is not None:
            return self.writer(result, out, **options)
        from curadebt.lab.scratch_report import html_page

        res = dict(result)
        timing = res.pop("timing", {})
        paths = {"json": write_json(out / f"{self.name}.json", res), "timing": write_json(out / "timing.json", timing)}
        md = self.markdown(result)
        paths["markdown"] = atomic_write(out / f"{self.name}.md", md)
        png = None
        if self.plot is not None:
            png = out / f"{self.name}.png"
            self.plot(result, png)
            paths["png"] = png
        paths["html"] = atomic_write(out / f"{self.name}.html", html_page(self.title, md, png))
        return paths


def silent(message: str) -> None:
    """The log of a quiet run (an experiment may skip its progress bars when it gets this one)."""


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished worker processes so far (user + system): the
    cost on quiet cores, whatever the load."""
    return sum(ru.ru_utime + ru.ru_stime for ru in (resource.getrusage(resource.RUSAGE_SELF),
                                                     resource.getrusage(resource.RUSAGE_CHILDREN)))
