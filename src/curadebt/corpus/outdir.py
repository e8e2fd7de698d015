"""Output folders that change all at once, hold only what curadebt wrote, and never touch the input.

Every command that writes a folder (``audit --out``, ``curate --out``, ``index build --out``) goes
through :func:`staged_output`:

1. **Refuse what is not ours.** ``--out`` equal to, inside, or containing any input is refused
   before anything is read. A ``--out`` that is a file is refused. A non-empty folder without a
   curadebt ``manifest.json`` (a folder curadebt did not write), or one holding another kind of
   curadebt output, is refused unless ``force``; even then no file curadebt did not write is ever
   deleted or overwritten.
2. **Lock.** ``.NAME.curadebt-lock`` beside the folder is held (``flock``) for the whole run: a
   second run on the same ``--out`` stops at once with the first one's pid. The kernel drops the
   lock when the process dies, so a killed run never blocks the next one.
3. **Stage.** The run writes into ``.NAME.curadebt-staging-PID`` beside the folder (same file
   system). What a killed run left there is removed by the next run on that folder.
4. **Commit.** ``manifest.json`` (every file with its size and XXH3-128 checksum) is written last,
   then the staged folder replaces the old one in one step: a plain rename when ``--out`` is new or
   empty, else an atomic exchange of the two folders (Linux ``renameat2(RENAME_EXCHANGE)``; where
   the file system lacks it, two renames, and a run killed between them is rolled back by the next
   one). A reader of ``--out`` sees the previous complete set or the new one, never a mix. Only when
   the folder holds files curadebt did not write (kept under ``force``) is the switch made file by
   file, since they must stay where they are: the old manifest goes first and the new one comes
   last, so a half-switched folder never has a manifest.

:func:`verify_output` checks a folder against its manifest (sizes, and checksums on request).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import xxhash
from curadebt.core.errors import EXIT_OUTPUT, CuradebtError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "curadebt-output"
MANIFEST_VERSION = 1
_CHUNK = 1 << 22


class OutputError(CuradebtError):
    """An output folder that cannot be used as asked; the message says what to do instead."""

    exit_code = EXIT_OUTPUT
    label = "output"


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(p))))


def check_disjoint(inputs: Iterable, out: str | os.PathLike) -> None:
    """Refuse an ``out`` that is, contains or lies inside any input path (symlinks resolved).
    Inputs that are not paths (in-memory data) are ignored."""
    o = _real(out)
    for p in inputs:
        if not isinstance(p, (str, os.PathLike)):
            continue
        i = _real(p)
        if o == i:
            how = "is the input"
        elif i in o.parents:
            how = "lies inside the input"
        elif o in i.parents:
            how = "contains the input"
        else:
            continue
        raise OutputError(f"--out {out} {how} {p}: curadebt never writes where it reads; "
                          "choose an output folder outside every input")


# ---------------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------------

def file_checksum(path: str | os.PathLike) -> str:
    """XXH3-128 of a file's bytes, as hex (fast; for integrity, not security)."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones and links included), as sorted POSIX paths."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            out.append(Path(os.path.relpath(os.path.join(root, name), folder)).as_posix())
    return sorted(out)


def build_manifest(folder: Path, kind: str) -> dict:
    files = [f for f in _files(folder) if f != MANIFEST]
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "kind": kind,
            "files": [{"path": f, "bytes": (folder / f).stat().st_size, "xxh3_128": file_checksum(folder / f)}
                      for f in files]}


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The folder's curadebt manifest, or None when it has none (or an unreadable one)."""
    p = Path(folder) / MANIFEST
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), list):
        return None
    return data


def verify_output(folder: str | os.PathLike, checksums: bool = False) -> list[str]:
    """Problems of a curadebt output folder against its manifest (empty list: it matches).
    Sizes are always checked; file contents too with ``checksums``."""
    folder = Path(folder)
    man = read_manifest(folder)
    if man is None:
        return [f"{folder}: no curadebt {MANIFEST} (not a finished curadebt output)"]
    problems = []
    for f in man["files"]:
        p = folder / f["path"]
        if not p.is_file():
            problems.append(f"{f['path']}: missing")
            continue
        size = p.stat().st_size
        if size != f["bytes"]:
            problems.append(f"{f['path']}: {size} bytes, the manifest says {f['bytes']}")
        elif checksums and file_checksum(p) != f["xxh3_128"]:
            problems.append(f"{f['path']}: contents differ from the manifest's checksum")
    return problems


# ---------------------------------------------------------------------------------------------
# the transaction
# ---------------------------------------------------------------------------------------------

@dataclass
class _Existing:
    exists: bool
    manifest: dict | None = None
    owned: set[str] = field(default_factory=set)     # files the manifest lists (and the manifest)
    foreign: list[str] = field(default_factory=list)  # every other file

    @property
    def empty(self) -> bool:
        return self.exists and not self.owned and not self.foreign


def _inspect(out: Path) -> _Existing:
    if not out.exists():
        return _Existing(False)
    man = read_manifest(out)
    owned = ({f["path"] for f in man["files"]} | {MANIFEST}) if man else set()
    files = _files(out)
    return _Existing(True, man, owned & set(files), [f for f in files if f not in owned])


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(e, os.strerror(e), str(b))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Lock:
    """An exclusive ``flock`` on a lock file (released by the kernel if the process dies)."""

    def __init__(self, path: Path, what: str):
        import fcntl

        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    pid = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                finally:
                    os.close(fd)
                raise OutputError(f"another curadebt run (pid {pid}) is writing {what}; wait for it to finish "
                                  "or choose another --out") from None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file that its last holder unlinked meanwhile
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd, self.path = fd, path

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)


