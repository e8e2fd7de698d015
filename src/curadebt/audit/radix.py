"""Sorting 64-bit hash keys fast: numpy sorts 16-bit integers with a radix sort, far faster than
its comparison sorts for 64-bit ones."""
from __future__ import annotations

import sys

import numpy as np

_LITTLE = sys.byteorder == "little"


def argsort_u64(keys: np.ndarray, return_sorted: bool = False):
    """A stable argsort of uint64 keys, about 3x faster than ``np.argsort`` for hashes: two stable
    16-bit radix passes over the high 32 bits, then the rare runs whose high 32 bits tie between
    different keys are sorted by the full key (stably, so the result equals
    ``np.argsort(keys, kind="stable")``). With ``return_sorted``, returns ``(order, keys[order])``."""
    if len(keys) < 2:
        order = np.arange(len(keys), dtype=np.int64)
        return (order, keys[order]) if return_sorted else order
    if _LITTLE and keys.dtype == np.uint64 and keys.flags.c_contiguous:
        digits = keys.view(np.uint16).reshape(-1, 4)  # the 16-bit digits, without shifting copies
        digit_hi, digit_mid = digits[:, 3], np.ascontiguousarray(digits[:, 2])
    else:
        digit_hi = (keys >> np.uint64(48)).astype(np.uint16)
        digit_mid = (keys >> np.uint64(32)).astype(np.uint16)
    o1 = np.argsort(digit_mid, kind="stable")
    order = o1[np.argsort(digit_hi[o1], kind="stable")]
    sk = keys[order]
    bad = np.flatnonzero(sk[1:] < sk[:-1])
    if len(bad):
        # sk is ordered by the high 32 bits, so a run of equal high bits is found by binary search on sk
        for h in np.unique(sk[bad + 1] >> np.uint64(32)).tolist():
            a = int(np.searchsorted(sk, np.uint64(h << 32), side="left"))
            b = int(np.searchsorted(sk, np.uint64((h << 32) | 0xFFFFFFFF), side="right"))
            seg = order[a:b]
            o = np.argsort(keys[seg], kind="stable")
            order[a:b] = seg[o]
            sk[a:b] = sk[a:b][o]
    return (order, sk) if return_sorted else order


__all__ = ["argsort_u64"]
