"""Counting n-grams by 64-bit hash in numpy arrays, with the n-gram text kept as UTF-8 bytes.

:class:`HashedNgramCounter` gives exactly the results of :class:`curadebt.audit.sketch.BoundedCounter`
fed with the space-joined n-gram strings (same totals, distinct counts, Misra-Gries pruning points,
cuts and error bounds, and the same top items with ties broken by the string), without a Python
object per n-gram. Keys are 64-bit hashes of the token-hash sequence, so two different n-grams
would only be merged on a 64-bit collision (probability about ``d**2 / 2**65`` for ``d`` distinct
n-grams: ~3e-6 for 10 million). Each key keeps one copy of its text in a byte arena, so the top
n-grams are decoded at the end only.

Per batch, the n-gram keys are sorted (a radix argsort) and counted; keys already in the main
sorted arrays are added in place, the new ones (with their texts) become a sorted run (``pending``).
Runs are merged into the main arrays lazily: when they outgrow the main arrays, and whenever
``len(main) + len(pending)`` (an upper bound on the distinct count) passes ``budget * slack``, at
which point the exact distinct count decides a prune, as BoundedCounter decides after every update.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from curadebt.audit.minhash import mix64
from curadebt.audit.radix import argsort_u64
from curadebt.audit.sketch import BoundedCounter

# n-gram key = mix64(sum_i h(t_i) * M_i ^ n * L): fixed odd constants, so the order of the tokens matters
_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                  0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                 dtype=np.uint64)
_LEN = np.uint64(0x27D4EB2F165667C5)


def _ragged_gather(buf: np.ndarray, src: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of ``buf[src[i]:src[i] + lens[i]]`` for every i (vectorised)."""
    keep = lens > 0
    if not keep.all():
        src, lens = src[keep], lens[keep]
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=buf.dtype)
    # index of every output byte as a cumulative sum of steps: +1 inside a piece, a jump between pieces
    starts = np.cumsum(lens[:-1])
    step = np.ones(total, dtype=np.int64)
    step[0] = src[0]
    step[starts] = src[1:] - (src[:-1] + lens[:-1] - 1)
    return buf[np.cumsum(step)]


@dataclass
class NgramBatch:
    """The n-grams of one batch for one n: sorted distinct keys, their counts, and their texts."""

    keys: np.ndarray       # uint64, sorted, unique
    counts: np.ndarray     # int64
    text_start: np.ndarray  # int64, into arena
    text_len: np.ndarray    # int64
    arena: np.ndarray      # uint8
    occurrences: int       # n-grams counted in the batch (all of them, known ones included)
    known_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # rows of ``known``
    known_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # and their counts


