"""Sorting 64-bit hash keys fast: numpy sorts 16-bit integers with a radix sort, far faster than
its comparison sorts for 64-bit ones."""
from __future__ import annotations

import numpy as np


def argsort_u64(keys: np.ndarray, return_sorted: bool = False):
    """A stable argsort of uint64 keys, about 3x faster than ``np.argsort`` for hashes: two stable
    16-bit radix passes over the high 32 bits, then the rare runs whose high 32 bits tie between
    different keys are sorted by the full key (stably, so the result equals
    ``np.argsort(keys, kind="stable")``). With ``return_sorted``, returns ``(order, keys[order])``."""
    if len(keys) < 2:
        order = np.arange(len(keys), dtype=np.int64)
        return (order, keys[order]) if return_sorted else order
    digit_hi = (keys >> np.uint64(48)).astype(np.uint16)
    o1 = np.argsort((keys >> np.uint64(32)).astype(np.uint16), kind="stable")
    order = o1[np.argsort(digit_hi[o1], kind="stable")]
    sk = keys[order]
    bad = np.flatnonzero(sk[1:] < sk[:-1])
    if len(bad):
        hi = sk >> np.uint64(32)
        for h in np.unique(hi[bad + 1]).tolist():
            a = int(np.searchsorted(hi, np.uint64(h), side="left"))
            b = int(np.searchsorted(hi, np.uint64(h), side="right"))
            seg = order[a:b]
            order[a:b] = seg[np.argsort(keys[seg], kind="stable")]
        if return_sorted:
            sk = keys[order]
    return (order, sk) if return_sorted else order


__all__ = ["argsort_u64"]
