"""Ragged gathers: the concatenation of many slices of one array, in one compiled loop (no index
array as long as the output, as a numpy gather would need)."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _gather_pieces(buf, src, lens, out) -> None:
    o = 0
    for i in range(len(src)):
        s = src[i]
        for j in range(lens[i]):
            out[o + j] = buf[s + j]
        o += lens[i]


def gather(buf: np.ndarray, src: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of ``buf[src[i]:src[i] + lens[i]]`` for every i."""
    keep = lens > 0
    if not keep.all():
        src, lens = src[keep], lens[keep]
    total = int(lens.sum())
    out = np.empty(total, dtype=buf.dtype)
    if total:
        _gather_pieces(buf, np.ascontiguousarray(src, dtype=np.int64), np.ascontiguousarray(lens, dtype=np.int64),
                       out)
    return out
