"""What the Python API accepts as a corpus, turned into what the readers read.

- a path (``str`` / ``os.PathLike``, a file, a folder or a quoted glob) or a list of them;
- records in memory: a list of dicts (or of strings, taken as the text), a pyarrow ``Table``, a
  pandas ``DataFrame``, a ``datasets.Dataset`` / ``IterableDataset`` (each re-read as often as a run
  needs), a ``datasets.DatasetDict`` (every split, named in each record's meta as ``split``);
- any other iterable of dicts or strings, such as a generator: read once and spooled to a JSONL file
  in a private temporary folder (a run reads its corpus more than once), removed when the call ends;
- a URL of any fsspec file system installed (``memory://``, ``s3://``, ``gcs://``...; globs too):
  copied to a private temporary folder for the run (a run reads its corpus more than once, and the
  readers check every file to its end), removed when the call ends. ``file://`` is read in place.

Records in memory are named ``<kind>:<n>`` (``records:17``, ``dataset/train:3``) where they have no id.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from curadebt.corpus.sources import MemorySource


def _table_rows(table) -> Iterator[dict]:
    for batch in table.to_batches(max_chunksize=1024):
        yield from batch.to_pylist()


def _spooled(items: Iterable[Any], folder: Path) -> MemorySource:
    path = folder / "records.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for x in items:
            fh.write(json.dumps(x, ensure_ascii=False, default=str) + "\n")

    def read() -> Iterator[Any]:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    return MemorySource("records", read)


def _memory(x: Any, folder_of) -> list | None:
    """The memory sources for ``x``, or None when ``x`` is a path or a list of paths."""
    mod = type(x).__module__.split(".")[0]
    name = type(x).__name__
    if mod == "datasets" and name == "DatasetDict":
        return [MemorySource(f"dataset/{split}", lambda ds=ds: iter(ds), meta={"split": split}) for split, ds in x.items()]
    if mod == "datasets" and name in ("Dataset", "IterableDataset"):
        return [MemorySource("dataset", lambda: iter(x))]
    if mod == "pyarrow" and name == "Table":
        return [MemorySource("table", lambda: _table_rows(x))]
    if mod == "pandas" and name == "DataFrame":
        import pyarrow as pa

        table = pa.Table.from_pandas(x, preserve_index=False)
        return [MemorySource("dataframe", lambda: _table_rows(table))]
    if isinstance(x, (str, os.PathLike, MemorySource)):
        return None
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(i, (os.PathLike, MemorySource)) or isinstance(i, str) and _looks_like_path(i)
                     for i in x):
            return None
        if all(isinstance(i, (dict, str)) for i in x):
            return [MemorySource("records", lambda: iter(x))]
        raise TypeError("a list must hold paths, or records (dicts or strings), not a mix")
    if isinstance(x, dict):
        raise TypeError("a corpus is records, not one record: pass [record]")
    if isinstance(x, Iterable):
        return [_spooled(x, folder_of())]
    raise TypeError(f"cannot read a corpus from {type(x).__name__}: give a path, a list of paths, records (dicts or "
                    "strings), a pyarrow Table, a pandas DataFrame or a datasets Dataset / DatasetDict")


def _looks_like_path(s: str) -> bool:
    """A string in a list is a path when something is there, or a glob that matches; else a text."""
    if "\n" in s or len(s) > 4096:
        return False
    if os.path.lexists(s):
        return True
    import glob

    return any(c in s for c in "*?[") and bool(glob.glob(s, recursive=True))


def is_remote(p: Any) -> bool:
    return isinstance(p, str) and "://" in p and not p.startswith("file://")


def _local(p: Any, folder_of) -> Any:
    """A remote URL copied into the run's temporary folder (its last path part kept as the name)."""
    if not is_remote(p):
        return p
    try:
        import fsspec
    except ImportError as e:
        from curadebt.corpus.records import CorpusError

        raise CorpusError(f"{p}: remote paths need fsspec (pip install fsspec, plus the file system's own package)") from e
    from curadebt.corpus.records import CorpusError

    try:
        fs, _, found = fsspec.get_fs_token_paths(p)
    except (ValueError, ImportError) as e:
        raise CorpusError(f"{p}: no file system for this URL ({e}); install its fsspec package") from e
    found = [f for f in found if fs.exists(f)]
    if not found:
        raise CorpusError(f"{p}: nothing there")
    dest = folder_of() / f"remote-{len(list(folder_of().iterdir()))}"
    dest.mkdir()
    name = p.rstrip("/").rsplit("/", 1)[-1]
    if len(found) == 1 and not fs.isdir(found[0]):
        target = dest / (name if not any(c in name for c in "*?[") else found[0].rsplit("/", 1)[-1])
        fs.get(found[0], str(target))
        return target
    root = dest / (name if not any(c in name for c in "*?[") else "matches")
    root.mkdir()
    for f in found:
        if fs.isdir(f):
            fs.get(f, str(root / f.rstrip("/").rsplit("/", 1)[-1]), recursive=True)
        else:
            fs.get(f, str(root / f.rsplit("/", 1)[-1]))
    return root


@contextlib.contextmanager
def _run_folder() -> Iterator:
    """A private temporary folder for one call, made on first use and removed at the end."""
    tmp: list[tempfile.TemporaryDirectory] = []

    def folder() -> Path:
        if not tmp:
            tmp.append(tempfile.TemporaryDirectory(prefix="curadebt-records-"))
        return Path(tmp[0].name)

    try:
        yield folder
    finally:
        for t in tmp:
            t.cleanup()


@contextlib.contextmanager
def corpus_inputs(corpus: Any) -> Iterator[list]:
    """The readers' inputs for ``corpus`` (see the module docstring), valid inside the block."""
    with _run_folder() as folder:
        mem = _memory(corpus, folder)
        if mem is not None:
            yield mem
        else:
            paths = list(corpus) if isinstance(corpus, (list, tuple)) else [corpus]
            yield [_local(p, folder) for p in paths]


@contextlib.contextmanager
def path_inputs(paths: list[str]) -> Iterator[list]:
    """The CLI's inputs: paths, globs and URLs only (never texts), remote ones copied for the run."""
    with _run_folder() as folder:
        yield [_local(p, folder) for p in paths]
