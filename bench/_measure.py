"""Shared measurement for the bench scripts: each system runs in its own subprocess (clean peak
memory), and inside it :class:`Meter` records wall time, CPU time and peak resident memory of the
process and of every process it starts (engine workers, process pools, Rust thread pools).

* wall seconds: ``time.perf_counter`` around the measured section;
* CPU seconds: user + system time of this process (all threads, less the sampling thread's own)
  plus that of its descendants:
  ``getrusage(RUSAGE_CHILDREN)`` for children it waited for, or the sum of the last CPU times
  sampled from each live descendant (its own time: grandchildren of a fork server are never waited
  for by this process, and each is sampled), whichever is larger; a descendant that lived less than
  one sampling interval may be missed;
* peak MB: the largest sampled sum of resident memory over this process and its descendants, minus
  what this process held when the section started (the corpus it loaded); never less than this
  process's own ``ru_maxrss`` peak minus that baseline.

CPU time is the fairer comparison while other jobs share the cores (wall time then includes time
spent waiting for a core); both are reported.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with ray; without it only this process is seen
    psutil = None


def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


class Meter:
    """``with Meter() as m: ...`` then ``m.result()`` -> {seconds, cpu_seconds, peak_mb}."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self._stop = threading.Event()
        self._sampler_cpu = 0.0
        self._peak = 0
        self._desc_cpu: dict[int, float] = {}
        self._proc = psutil.Process() if psutil else None

    def _rss(self) -> int:
        if self._proc is None:
            return 0
        total = self._proc.memory_info().rss
        for c in self._proc.children(recursive=True):
            try:
                total += c.memory_info().rss
                t = c.cpu_times()
                # its own time only: every descendant is sampled itself (a fork server's workers are
                # its children, and would be counted twice through its children_* times)
                self._desc_cpu[c.pid] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return total

    def _poll(self) -> None:
        t0 = time.thread_time()
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, self._rss())
        self._sampler_cpu = time.thread_time() - t0  # this thread's own CPU, taken out of the total

    def __enter__(self) -> "Meter":
        self.base_rss = self._rss()
        self._peak = self.base_rss
        self.base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.cpu0 = _cpu(resource.RUSAGE_SELF)
        self.child0 = _cpu(resource.RUSAGE_CHILDREN)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._rss())
        own = _cpu(resource.RUSAGE_SELF) - self.cpu0
        waited = _cpu(resource.RUSAGE_CHILDREN) - self.child0
        self.cpu_seconds = own - self._sampler_cpu + max(waited, sum(self._desc_cpu.values()))
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - self.base_rss
        self.peak_mb = max(self._peak - self.base_rss, own_peak, 0) / 2**20

    def result(self) -> dict:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "peak_mb": self.peak_mb}


def run_worker(cmd: list[str], env: dict | None = None) -> tuple[dict | None, str]:
    """Run one system's subprocess; its last stdout line is a JSON object. Returns (result, error)."""
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})})
    if out.returncode != 0:
        return None, out.stderr[-3000:]
    try:
        return json.loads(out.stdout.strip().splitlines()[-1]), ""
    except (json.JSONDecodeError, IndexError):
        return None, (out.stdout[-1500:] + out.stderr[-1500:])


def print_table(header: list[str], rows: list[list[str]], title: str | None = None) -> str:
    """Print (and return) a Markdown table, so the output can be pasted into the README as is."""
    lines = []
    if title:
        lines.append(title)
        lines.append("")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    lines.append("|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|")
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |")
    text = "\n".join(lines)
    print(text, flush=True)
    return text
