"""Progress display for passes over a corpus (rich), silent when disabled or not a terminal."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn, TransferSpeedColumn)

console = Console(stderr=True)


def corpus_size_bytes(paths) -> int | None:
    """Total on-disk size when every input is an uncompressed file or folder (so bytes read track
    progress), else None (compressed files, data in memory, an input that is not there)."""
    from curadebt.corpus.sources import MemorySource, expand_inputs

    total = 0
    try:
        inputs = expand_inputs(paths)
    except Exception:  # the reader reports bad inputs properly
        return None
    for p in inputs:
        if isinstance(p, MemorySource):
            return None
        p = Path(p)
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            if f.name.endswith((".gz", ".zst", ".parquet", ".arrow")):
                return None
            total += f.stat().st_size
    return total


@contextmanager
def byte_progress(description: str, total: int | None, enabled: bool = True):
    """Yields ``advance_to(bytes_done, docs_done)``."""
    if not enabled or os.environ.get("CURADEBT_NO_PROGRESS"):
        yield lambda done, docs=0: None
        return
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TextColumn("{task.fields[docs]:,} docs"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total, docs=0)
        yield lambda done, docs=0: progress.update(task, completed=done, docs=docs)
        progress.update(task, completed=total if total else None)


@contextmanager
def count_progress(description: str, total: int | None, enabled: bool = True):
    """Yields ``advance(n)`` for work counted in items."""
    if not enabled or os.environ.get("CURADEBT_NO_PROGRESS"):
        yield lambda n=1: None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)
