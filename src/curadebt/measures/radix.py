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


def _dedup_sorted(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def unique_values(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (sorted distinct values) by a sort and a mask. numpy 2.4's plain
    ``np.unique`` takes a hash-based path that is 10-20x slower than sorting for millions of
    int64/uint64 values (measured: 1M random uint64 0.80 s against 0.05 s for the sort; 7M 9.5 s)."""
    return _dedup_sorted(np.sort(values))


def union_sorted(distinct: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.union1d(distinct, values)`` where ``distinct`` is already sorted and distinct: the two
    sorted runs are merged by a stable sort (timsort finds the two runs: a linear merge) and
    deduplicated. ``np.union1d`` re-hashes everything each time: 7.9 s against 0.18 s for 5M + 2M."""
    merged = np.concatenate([distinct, np.sort(values)])
    merged.sort(kind="stable")
    return _dedup_sorted(merged)


__all__ = ["argsort_u64", "union_sorted", "unique_values"]
