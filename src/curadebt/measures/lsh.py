"""Near-duplicate grouping on an engine: LSH buckets, verification and connected components as
tasks over blocks, so no machine ever holds all bucket records or all pairs.

Rows are the documents taking part in the near search (exact representatives with shingles), in
ordinal order, ``0..m-1``; their signatures arrive as contiguous row blocks (``starts[b]`` is
block ``b``'s first row), assembled by :func:`gather_blocks` from the chunks the scan workers
left in the engine's store (so signatures never pass through the driver either). The stages, each a task per block or partition (:mod:`curadebt.engine.api`):

1. **band** (per signature block): the ``bands`` bucket keys of every row
   (:func:`~curadebt.measures.minhash.band_keys`), routed by a hash of (band, key) to one of ``P``
   partitions; a bucket therefore lands whole in one partition.
2. **bucket** (per partition): per band, rows grouped by key in row order and paired by
   :func:`~curadebt.measures.minhash.bucket_pairs` (its window rule for huge buckets included); the
   pairs are routed to the block that holds their lower row.
3. **send** (per signature block): the block's distinct candidate pairs (the same pair found in
   several bands meets here, so it is counted once) get the lower row's signature attached and go
   to the block that holds the higher row.
4. **verify** (per signature block): estimated Jaccard on the full signatures, kept at
   ``>= threshold`` by :func:`~curadebt.measures.minhash.verify_pairs`'s integer rule. The verified
   pairs stay in the block; only per-document best matches (one row per document) and counts
   come back.
5. **components**: hook-and-compress union-find: every block proposes, for each of its pairs whose
   ends have different roots, to hang the higher root under the lower one (reduced to one proposal
   per root); the driver applies the proposals to a root array of ``m`` integers, compresses
   paths, and repeats until no block proposes anything. Each component ends with its lowest row
   as root, whatever the order of hooks, so the result equals
   :func:`~curadebt.measures.minhash.connected_components` on the same pairs.

Every stage is deterministic (sorted outputs, no dependence on task order), so every engine, and
:class:`~curadebt.engine.api.SerialExecutor`, gives the result of
:func:`~curadebt.measures.minhash.lsh_cluster` (checked in tests/engine/test_engines.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curadebt.measures.minhash import BUCKET_WINDOW, band_keys, bucket_pairs
from curadebt.measures.radix import unique_values

#: Rows per signature block (a block of 128-slot signatures is 512 bytes a row).
BLOCK_ROWS = 65_536
#: Up to this many bytes of signatures (about 500k documents of 128 slots) the grouping is one
#: task (:func:`lsh_one_task`): the staged tasks' blocks, written and read at every stage, cost more
#: than they save at that size, and the one task leaves the other workers free for the other
#: measures' work; beyond it the stages keep every task's memory to a block.
ONE_TASK_BYTES = 256 << 20


@dataclass
class EngineLshResult:
    roots: np.ndarray           # (m,) lowest row of each row's component
    candidate_pairs: int
    verified_pairs: int
    best_similarity: np.ndarray  # (m,) highest estimated Jaccard of a verified pair, NaN where none
    best_partner: np.ndarray     # (m,) its partner row (ties: lowest row), -1 where none


def best_matches(m: int, pairs: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the highest estimated Jaccard over its verified pairs and the partner (ties to the
    lower partner row); NaN and -1 for rows without a verified pair."""
    sim = np.full(m, np.nan)
    partner = np.full(m, -1, dtype=np.int64)
    if len(pairs):
        docs, part, s = _both_ways(pairs[:, 0], pairs[:, 1], est)
        d, p, v = _reduce_best(docs, part, s)
        sim[d], partner[d] = v, p
    return sim, partner


def _both_ways(i, j, s):
    return np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([s, s])


def _reduce_best(docs, partner, sim):
    """One (doc, partner, sim) per doc: highest sim, then lowest partner."""
    if not len(docs):
        return docs, partner, sim
    order = np.lexsort((partner, -sim, docs))
    docs, partner, sim = docs[order], partner[order], sim[order]
    first = np.ones(len(docs), dtype=bool)
    first[1:] = docs[1:] != docs[:-1]
    return docs[first], partner[first], sim[first]