class StagedOutput:
    """The folder a run writes into (:attr:`dir`), committed to ``out`` by :func:`staged_output`."""

    def __init__(self, out: Path, real: Path, kind: str, existing: _Existing, lock: _Lock):
        self.out, self.real, self.kind = out, real, kind
        self.existing = existing
        self.lock = lock
        self.dir = real.parent / f".{real.name}.curadebt-staging-{os.getpid()}"
        self.dir.mkdir()

    @property
    def kept_foreign(self) -> list[str]:
        """Files in ``out`` curadebt did not write (kept in place; only possible with force)."""
        return list(self.existing.foreign)

    def commit(self, checkpoint: Callable[[str], None] | None = None) -> None:
        from curadebt.core.atomic import write_json_atomic

        write_json_atomic(self.dir / MANIFEST, build_manifest(self.dir, self.kind))
        if checkpoint is not None:
            checkpoint("committing")
        now = _inspect(self.real)  # the folder may have changed since the run started
        cwd_inside = Path.cwd() == self.real or self.real in Path.cwd().parents
        if not now.exists or now.empty:
            os.replace(self.dir, self.real)  # a rename onto an empty folder replaces it
        elif now.foreign or cwd_inside:
            self._merge(now)
        elif _exchange(self.dir, self.real):
            shutil.rmtree(self.dir)  # now the previous set
        else:
            old = self.real.parent / f".{self.real.name}.curadebt-old-{os.getpid()}"
            os.replace(self.real, old)
            os.replace(self.dir, self.real)  # killed before this: the next run renames old back
            shutil.rmtree(old)
        _fsync_dir(self.real.parent)
        if checkpoint is not None:
            checkpoint("committed")

    def _merge(self, now: _Existing) -> None:
        """File by file, leaving foreign files where they are: old manifest first, new one last."""
        new = [f for f in _files(self.dir) if f != MANIFEST]
        clash = sorted(set(new) & set(now.foreign))
        if clash:
            raise OutputError(f"{self.out}/{clash[0]} exists and was not written by curadebt; move it away or "
                              "choose another --out (curadebt never overwrites files it did not write)")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.real / MANIFEST)
        for f in sorted(now.owned - set(new) - {MANIFEST}):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.real / f)
        last = [f for f in ("report.json",) if f in new]
        for f in [f for f in new if f not in last] + last + [MANIFEST]:
            dst = self.real / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.dir / f, dst)
        for f in sorted(now.owned, key=lambda s: -s.count("/")):  # folders left empty by the old set
            parent = (self.real / f).parent
            while parent != self.real:
                with contextlib.suppress(OSError):
                    parent.rmdir()
                parent = parent.parent
        shutil.rmtree(self.dir, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _clean_leftovers(real: Path) -> None:
    """What killed runs on this folder left beside it (the caller holds the lock)."""
    parent, name = real.parent, real.name
    olds = sorted(parent.glob(f".{glob_escape(name)}.curadebt-old-*"))
    if olds and not real.exists():  # killed between the two renames of a non-atomic switch
        os.replace(olds.pop(), real)
    for p in olds + sorted(parent.glob(f".{glob_escape(name)}.curadebt-staging-*")):
        shutil.rmtree(p, ignore_errors=True)


def glob_escape(s: str) -> str:
    import glob

    return glob.escape(s)


@contextlib.contextmanager
def staged_output(out: str | os.PathLike, *, kind: str, inputs: Iterable = (), force: bool = False,
                  replace: bool = True) -> Iterator[StagedOutput]:
    """Write a run's output folder as one change (see the module docstring). ``kind`` names the
    output (``audit``, ``curate``, ``index``); ``replace=False`` refuses an existing output of the
    same kind unless ``force``. On an exception inside the block nothing in ``out`` changes."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; give a folder (it is created if missing)")
    check_disjoint(inputs, out)
    real = _real(out)
    if real.parent == real:
        raise OutputError(f"--out {out} is the root folder; give a folder of its own")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        lock = _Lock(real.parent / f".{real.name}.curadebt-lock", str(out))
    except OutputError:
        raise
    except OSError as e:
        raise OutputError(f"cannot write beside --out {out}: {e.strerror or e}") from e
    stage = None
    try:
        _clean_leftovers(real)
        existing = _inspect(real)
        if existing.exists and not existing.empty:
            man = existing.manifest
            if man is None and not force:
                raise OutputError(
                    f"--out {out} is not empty and was not written by curadebt (no {MANIFEST}); choose a new or "
                    "empty folder, or pass --force to write beside its files (curadebt never deletes or "
                    "overwrites files it did not write)")
            if man is not None and man.get("kind") != kind and not force:
                raise OutputError(f"--out {out} holds a curadebt {man.get('kind')} output; writing a {kind} there "
                                  "would replace it: choose another folder, or pass --force to replace it")
            if man is not None and man.get("kind") == kind and not replace and not force:
                raise OutputError(f"--out {out} holds a curadebt {kind} already; pass --force to replace it")
        stage = StagedOutput(out, real, kind, existing, lock)
        yield stage
        if stage.dir.exists():  # left without commit(): nothing changes
            stage.abort()
    except BaseException:
        if stage is not None:
            stage.abort()
        raise
    finally:
        lock.release()
