"""A count table for 64-bit hash keys: an open-addressing index (linear probing, load at most 3/4)
from key to row, compiled with numba, over dense row arrays (keys, counts, and a per-row value the
caller owns, e.g. where the key's text is).

Why native code: the n-gram counter looks up every n-gram of the corpus. Done in numpy, that is a
sort per batch and a binary search into the counts (about 100 ns per n-gram, twice the time of
tokenising); one probe into a hash table is about 45 ns, and about 20 ns when the probes of the
n-grams just ahead are prefetched (the n-gram keys of a batch are computed in the same compiled
call, first, then looked up). Rows are appended in the order keys first appear, so a table fed the
same batches in the same order is the same table, byte for byte.

Why hand-written: no library at hand keeps a uint64 -> count map across calls without a Python
object per key. pyarrow's hash kernels rebuild their table on every call: ``pc.index_in`` of one
batch (210k keys) against a 2.5M-key vocabulary takes 0.51 s, about 80 s over the 100 MB counting
benchmark, against 3.5 s for the whole measure here; a dict holds a Python int per key.

Functions here only touch arrays; :class:`curadebt.measures.ngramcount.HashedNgramCounter` owns the
policy (growth, pruning, texts).
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from curadebt.measures.minhash import mix64

_EMPTY = -1  # slot_rows of an empty slot


def index_capacity(slots: int) -> int:
    """Keys an index of ``slots`` slots takes: load 3/4 (linear probing mostly stays within a cache
    line or two). Against load 1/2, measured at 100 MB (bench/count.py): the same speed within
    noise, peak memory 727 -> 614 MB."""
    return slots * 3 // 4


@numba.njit(cache=True, nogil=True)
def join_tokens(buf, starts, lengths, t0, n):
    """The texts of the n-grams starting at tokens ``t0``: their n tokens (``buf[starts[t]:starts[t]
    + lengths[t]]``) joined by single spaces, as ``(text_start, text_len, arena)``."""
    k = len(t0)
    text_start = np.empty(k, dtype=np.int64)
    text_len = np.empty(k, dtype=np.int64)
    total = 0
    for i in range(k):
        ln = n - 1
        for j in range(n):
            ln += lengths[t0[i] + j]
        text_start[i] = total
        text_len[i] = ln
        total += ln
    arena = np.empty(total, dtype=np.uint8)
    o = 0
    for i in range(k):
        for j in range(n):
            if j:
                arena[o] = 32
                o += 1
            t = t0[i] + j
            s = starts[t]
            for b in range(lengths[t]):
                arena[o + b] = buf[s + b]
            o += lengths[t]
    return text_start, text_len, arena


# murmur3's fmix64 on one value: minhash's array finaliser, compiled for scalars
_fmix64 = numba.njit(cache=True, nogil=True, inline="always")(mix64)


@numba.njit(cache=True, nogil=True, inline="always")
def _find_or_add(key, slot_keys, slot_rows, keys, rows):
    """The row of ``key``, appending it as row ``rows`` if new; returns (row, is_new)."""
    mask = np.uint64(len(slot_keys) - 1)
    s = key & mask
    while True:
        r = slot_rows[s]
        if r == _EMPTY:
            slot_rows[s] = rows
            slot_keys[s] = key
            keys[rows] = key
            return rows, True
        if slot_keys[s] == key:
            return r, False
        s = (s + np.uint64(1)) & mask


_LOOK_AHEAD = 16  # n-grams ahead whose slot is prefetched (see count_ngrams)


@intrinsic
def _touch(typingctx, arr, index):
    """Prefetch ``arr[index]`` into the cache (LLVM's llvm.prefetch: a hint, no result)."""
    def codegen(context, builder, signature, args):
        arr_type = signature.args[0]
        ary = context.make_array(arr_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arr_type, ary, [args[1]])
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch")
        # read, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


@numba.njit(cache=True, nogil=True)
def count_ngrams(hashes, offsets, n, mult, salt, start, slot_keys, slot_rows, keys, counts, first, rows, base):
    """Count the n-grams inside each document of a batch of token hashes (document d holds tokens
    ``offsets[d]:offsets[d+1]``), from the ``start``-th n-gram of the batch on. The key of the
    n-gram at token p is ``fmix64((sum_i hashes[p+i] * mult[i]) ^ salt)``. A new key gets row
    ``rows`` (then rows + 1), count 1 and ``first = base + p``.

    Stops early when the row arrays are full or the index is (:func:`index_capacity`): returns
    ``(rows, the n-grams of the batch done, how many the batch has)``; grow, and call again from there.
    """
    # the keys first, then the lookups: reading the slot of the key _LOOK_AHEAD places ahead
    # starts its cache miss early, so several misses overlap (about 2x faster on big tables)
    n_keys = 0
    for d in range(len(offsets) - 1):
        n_keys += max(0, offsets[d + 1] - offsets[d] - n + 1)
    batch_keys = np.empty(n_keys - start, dtype=np.uint64)
    batch_pos = np.empty(n_keys - start, dtype=np.int64)
    j = 0
    for d in range(len(offsets) - 1):
        for p in range(offsets[d], offsets[d + 1] - n + 1):
            if j >= start:
                k = hashes[p] * mult[0]
                for i in range(1, n):
                    k += hashes[p + i] * mult[i]
                batch_keys[j - start] = _fmix64(k ^ salt)
                batch_pos[j - start] = p
            j += 1
    mask = np.uint64(len(slot_keys) - 1)
    room = min(len(keys), len(slot_keys) * 3 // 4)  # index_capacity
    m = len(batch_keys)
    for j in range(m):
        if rows >= room:
            return rows, start + j, n_keys
        if j + _LOOK_AHEAD < m:
            _touch(slot_rows, batch_keys[j + _LOOK_AHEAD] & mask)
        r, new = _find_or_add(batch_keys[j], slot_keys, slot_rows, keys, rows)
        if new:
            counts[r] = 1
            first[r] = base + batch_pos[j]
            rows += 1
        else:
            counts[r] += 1
    return rows, start + m, n_keys


@numba.njit(cache=True, nogil=True)
def add_counts(add_keys, add_counts, slot_keys, slot_rows, keys, counts, rows):
    """Add ``add_counts`` to the rows of ``add_keys`` (distinct), appending the new keys in order.
    Returns (rows, which of ``add_keys`` were new)."""
    new_mask = np.zeros(len(add_keys), dtype=np.bool_)
    for j in range(len(add_keys)):
        r, new = _find_or_add(add_keys[j], slot_keys, slot_rows, keys, rows)
        if new:
            counts[r] = add_counts[j]
            new_mask[j] = True
            rows += 1
        else:
            counts[r] += add_counts[j]
    return rows, new_mask


@numba.njit(cache=True, nogil=True)
def _index_rows(keys, rows, slot_keys, slot_rows):
    mask = np.uint64(len(slot_keys) - 1)
    for r in range(rows):
        s = keys[r] & mask
        while slot_rows[s] != _EMPTY:
            s = (s + np.uint64(1)) & mask
        slot_rows[s] = r
        slot_keys[s] = keys[r]


def build_index(keys: np.ndarray, rows: int, room: int) -> tuple[np.ndarray, np.ndarray]:
    """``(slot_keys, slot_rows)`` indexing ``keys[:rows]`` (distinct), with room for ``room`` keys
    (a power of two, at least 2**15 slots)."""
    slots = 1 << 15
    while index_capacity(slots) < max(room, rows):
        slots <<= 1
    slot_keys = np.empty(slots, dtype=np.uint64)
    slot_rows = np.full(slots, _EMPTY, dtype=np.int64 if slots > (1 << 31) else np.int32)
    _index_rows(keys, rows, slot_keys, slot_rows)
    return slot_keys, slot_rows


__all__ = ["add_counts", "build_index", "count_ngrams", "index_capacity"]
