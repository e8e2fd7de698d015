"""Vectorised MinHash + LSH: the reusable near-duplicate core.

The pipeline is split into small functions so that an engine can run each stage where it fits
(signatures per batch in parallel workers, LSH buckets grouped per band, clustering once):

    hashes, offsets = hash_tokens(tokens_per_doc)                  # xxh3 of every token, once
    sh, sh_offsets  = shingle_hashes(hashes, offsets, k)           # k-word shingles, numpy arithmetic
    sigs            = minhash_signatures(sh, sh_offsets, a, b)     # (docs x num_perm) uint32
    keys            = band_keys(sigs, bands)                       # (docs x bands) uint64
    pairs           = candidate_pairs(keys)                        # rows sharing a bucket in any band
    pairs, est      = verify_pairs(sigs, pairs, threshold)         # estimated Jaccard >= threshold
    labels          = connected_components(len(sigs), pairs)       # union-find; root = lowest row

:class:`MinHasher` bundles the first three stages for one parameter set (``MinHasher.signatures``).

Hashing, all deterministic (xxh3 and seeded numpy generators; never Python's salted ``hash()``):

* every token is hashed once with xxh3-64;
* a shingle of ``k`` consecutive tokens is ``sum_i h(t_i) * M_i mod 2**64`` (``M_i`` odd constants,
  so the order of the words matters), finished with a 64-bit mixer (the murmur3/splitmix
  finaliser) whose top 32 bits are the shingle hash; a document shorter than ``k`` tokens is one
  shingle made of all its tokens; a document without tokens has no shingles;
* permutation ``p`` maps a shingle hash ``x`` to ``(a_p * x + b_p) mod 2**32`` with ``a_p`` odd:
  a random affine permutation of the 32-bit hash space, computed for all shingles x all
  permutations at once in uint32 and reduced per document with ``np.minimum.reduceat``.
  Because the shingle hashes are already well mixed, this cheap family behaves like ideal
  min-wise hashing: the estimator's error has mean ~0 and the binomial standard deviation
  ``sqrt(J(1-J)/num_perm)`` (checked in tests/measures/test_duplicates.py).

The LSH S-curve: with ``bands`` bands of ``rows = num_perm / bands`` rows, two documents whose
shingle sets have Jaccard similarity ``s`` share at least one bucket with probability
``1 - (1 - s**rows)**bands`` (:func:`s_curve`). Candidates are then verified on the full
signature, so the S-curve only has to be high at the threshold and low well below it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import xxhash

from curadebt.measures.radix import argsort_u64, union_sorted
from curadebt.text.wordhash import word_token_hashes

U32_MAX = np.uint32(0xFFFFFFFF)
_M64 = (1 << 64) - 1

# Shingle-combination constants: fixed (not seeded) so that shingle hashes, like token hashes,
# are a property of the text; the seed picks the permutations and band hashes.
_SHINGLE_MULT = np.array([
    0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
], dtype=np.uint64)
LEN_MULT = np.uint64(0x27D4EB2F165667C5)

#: Pairs within one LSH bucket: all pairs for buckets of up to this many documents; beyond it each
#: document is paired with the next BUCKET_WINDOW - 1 documents of the bucket (in ordinal order)
#: and with the bucket's first document, which keeps huge buckets (boilerplate) linear in size.
BUCKET_WINDOW = 32

#: Shingles per block of the (shingles x num_perm) computation (sized to stay in cache).
SHINGLE_BLOCK = 8192


def mix64(h: np.ndarray) -> np.ndarray:
    """murmur3 fmix64 finaliser, in place on a uint64 array."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def sequence_multipliers(k: int) -> np.ndarray:
    """The odd constants ``M_0..M_{k-1}`` that combine k token hashes into one order-sensitive key
    (``sum_i h_i * M_i``, then ``^ k * LEN_MULT`` and a mixer): shingles here, n-grams in ngramcount."""
    if k <= len(_SHINGLE_MULT):
        return _SHINGLE_MULT[:k]
    extra = np.random.default_rng(0x5EED).integers(0, 1 << 63, size=k - len(_SHINGLE_MULT), dtype=np.uint64)
    return np.concatenate([_SHINGLE_MULT, extra * np.uint64(2) + np.uint64(1)])


# ---------------------------------------------------------------------------------------------
# Stage 1-3: signatures
# ---------------------------------------------------------------------------------------------