def ngram_keys(token_hashes: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit keys of every n-gram inside a document, and the index of its first token."""
    total_tokens = len(token_hashes)
    if n == 1:
        return token_hashes, np.arange(total_tokens, dtype=np.int64)
    doc_end = np.repeat(offsets[1:], np.diff(offsets))
    pos = np.flatnonzero(np.arange(total_tokens, dtype=np.int64) + (n - 1) < doc_end)
    mult = _MULT[:n] if n <= len(_MULT) else np.concatenate(
        [_MULT, np.random.default_rng(0x6E6772).integers(0, 1 << 63, n - len(_MULT), dtype=np.uint64) | np.uint64(1)])
    keys = token_hashes[pos] * mult[0]
    for i in range(1, n):
        keys += token_hashes[pos + i] * mult[i]
    keys ^= np.uint64(n) * _LEN
    return mix64(keys), pos


def ngram_batch(keys: np.ndarray, pos: np.ndarray, data: bytes, starts: np.ndarray, lengths: np.ndarray,
                n: int, known: np.ndarray | None = None) -> NgramBatch:
    """Distinct ``keys`` with their counts and texts; ``pos`` is each occurrence's first token, whose
    n tokens (byte spans ``starts``/``lengths`` into ``data``, see
    :func:`curadebt.text.wordhash.word_spans`) joined by single spaces are the n-gram's text.
    ``known``: the sorted keys already counted elsewhere: those of the batch are returned apart, as
    rows of ``known`` with their counts (``known_rows``, ``known_counts``), without their text."""
    occurrences = len(keys)
    if len(keys) == 0:
        e = np.empty(0, dtype=np.int64)
        return NgramBatch(np.empty(0, dtype=np.uint64), e, e, e, np.empty(0, dtype=np.uint8), occurrences)
    order, sk = argsort_u64(keys, return_sorted=True)
    head = np.flatnonzero(np.concatenate([[True], sk[1:] != sk[:-1]]))
    ukeys = sk[head]
    counts = np.diff(np.append(head, len(sk)))
    counts = counts.astype(np.int64, copy=False)
    t0 = pos[order[head]]
    known_rows = known_counts = np.empty(0, dtype=np.int64)
    if known is not None and len(known):
        i = np.searchsorted(known, ukeys)  # sorted needles: cheap
        np.minimum(i, len(known) - 1, out=i)
        need = known[i] != ukeys
        known_rows, known_counts = i[~need], counts[~need]
        ukeys, counts, t0 = ukeys[need], counts[need], t0[need]
    buf = np.frombuffer(data + b" ", dtype=np.uint8)
    k = len(t0)
    src = np.empty((k, 2 * n - 1), dtype=np.int64)  # pieces: token, space, token, ...
    ln = np.empty((k, 2 * n - 1), dtype=np.int64)
    for i in range(n):
        src[:, 2 * i] = starts[t0 + i]
        ln[:, 2 * i] = lengths[t0 + i]
        if i:
            src[:, 2 * i - 1] = len(data)
            ln[:, 2 * i - 1] = 1
    text_len = ln.sum(axis=1)
    text_start = np.zeros(k, dtype=np.int64)
    np.cumsum(text_len[:-1], out=text_start[1:])
    arena = _ragged_gather(buf, src.ravel(), ln.ravel())
    return NgramBatch(ukeys, counts, text_start, text_len, arena, occurrences, known_rows, known_counts)


@dataclass
class HashedNgramCounter:
    """Exact counts under a memory budget, degrading to Misra-Gries (the rules of BoundedCounter)."""

    budget: int
    slack: float = 1.5
    total: int = 0
    error: int = 0
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    text_start: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    text_len: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    arena: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint8))
    pending: list = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.error == 0

    def __len__(self) -> int:
        self._compact()
        return len(self.keys)

    # -- adding ------------------------------------------------------------------------------

    def count(self, data: bytes, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray,
              token_hashes: np.ndarray, n: int) -> None:
        """Count the n-grams of a batch of token spans: keys already in the main arrays are added in
        place; the others (with their texts) wait in a pending run."""
        keys, pos = ngram_keys(token_hashes, offsets, n)
        self.add(ngram_batch(keys, pos, data, starts, lengths, n, known=self.keys))

    def add(self, batch: NgramBatch) -> None:
        """Count one batch's n-grams (``known_rows`` must be rows of the current main arrays), then
        prune if the distinct count passed ``budget * slack``."""
        self.total += batch.occurrences
        if len(batch.known_rows):
            self.counts[batch.known_rows] += batch.known_counts  # distinct rows
        if len(batch.keys):
            self.pending.append(batch)
        bound = len(self.keys) + sum(len(p.keys) for p in self.pending)
        if bound > self.budget * self.slack or bound - len(self.keys) > max(4 * len(self.keys), 1 << 18):
            self._compact()
            self._maybe_prune()

    def _compact(self) -> None:
        """Merge the pending runs into the main sorted arrays."""
        if not self.pending:
            return
        runs, self.pending = self.pending, []
        if len(runs) == 1:
            p = runs[0]
            pk, pc, ps, pl, pa = p.keys, p.counts, p.text_start, p.text_len, p.arena
        else:  # combine the runs first: one sort over the pending keys only
            base = np.cumsum([0] + [len(r.arena) for r in runs[:-1]])
            k = np.concatenate([r.keys for r in runs])
            order, k = argsort_u64(k, return_sorted=True)
            c = np.concatenate([r.counts for r in runs])[order]
            s = np.concatenate([r.text_start + b for r, b in zip(runs, base)])[order]
            ln = np.concatenate([r.text_len for r in runs])[order]
            head = np.concatenate([[True], k[1:] != k[:-1]])
            first = np.flatnonzero(head)
            pk, pc, ps, pl = k[first], np.add.reduceat(c, first), s[first], ln[first]
            pa = np.concatenate([r.arena for r in runs])
        idx = np.searchsorted(self.keys, pk)
        found = np.zeros(len(pk), dtype=bool)
        inside = idx < len(self.keys)
        found[inside] = self.keys[idx[inside]] == pk[inside]
        if found.any():
            self.counts[idx[found]] += pc[found]  # distinct keys: no repeated index
        new = ~found
        if new.any():
            at = idx[new]
            base = len(self.arena)
            self.keys = np.insert(self.keys, at, pk[new])
            self.counts = np.insert(self.counts, at, pc[new])
            self.text_start = np.insert(self.text_start, at, ps[new] + base)
            self.text_len = np.insert(self.text_len, at, pl[new])
            self.arena = np.concatenate([self.arena, pa])
        self._maybe_shrink_arena()

    def _maybe_shrink_arena(self) -> None:
        live = int(self.text_len.sum())
        if len(self.arena) > 2 * live + (1 << 20):
            self.arena = _ragged_gather(self.arena, self.text_start, self.text_len)
            self.text_start = np.zeros(len(self.text_len), dtype=np.int64)
            np.cumsum(self.text_len[:-1], out=self.text_start[1:])

    def _maybe_prune(self) -> None:
        if len(self.keys) <= self.budget * self.slack:
            return
        # the (budget+1)-th largest count, as BoundedCounter: sorted(values, reverse=True)[budget]
        cut = int(-np.partition(-self.counts, self.budget)[self.budget])
        self.error += cut
        keep = self.counts > cut
        self.keys, self.text_start, self.text_len = self.keys[keep], self.text_start[keep], self.text_len[keep]
        self.counts = self.counts[keep] - cut
        self._maybe_shrink_arena()

    def merge(self, other: "HashedNgramCounter") -> "HashedNgramCounter":
        self._compact()
        other._compact()
        out = HashedNgramCounter(self.budget, self.slack, self.total + other.total, self.error + other.error,
                                 self.keys.copy(), self.counts.copy(), self.text_start.copy(), self.text_len.copy(),
                                 self.arena.copy())
        if len(other.keys):
            out.pending.append(NgramBatch(other.keys, other.counts, other.text_start, other.text_len, other.arena, 0))
        out._compact()
        out._maybe_prune()
        return out

    # -- reading -----------------------------------------------------------------------------

    def text(self, i: int) -> str:
        s = int(self.text_start[i])
        return self.arena[s:s + int(self.text_len[i])].tobytes().decode("utf-8", "surrogatepass")

    def sorted_counts(self) -> np.ndarray:
        """All counts, largest first."""
        self._compact()
        return np.sort(self.counts)[::-1]

    def top(self, k: int) -> list[tuple[str, int]]:
        """The k most frequent n-grams, by count descending then text ascending (as ``top_items``)."""
        self._compact()
        if k <= 0 or len(self.counts) == 0:
            return []
        if k < len(self.counts):
            kth = int(-np.partition(-self.counts, k - 1)[k - 1])
            cand = np.flatnonzero(self.counts >= kth)
        else:
            cand = np.arange(len(self.counts))
        items = [(self.text(i), int(self.counts[i])) for i in cand.tolist()]
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        return items[:k]

    def to_bounded(self) -> BoundedCounter:
        """The same state as a BoundedCounter (string keys), e.g. to continue with another tokenizer."""
        self._compact()
        counts = Counter({self.text(i): int(c) for i, c in enumerate(self.counts.tolist())})
        return BoundedCounter(self.budget, counts, self.total, self.error, self.slack)


__all__ = ["HashedNgramCounter", "NgramBatch", "ngram_batch", "ngram_keys"]
