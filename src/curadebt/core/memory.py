"""Giving freed memory back to the operating system between the phases of a run.

glibc keeps freed heap memory for reuse: after a pass that allocated and freed millions of small
arrays and objects, a process can hold a GB it no longer uses (on a 10M-document corpus, over a
third of its resident memory), which the next phase's peak then sits on. ``malloc_trim`` returns
it. A no-op where the C library has no such call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

_TRIM = None
if sys.platform.startswith("linux"):
    try:
        _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        _TRIM.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        _TRIM = None


def release_free_memory(collect: bool = True) -> None:
    """Collect garbage (``collect``: also the reference cycles, a full collection), then give the
    C heap's free pages back to the system."""
    if collect:
        gc.collect()
    if _TRIM is not None:
        _TRIM(0)