def _mix(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    return x


def _block_of(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.searchsorted(starts, rows, side="right") - 1


def _split_by(dest: np.ndarray, n: int, *cols):
    """Rows grouped by destination (stable), as ``n`` tuples of column slices."""
    order = np.argsort(dest, kind="stable")
    bounds = np.searchsorted(dest[order], np.arange(n + 1))
    cols = [c[order] for c in cols]
    return tuple(tuple(c[bounds[k]:bounds[k + 1]] for c in cols) for k in range(n))


# -- tasks (module level: engines pickle them by name) -----------------------------------------

def _band_task(sigs: np.ndarray, start: int, bands: int, seed: int, parts: int):
    n = len(sigs)
    keys = band_keys(sigs, bands, seed).reshape(-1)
    band = np.tile(np.arange(bands, dtype=np.int32), n)
    rows = np.repeat(np.arange(start, start + n, dtype=np.int64), bands)
    dest = (_mix(keys ^ (band.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))) % np.uint64(parts)).astype(np.int64)
    out = _split_by(dest, parts, band, keys, rows)
    return out if parts > 1 else out[0]


def _bucket_task(blocks: list, starts: np.ndarray, m: int, window: int):
    band = np.concatenate([b[0] for b in blocks])
    keys = np.concatenate([b[1] for b in blocks])
    rows = np.concatenate([b[2] for b in blocks])
    order = np.lexsort((rows, band))
    band, keys, rows = band[order], keys[order], rows[order]
    edges = np.flatnonzero(np.diff(band)) + 1
    codes = []
    for lo, hi in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(band)]])):
        if hi - lo < 2:
            continue
        pr = bucket_pairs(keys[lo:hi], window)
        if len(pr):
            r = rows[lo:hi]
            codes.append(r[pr[:, 0]] * m + r[pr[:, 1]])
    codes = unique_values(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    nb = len(starts) - 1
    out = tuple(c[0] for c in _split_by(_block_of(codes // m, starts), nb, codes))
    return out if nb > 1 else out[0]


def _send_task(sigs: np.ndarray, start: int, incoming: list, starts: np.ndarray, m: int):
    codes = unique_values(np.concatenate(incoming)) if incoming else np.empty(0, dtype=np.int64)
    i, j = codes // m, codes % m
    nb = len(starts) - 1
    out = _split_by(_block_of(j, starts), nb, codes, sigs[i - start])
    return (*out, len(codes))


def _verify_task(sigs: np.ndarray, start: int, incoming: list, m: int, threshold: float):
    p = sigs.shape[1]
    codes = np.concatenate([c for c, _ in incoming]) if incoming else np.empty(0, dtype=np.int64)
    sig_i = np.concatenate([s for _, s in incoming]) if incoming else np.empty((0, p), dtype=sigs.dtype)
    order = np.argsort(codes, kind="stable")
    codes, sig_i = codes[order], sig_i[order]
    j = codes % m
    eq = np.count_nonzero(sig_i == sigs[j - start], axis=1) if len(codes) else np.empty(0, dtype=np.int64)
    keep = eq >= np.ceil(threshold * p - 1e-9)
    codes, est = codes[keep], eq[keep] / p
    d, part, s = _reduce_best(*_both_ways(codes // m, codes % m, est))
    return codes, (int(keep.sum()), d, part, s)


def _hook_task(codes: np.ndarray, parent: np.ndarray, m: int):
    ri, rj = parent[codes // m], parent[codes % m]
    diff = ri != rj
    lo, hi = np.minimum(ri[diff], rj[diff]), np.maximum(ri[diff], rj[diff])
    if not len(hi):
        return hi, lo
    order = np.lexsort((lo, hi))
    hi, lo = hi[order], lo[order]
    first = np.ones(len(hi), dtype=bool)
    first[1:] = hi[1:] != hi[:-1]
    return hi[first], lo[first]


def _gather_task(sigs: np.ndarray, local: np.ndarray, rows: np.ndarray, starts: np.ndarray):
    nb = len(starts) - 1
    out = _split_by(_block_of(rows, starts), nb, rows, sigs[local])
    return out if nb > 1 else out[0]


def _assemble_task(parts: list, start: int, size: int, num_perm: int):
    block = np.empty((size, num_perm), dtype=np.uint32)
    filled = 0
    for rows, sigs in parts:
        block[rows - start] = sigs
        filled += len(rows)
    if filled != size:
        raise RuntimeError(f"signature block at row {start}: {filled} of {size} rows arrived")
    return block


def _gathered(chunks: list, chunk_rows: list, m: int, num_perm: int) -> np.ndarray:
    """The signatures of rows ``0..m-1`` from the chunks (``chunk_rows[c][k]``: the row of chunk c's
    k-th signature, -1 for none)."""
    sigs = np.empty((m, num_perm), dtype=np.uint32)
    for chunk, rows in zip(chunks, chunk_rows):
        keep = rows >= 0
        sigs[rows[keep]] = chunk[keep]
    return sigs


def _one_task(chunks: list, chunk_rows: list, m: int, num_perm: int, bands: int, threshold: float, seed: int,
              window: int) -> EngineLshResult:
    """The whole grouping in one task: the signatures gathered from the chunks into rows
    ``0..m-1``, then :func:`~curadebt.measures.minhash.lsh_cluster`."""
    from curadebt.measures.minhash import lsh_cluster

    lsh = lsh_cluster(_gathered(chunks, chunk_rows, m, num_perm), bands, threshold, seed, window)
    sim, partner = best_matches(m, lsh.verified_pairs, lsh.estimates)
    return EngineLshResult(lsh.roots, lsh.candidate_pairs, len(lsh.verified_pairs), sim, partner)


def _band_range_task(chunks: list, chunk_rows: list, m: int, num_perm: int, bands: int, seed: int, window: int,
                     b0: int, b1: int, parts: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Candidate pair codes (``i * m + j``, sorted, distinct) of bands ``b0..b1-1`` (the keys of a
    band depend only on its own slots and the seed, so the bands can be split over tasks), and
    their ``parts``-quantiles (where the verify tasks split the codes; None when there are none)."""
    from curadebt.measures.minhash import band_keys, candidate_pairs

    rows = num_perm // bands
    sigs = _gathered(chunks, chunk_rows, m, num_perm)[:, b0 * rows:b1 * rows]
    pairs = candidate_pairs(band_keys(np.ascontiguousarray(sigs), b1 - b0, seed), window)
    codes = pairs[:, 0] * m + pairs[:, 1]
    return codes, (codes[(np.arange(1, parts) * len(codes)) // parts] if len(codes) else None)


def _verify_range_task(chunks: list, chunk_rows: list, m: int, num_perm: int, band_codes: list,
                       lo: int | None, hi: int | None, threshold: float):
    """The candidate codes in ``[lo, hi)`` (None: unbounded) of every band task, united, then
    verified: the verified pairs, each row's best match among them (as the staged verify), and
    the number of candidates. The union happens here, a range per task, not on the driver."""
    from curadebt.measures.minhash import verify_pairs

    ranges = [c[(np.searchsorted(c, lo) if lo is not None else 0):
                (np.searchsorted(c, hi) if hi is not None else len(c))] for c in band_codes]
    codes = unique_values(np.concatenate(ranges)) if ranges else np.empty(0, dtype=np.int64)
    pairs = np.stack([codes // m, codes % m], axis=1)
    pairs, est = verify_pairs(_gathered(chunks, chunk_rows, m, num_perm), pairs, threshold)
    d, part, sim = _reduce_best(*_both_ways(pairs[:, 0], pairs[:, 1], est))
    return pairs, (d, part, sim), len(codes)


# -- driver --------------------------------------------------------------------------------------

def lsh_one_task(ex, chunks: list, chunk_rows: list[np.ndarray], m: int, num_perm: int, bands: int,
                 threshold: float, seed: int = 0, window: int = BUCKET_WINDOW) -> EngineLshResult:
    """The grouping of rows ``0..m-1`` on executor ``ex`` with every signature in one task's
    memory (the chunks as in :func:`gather_blocks`): one task on one worker; on several, the bands
    split over as many tasks, then the candidate pairs verified in as many parts, and the
    components on the driver. The same result as the staged :func:`lsh_cluster_on`."""
    from curadebt.measures.minhash import connected_components

    refs = [ex.put(c) if isinstance(c, np.ndarray) else c for c in chunks]
    parts = min(ex.workers, bands)
    if parts < 2:
        return ex.get(ex.map(_one_task, [(refs, chunk_rows, m, num_perm, bands, threshold, seed, window)]))[0]
    cuts = [bands * k // parts for k in range(parts + 1)]
    band_out = ex.map(_band_range_task, [(refs, chunk_rows, m, num_perm, bands, seed, window, a, b, parts)
                                         for a, b in zip(cuts, cuts[1:])], num_returns=2)
    # the verify ranges split the codes at the band tasks' quantiles (averaged: bands look alike);
    # the codes themselves go worker to worker, united in each range by its verify task
    quantiles = [q for q in ex.get([q for _, q in band_out]) if q is not None]
    inner = sorted({int(x) for x in np.mean(quantiles, axis=0).round()}) if quantiles else []
    bounds = [None, *inner, None]
    code_refs = [c for c, _ in band_out]
    verified = ex.get(ex.map(_verify_range_task, [(refs, chunk_rows, m, num_perm, code_refs, lo, hi, threshold)
                                                  for lo, hi in zip(bounds, bounds[1:])]))
    ex.free(code_refs)
    pairs = np.concatenate([v[0] for v in verified])
    d, part, sim = _reduce_best(*(np.concatenate([v[1][k] for v in verified]) for k in range(3)))
    best_sim = np.full(m, np.nan)
    best_partner = np.full(m, -1, dtype=np.int64)
    best_sim[d], best_partner[d] = sim, part
    return EngineLshResult(connected_components(m, pairs), sum(v[2] for v in verified), len(pairs), best_sim,
                           best_partner)


def gather_blocks(ex, chunks: list, chunk_rows: list[np.ndarray], m: int, num_perm: int):
    """Signature blocks for rows ``0..m-1`` from signature chunks wherever they are stored:
    ``chunks[c]`` is a ref (or an array) whose row ``k`` becomes row ``chunk_rows[c][k]`` (-1: not
    needed). Returns ``(block refs, starts)``; the chunks go worker to worker, not via the driver."""
    starts = block_starts(m, ex.workers)
    nb = len(starts) - 1
    tasks = []
    for ref, rows in zip(chunks, chunk_rows):
        if isinstance(ref, np.ndarray):
            ref = ex.put(ref)
        keep = np.flatnonzero(rows >= 0)
        tasks.append((ref, keep, rows[keep], starts))
    parts = ex.map(_gather_task, tasks, num_returns=nb)
    if nb == 1:
        parts = [[p] for p in parts]
    blocks = ex.map(_assemble_task, [([p[b] for p in parts], int(starts[b]), int(starts[b + 1] - starts[b]), num_perm)
                                     for b in range(nb)])
    ex.free(parts)
    return blocks, starts


def block_starts(m: int, workers: int, block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """Row blocks: at least two per worker (so the tasks balance), at most ``block_rows`` rows each."""
    nb = max(1, min(m, max(2 * workers, -(-m // block_rows))))
    return (np.arange(nb + 1, dtype=np.int64) * m) // nb


def lsh_cluster_on(ex, sig_blocks: list, starts: np.ndarray, bands: int, threshold: float, seed: int = 0,
                   window: int = BUCKET_WINDOW, partitions: int | None = None) -> EngineLshResult:
    """Run the stages of the module docstring on executor ``ex``. ``sig_blocks[b]`` is a ref to the
    signatures of rows ``starts[b]:starts[b+1]``."""
    starts = np.asarray(starts, dtype=np.int64)
    m, nb = int(starts[-1]), len(sig_blocks)
    parts = partitions or nb
    band_out = ex.map(_band_task, [(sig_blocks[b], int(starts[b]), bands, seed, parts) for b in range(nb)],
                      num_returns=parts)
    if parts == 1:
        band_out = [[r] for r in band_out]
    pair_out = ex.map(_bucket_task, [([band_out[b][q] for b in range(nb)], starts, m, window) for q in range(parts)],
                      num_returns=nb)
    if nb == 1:
        pair_out = [[r] for r in pair_out]
    ex.free(band_out)
    send_out = ex.map(_send_task, [(sig_blocks[b], int(starts[b]), [pair_out[q][b] for q in range(parts)], starts, m)
                                   for b in range(nb)], num_returns=nb + 1)
    ex.free(pair_out)
    n_candidates = int(sum(ex.get([s[nb] for s in send_out])))
    ver_out = ex.map(_verify_task, [(sig_blocks[c], int(starts[c]), [send_out[b][c] for b in range(nb)], m, threshold)
                                    for c in range(nb)], num_returns=2)
    ex.free([s[:nb] for s in send_out])
    verified = [v[0] for v in ver_out]
    summaries = ex.get([v[1] for v in ver_out])
    n_verified = sum(s[0] for s in summaries)
    d, part, s = _reduce_best(np.concatenate([x[1] for x in summaries]), np.concatenate([x[2] for x in summaries]),
                              np.concatenate([x[3] for x in summaries]))
    best_sim = np.full(m, np.nan)
    best_partner = np.full(m, -1, dtype=np.int64)
    best_sim[d], best_partner[d] = s, part

    parent = np.arange(m, dtype=np.int64)
    while n_verified:
        ref = ex.put(parent)
        props = ex.get(ex.map(_hook_task, [(v, ref, m) for v in verified]))
        ex.free([ref])
        hi = np.concatenate([h for h, _ in props])
        if not len(hi):
            break
        np.minimum.at(parent, hi, np.concatenate([lo for _, lo in props]))
        while True:  # full path compression: every row points at its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    ex.free(verified)
    return EngineLshResult(parent, n_candidates, int(n_verified), best_sim, best_partner)


__all__ = ["EngineLshResult", "lsh_cluster_on", "lsh_one_task", "gather_blocks", "block_starts", "best_matches",
           "BLOCK_ROWS", "ONE_TASK_BYTES"]
