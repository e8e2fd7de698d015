"""Where the local engine keeps its blocks: pickle files in a run's private spill folder.

A run's folder is ``curadebt-spill-<pid>-<random>``. It lives in ``/dev/shm`` (memory-backed, as
Ray's object store) while that holds at most :data:`MEMORY_BUDGET` bytes in all: a block there is
written and read back several times faster than on a disk (a worker's 120 MB of n-gram counts:
0.06 s against 0.33 s), and the run's blocks are short-lived. A block that would take
``/dev/shm`` past the budget goes to the folder's twin on disk (``TMPDIR``), so the memory a run
takes for its blocks stays bounded whatever the corpus. ``CURADEBT_SPILL_DIR`` puts every
folder in that directory instead (no memory tier): what the memory benchmark does, to measure
the processes' memory alone; ``--spill-dir`` (``EngineConfig.spill_dir``) does the same for one run.

The folders go when the run closes them, or, if it was killed, with the next run
(:func:`remove_stale_spills`).
"""
from __future__ import annotations

import contextlib
import errno
import os
import pickle
import shutil
import tempfile

SPILL_PREFIX = "curadebt-spill-"
MEMORY_ROOT = "/dev/shm"
#: the most bytes ``/dev/shm`` may hold (all users) for a block to go there: 2 GiB, or an eighth
#: of the machine's memory if less
MEMORY_BUDGET = 2 << 30


def spill_roots() -> list[str]:
    """The directories spill folders are made in, the memory tier first (when it is used)."""
    chosen = os.environ.get("CURADEBT_SPILL_DIR")
    if chosen:
        return [chosen]
    disk = tempfile.gettempdir()
    return [MEMORY_ROOT, disk] if _memory_tier_usable() and os.path.realpath(disk) != MEMORY_ROOT else [disk]


#: a smaller /dev/shm (a container's default is 64 MB) is not used: most blocks would not fit, and
#: each would be written twice
MEMORY_MIN_SIZE = 256 << 20


def _memory_tier_usable() -> bool:
    if not (os.path.isdir(MEMORY_ROOT) and os.access(MEMORY_ROOT, os.W_OK) and _memory_budget() > 0):
        return False
    try:
        st = os.statvfs(MEMORY_ROOT)
    except OSError:
        return False
    return st.f_blocks * st.f_frsize >= MEMORY_MIN_SIZE


def _memory_budget() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
    return min(MEMORY_BUDGET, total // 8)


def check_spill_root(folder: str) -> None:
    """Fail before any work if ``folder`` cannot hold spill folders (it is not created: a typo
    would otherwise leave a stray directory)."""
    from curadebt.engine import EngineChoiceError

    if not os.path.isdir(folder):
        raise EngineChoiceError(f"spill folder {folder!r} does not exist: create it, or leave --spill-dir out "
                                "(memory, then the temporary folder)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise EngineChoiceError(f"spill folder {folder!r} is not writable: choose another --spill-dir")


def make_spill_dir(root: str | None = None) -> str:
    """A new private spill folder for this process's run, in ``root`` (no memory tier) or else in
    the first of :func:`spill_roots`; stale folders of killed runs are removed first."""
    roots = [root] if root else spill_roots()
    for folder in roots:
        remove_stale_spills(folder)
    return tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=roots[0])


def remove_spill_dir(folder: str) -> None:
    """Remove a run's spill folder and its twin on disk."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(_disk_twin(folder), ignore_errors=True)


def _disk_twin(folder: str) -> str:
    return os.path.join(tempfile.gettempdir(), os.path.basename(folder))


def dump(path: str, value) -> str:
    """Write ``value`` to the block file ``path`` (atomically); returns where it went: ``path``,
    or its twin on disk when ``path`` is in the memory tier and that has no room for it."""
    if os.path.dirname(os.path.dirname(path)) == MEMORY_ROOT:
        room = _memory_room()
        if room > 0:
            try:
                _write(path, value, limit=room)
                return path
            except _NoRoom:
                pass
        path = os.path.join(_disk_twin(os.path.dirname(path)), os.path.basename(path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, value)
    return path


def load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def _memory_room() -> int:
    try:
        st = os.statvfs(MEMORY_ROOT)
    except OSError:
        return 0
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    return min(_memory_budget() - used, st.f_bavail * st.f_frsize)


class _NoRoom(Exception):
    pass


class _Bounded:
    """A file that refuses to grow past ``limit`` bytes (raises :class:`_NoRoom`)."""

    def __init__(self, f, limit: int | None):
        self.f, self.limit, self.n = f, limit, 0

    def write(self, data) -> int:
        self.n += memoryview(data).nbytes
        if self.limit is not None and self.n > self.limit:
            raise _NoRoom
        return self.f.write(data)


def _write(path: str, value, limit: int | None = None) -> None:
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            pickle.dump(value, _Bounded(f, limit), protocol=5)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if limit is not None and isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise _NoRoom from e  # the tmpfs filled up before the budget: the disk takes it
        raise


def remove_stale_spills(folder: str | None = None) -> list[str]:
    """Remove the spill folders of local runs whose process is gone (killed runs) from ``folder``
    (default: every spill root); returns them."""
    if folder is None:
        return [p for root in dict.fromkeys(spill_roots() + [tempfile.gettempdir()]) for p in remove_stale_spills(root)]
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(SPILL_PREFIX):
            continue
        pid = name[len(SPILL_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or alive(int(pid)):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