class TokenHashCache(dict):
    """token -> xxh3-64 of its UTF-8 bytes; a lookup costs less than hashing again. Cleared when it
    grows past ``max_size`` entries, so memory stays bounded (values never change)."""

    def __init__(self, max_size: int = 500_000):
        super().__init__()
        self.max_size = max_size

    def __missing__(self, token: str) -> int:
        if len(self) >= self.max_size:
            self.clear()
        v = self[token] = xxhash.xxh3_64_intdigest(_encode(token))
        return v

    def __reduce__(self):  # pickles empty: a cache, not state
        return (TokenHashCache, (self.max_size,))


def hash_tokens(tokens_per_doc: Sequence[Sequence[str]],
                cache: TokenHashCache | None = None) -> tuple[np.ndarray, np.ndarray]:
    """xxh3-64 of every token (UTF-8), flattened. Returns ``(hashes uint64, offsets int64[n_docs + 1])``.
    With ``cache`` (a :class:`TokenHashCache`), repeated tokens are looked up instead of re-hashed."""
    lengths = np.fromiter((len(t) for t in tokens_per_doc), dtype=np.int64, count=len(tokens_per_doc))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    flat = itertools.chain.from_iterable(tokens_per_doc)
    if cache is not None:
        hashes = np.fromiter(map(cache.__getitem__, flat), dtype=np.uint64, count=total)
    else:
        h = xxhash.xxh3_64_intdigest
        try:
            hashes = np.fromiter(map(h, map(str.encode, flat)), dtype=np.uint64, count=total)
        except UnicodeEncodeError:  # lone surrogates: hash them as the exact key does
            flat = itertools.chain.from_iterable(tokens_per_doc)
            hashes = np.fromiter(map(h, map(_encode, flat)), dtype=np.uint64, count=total)
    return hashes, offsets


def _encode(token: str) -> bytes:
    return token.encode("utf-8", "surrogatepass")


