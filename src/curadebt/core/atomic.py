"""Atomic, deterministic writers for report files (report.json, report.html, anything else).

A reader never sees a half-written file: the bytes go to a temporary file in the destination's own
folder (same file system, so the final ``os.replace`` is atomic), are fsynced, then renamed over
the destination. The same input always gives the same bytes.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

__all__ = ["dumps_json", "open_atomic", "write_bytes_atomic", "write_json_atomic", "write_text_atomic"]


def _strict(obj: Any) -> Any:
    """Plain JSON types only: NaN/inf -> None, tuples -> lists, numpy scalars/arrays -> Python.

    Dict order is kept (sections stay in the order the producer built them); keys become strings.
    """
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, str) else k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy array or scalar
        return _strict(obj.tolist())
    if hasattr(obj, "item") and callable(obj.item):
        return _strict(obj.item())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps_json(obj: Any) -> str:
    """The exact text :func:`write_json_atomic` writes: strict JSON (no NaN/Infinity), indent 2,
    UTF-8 characters kept (``ensure_ascii=False``), insertion order kept, trailing newline."""
    return json.dumps(_strict(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, os.replace).

    Parent folders are created. The file gets the usual permissions (0666 minus the umask), not the
    0600 of a temp file. Returns the path.
    """
    with open_atomic(path) as f:
        f.write(data)
    return Path(path)


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` when the block ends without an error (temp file in the
    same folder, fsync, os.replace; parent folders created, usual permissions), for writers that
    stream a file too large to hold as one ``bytes``. On an error nothing changes at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8", errors: str = "strict") -> Path:
    """Write ``text`` atomically; no newline translation (the bytes are exactly ``text`` encoded)."""
    return write_bytes_atomic(path, text.encode(encoding, errors))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as strict, deterministic JSON (see :func:`dumps_json`), atomically.

    Lone surrogates in strings (e.g. from undecodable input kept with ``surrogateescape``) are
    written as JSON ``\\udcXX`` escapes instead of failing the whole report.
    """
    return write_bytes_atomic(path, dumps_json(obj).encode("utf-8", "backslashreplace"))