def shingle_hashes(token_hashes: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the ``k``-token shingles of every document.

    A document with ``n >= k`` tokens has ``n - k + 1`` shingles; one with ``0 < n < k`` has one
    shingle (all its tokens); an empty one has none. Returns ``(hashes uint32, offsets int64)``.
    """
    if k < 1:
        raise ValueError("shingle size must be >= 1")
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    counts = np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))
    sh_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(counts, out=sh_offsets[1:])
    total = int(sh_offsets[-1])
    if total == 0:
        return np.empty(0, dtype=np.uint32), sh_offsets
    # start position (in the flat token array) of every shingle, in document order
    doc_of = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    starts = np.arange(total, dtype=np.int64) - sh_offsets[doc_of] + offsets[doc_of]
    n_tok = len(token_hashes)
    padded = np.zeros(n_tok + k, dtype=np.uint64)
    padded[:n_tok] = token_hashes
    mult = sequence_multipliers(k)
    # a k-shingle at every token position (contiguous slices, no gathers), then pick the starts
    full = padded[:n_tok] * mult[0]
    for i in range(1, k):
        full += padded[i:i + n_tok] * mult[i]
    full ^= np.uint64(k) * LEN_MULT
    acc = full[starts]
    short_rows = np.flatnonzero(lengths[doc_of] < k)
    if len(short_rows):  # documents shorter than k: one shingle of all their tokens
        s0 = starts[short_rows]
        n_short = lengths[doc_of[short_rows]].astype(np.uint64)
        part = padded[s0] * mult[0]
        for i in range(1, k):
            term = padded[s0 + i] * mult[i]
            term[n_short <= i] = 0
            part += term
        acc[short_rows] = part ^ (n_short * LEN_MULT)
    mix64(acc)
    return (acc >> np.uint64(32)).astype(np.uint32), sh_offsets


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``num_perm`` affine permutations ``x -> (a * x + b) mod 2**32`` (``a`` odd) for ``seed``."""
    rng = np.random.default_rng([seed & _M64, 0x4D494E48])  # "MINH"
    a = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def minhash_signatures(sh_hashes: np.ndarray, sh_offsets: np.ndarray, perm_a: np.ndarray,
                       perm_b: np.ndarray, block: int = SHINGLE_BLOCK) -> np.ndarray:
    """MinHash signatures, ``(n_docs, num_perm)`` uint32. Documents without shingles get all
    ``0xFFFFFFFF`` (callers should leave them out of LSH)."""
    n = len(sh_offsets) - 1
    p = len(perm_a)
    sig = np.full((n, p), U32_MAX, dtype=np.uint32)
    total = int(sh_offsets[-1]) if n else 0
    if total == 0:
        return sig
    counts = np.diff(sh_offsets)
    docs = np.flatnonzero(counts > 0)
    doc_starts = sh_offsets[docs]
    # (num_perm x block) layout: the min over a document's shingles runs along contiguous memory
    a = perm_a[:, None]
    b = perm_b[:, None]
    buf = np.empty((p, min(block, total)), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for c0 in range(0, total, block):
            c1 = min(c0 + block, total)
            tmp = buf[:, : c1 - c0]
            np.multiply(a, sh_hashes[None, c0:c1], out=tmp)
            tmp += b
            j0 = int(np.searchsorted(doc_starts, c0, side="right")) - 1
            j1 = int(np.searchsorted(doc_starts, c1, side="left"))
            seg = doc_starts[j0:j1] - c0
            seg[0] = 0
            mins = np.minimum.reduceat(tmp, seg, axis=1).T
            rows = docs[j0:j1]
            sig[rows] = np.minimum(sig[rows], mins)
    return sig


class MinHasher:
    """Signatures for one parameter set: ``MinHasher(num_perm, shingle_size, seed).signatures(tokens)``."""

    def __init__(self, num_perm: int = 128, shingle_size: int = 3, seed: int = 0):
        if num_perm < 1:
            raise ValueError("num_perm must be >= 1")
        if shingle_size < 1:
            raise ValueError("shingle_size must be >= 1")
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.seed = seed
        self.perm_a, self.perm_b = permutations(num_perm, seed)
        self.cache = TokenHashCache()

    def signatures(self, tokens_per_doc: Sequence[Sequence[str]]) -> np.ndarray:
        """``(len(tokens_per_doc), num_perm)`` uint32 signatures of token lists."""
        hashes, offsets = hash_tokens(tokens_per_doc, self.cache)
        return self.signatures_from_hashes(hashes, offsets)

    def signatures_from_hashes(self, token_hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        sh, sh_off = shingle_hashes(token_hashes, offsets, self.shingle_size)
        return minhash_signatures(sh, sh_off, self.perm_a, self.perm_b)

    def text_signatures(self, texts: Iterable[str]) -> np.ndarray:
        """Signatures of raw texts, tokenised with the default word tokenizer (vectorised: the same
        values as ``signatures([word_tokenize(t) for t in texts])``)."""
        return self.signatures_from_hashes(*word_token_hashes(list(texts)))


def shingle_sets(tokens_per_doc: Sequence[Sequence[str]], k: int) -> list[set[int]]:
    """The shingle-hash sets themselves (for exact Jaccard in tests and benchmarks)."""
    hashes, offsets = hash_tokens(tokens_per_doc)
    sh, off = shingle_hashes(hashes, offsets, k)
    return [set(sh[off[i]:off[i + 1]].tolist()) for i in range(len(off) - 1)]


# ---------------------------------------------------------------------------------------------
# Stage 4-7: LSH, verification, clustering
# ---------------------------------------------------------------------------------------------

def s_curve(s, bands: int, rows: int):
    """Probability that two documents with Jaccard ``s`` share an LSH bucket: ``1 - (1 - s**r)**b``."""
    return 1.0 - (1.0 - np.asarray(s, dtype=np.float64) ** rows) ** bands


def band_keys(signatures: np.ndarray, bands: int, seed: int = 0) -> np.ndarray:
    """One 64-bit bucket key per document and band, ``(n_docs, bands)`` uint64."""
    n, p = signatures.shape
    if bands < 1 or p % bands:
        raise ValueError(f"num_perm ({p}) must be a multiple of bands ({bands})")
    rows = p // bands
    rng = np.random.default_rng([seed & _M64, 0x4C5348])  # "LSH"
    mult = rng.integers(0, 1 << 63, size=rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    sig = signatures.reshape(n, bands, rows).astype(np.uint64)
    keys = sig[:, :, 0] * mult[0]
    for j in range(1, rows):
        keys += sig[:, :, j] * mult[j]
    return mix64(keys)


def bucket_pairs(keys: np.ndarray, window: int = BUCKET_WINDOW) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of rows with equal keys (one band), as int64 ``(m, 2)``.

    All pairs within buckets of up to ``window`` rows; in larger buckets each row is paired with
    the next ``window - 1`` rows and with the bucket's first row.
    """
    order = argsort_u64(keys)  # stable: rows of a bucket stay in row order
    ks = keys[order]
    same = ks[1:] == ks[:-1]
    if not same.any():
        return np.empty((0, 2), dtype=np.int64)
    in_run = np.zeros(len(ks), dtype=bool)
    in_run[1:] |= same
    in_run[:-1] |= same
    run = np.cumsum(np.concatenate([[True], ~same]))[in_run]
    order = order[in_run]
    out_i, out_j = [], []
    for d in range(1, window):
        if d >= len(run):
            break
        m = run[d:] == run[:-d]
        if not m.any():
            break
        out_i.append(order[:-d][m])
        out_j.append(order[d:][m])
    # star pairs for buckets larger than the window
    run_start = np.flatnonzero(np.concatenate([[True], run[1:] != run[:-1]]))
    sizes = np.diff(np.concatenate([run_start, [len(run)]]))
    big = sizes > window
    if big.any():
        head = np.repeat(order[run_start], sizes)
        pos = np.arange(len(run)) - np.repeat(run_start, sizes)
        far = np.repeat(big, sizes) & (pos >= window)
        out_i.append(head[far])
        out_j.append(order[far])
    i = np.concatenate(out_i)
    j = np.concatenate(out_j)
    return np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)


def candidate_pairs(keys: np.ndarray, window: int = BUCKET_WINDOW) -> np.ndarray:
    """Distinct pairs of rows that share a bucket in at least one band, sorted, int64 ``(m, 2)``."""
    n = keys.shape[0]
    codes = np.empty(0, dtype=np.int64)
    for band in range(keys.shape[1]):
        p = bucket_pairs(keys[:, band], window)
        if len(p):
            codes = union_sorted(codes, p[:, 0] * n + p[:, 1])
    return np.stack([codes // n, codes % n], axis=1) if len(codes) else np.empty((0, 2), dtype=np.int64)


def estimate_jaccard(signatures: np.ndarray, pairs: np.ndarray, block: int = 1 << 15) -> np.ndarray:
    """Share of equal signature slots for each pair (the MinHash estimate of Jaccard)."""
    out = np.empty(len(pairs), dtype=np.float64)
    p = signatures.shape[1]
    for c0 in range(0, len(pairs), block):
        pr = pairs[c0:c0 + block]
        out[c0:c0 + len(pr)] = np.count_nonzero(signatures[pr[:, 0]] == signatures[pr[:, 1]], axis=1) / p
    return out


def verify_pairs(signatures: np.ndarray, pairs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the pairs whose estimated Jaccard is >= ``threshold``; returns ``(pairs, estimates)``."""
    est = estimate_jaccard(signatures, pairs)
    # compare in integer slots to avoid float edge effects at the threshold
    p = signatures.shape[1]
    keep = np.rint(est * p) >= np.ceil(threshold * p - 1e-9)
    return pairs[keep], est[keep]


def connected_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Union-find over ``n`` rows joined by ``pairs``; returns each row's root, which is the lowest
    row of its component (vectorised: hook higher roots under lower ones, then compress paths)."""
    parent = np.arange(n, dtype=np.int64)
    if len(pairs) == 0:
        return parent
    i = pairs[:, 0].astype(np.int64)
    j = pairs[:, 1].astype(np.int64)
    while True:
        ri, rj = parent[i], parent[j]
        diff = ri != rj
        if not diff.any():
            return parent
        lo = np.minimum(ri[diff], rj[diff])
        hi = np.maximum(ri[diff], rj[diff])
        np.minimum.at(parent, hi, lo)
        while True:  # full path compression: every row points at its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt


@dataclass
class LshResult:
    """Outcome of :func:`lsh_cluster` on a set of signatures (row space)."""

    roots: np.ndarray            # root (lowest row) of each row's component
    candidate_pairs: int
    verified_pairs: np.ndarray   # (m, 2) int64
    estimates: np.ndarray        # estimated Jaccard of each verified pair


def lsh_cluster(signatures: np.ndarray, bands: int, threshold: float, seed: int = 0,
                window: int = BUCKET_WINDOW) -> LshResult:
    """Banding -> candidate pairs -> verification -> connected components, in one call."""
    n = signatures.shape[0]
    if n < 2:
        return LshResult(np.arange(n, dtype=np.int64), 0, np.empty((0, 2), dtype=np.int64), np.empty(0))
    cands = candidate_pairs(band_keys(signatures, bands, seed), window)
    pairs, est = verify_pairs(signatures, cands, threshold)
    return LshResult(connected_components(n, pairs), len(cands), pairs, est)


__all__ = ["MinHasher", "TokenHashCache", "hash_tokens", "shingle_hashes", "permutations", "minhash_signatures", "shingle_sets",
           "s_curve", "band_keys", "bucket_pairs", "candidate_pairs", "estimate_jaccard", "verify_pairs",
           "connected_components", "lsh_cluster", "LshResult", "BUCKET_WINDOW"]
