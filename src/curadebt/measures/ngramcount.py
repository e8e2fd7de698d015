"""Counting n-grams by 64-bit hash in a count table, with the n-gram text kept as UTF-8 bytes.

:class:`HashedNgramCounter` gives exactly the results of :class:`curadebt.measures.sketch.BoundedCounter`
fed with the space-joined n-gram strings (same totals, distinct counts, Misra-Gries pruning points,
cuts and error bounds, and the same top items with ties broken by the string), without a Python
object per n-gram. Keys are 64-bit hashes of the token-hash sequence, so two different n-grams
would only be merged on a 64-bit collision (probability about ``d**2 / 2**65`` for ``d`` distinct
n-grams: ~3e-6 for 10 million).

The keys are computed and counted in one compiled loop per batch (:mod:`curadebt.measures.counttable`):
a hash index from key to row over dense arrays (keys, counts, text place), rows in order of first
appearance. A new key at first keeps only the place of its first token in the batch it came from
(the counter holds that batch's bytes and 32-bit token spans, shared by the counters of every n);
its text is copied into a byte arena only when needed: for the survivors of a prune, for the top
n-grams, to merge or pickle, or when the batches held outgrow the counts (``4 * keys + 8M``
tokens). The top n-grams are decoded at the end only. After every batch, more than
``budget * slack`` distinct keys trigger a prune, as BoundedCounter decides after every update.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from curadebt.core.ragged import gather
from curadebt.measures import counttable
from curadebt.measures.minhash import LEN_MULT, sequence_multipliers
from curadebt.measures.sketch import BoundedCounter



def ragged_gather(buf: np.ndarray, src: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of ``buf[src[i]:src[i] + lens[i]]`` for every i (:func:`curadebt.core.ragged.gather`)."""
    return gather(buf, src, lens)


def ngram_texts(data: bytes, starts: np.ndarray, lengths: np.ndarray, t0: np.ndarray,
                n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts of the n-grams beginning at tokens ``t0`` (their n tokens joined by single spaces) as
    ``(text_start, text_len, arena)``: text i is ``arena[text_start[i]:text_start[i] + text_len[i]]``
    (one compiled loop: 3-4x the speed of gathering the pieces with numpy)."""
    return counttable.join_tokens(np.frombuffer(data, dtype=np.uint8), starts, lengths,
                                  np.ascontiguousarray(t0, dtype=np.int64), int(n))


_HELD: list = [None]  # the last batch's spans as held, shared by the counters of n = 1, 2, 3


def _held_spans(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> tuple:
    """``(data, starts, lengths)`` as a counter holds them until their texts are copied: 32-bit
    spans where they fit (half the memory), one copy for all counters fed the same batch."""
    held = _HELD[0]
    if held is not None and held[0] is data and held[1] is starts and held[2] is lengths:
        return held[3]
    if len(data) < (1 << 31) - 1:
        spans = (data, starts.astype(np.int32), lengths.astype(np.int32))
    else:
        spans = (data, starts, lengths)
    _HELD[0] = (data, starts, lengths, spans)
    return spans


def _grown(arr: np.ndarray, live: int, size: int) -> np.ndarray:
    """A writable array of ``size`` entries starting with ``arr[:live]``."""
    out = np.empty(size, dtype=arr.dtype)
    out[:live] = arr[:live]
    return out


_ROW_ARRAYS = ("_keys", "_counts", "_text_start", "_text_len")


@dataclass
class HashedNgramCounter:
    """Exact counts under a memory budget, degrading to Misra-Gries (the rules of BoundedCounter)."""

    budget: int
    slack: float = 1.5
    total: int = 0
    error: int = 0
    n: int = 0
    # row i (i < rows) is one distinct key: its count, and its text ``arena[text_start:text_start +
    # text_len]``; text_len -1 means not copied yet: text_start is then the global index of the
    # n-gram's first token among the batches held (``sources``). The arrays have spare room past rows.
    rows: int = 0
    _keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    _counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _text_start: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _text_len: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    arena: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint8))
    # the hash index over the rows (slot_keys, slot_rows); None until needed (not pickled)
    _index: tuple | None = None
    # batches whose texts are not copied yet: (data, starts, lengths), the global index of their
    # first token, and the tokens held
    sources: list = field(default_factory=list)
    source_base: list = field(default_factory=list)
    source_tokens: int = 0

    @property
    def exact(self) -> bool:
        return self.error == 0

    def __len__(self) -> int:
        return self.rows

    @property
    def keys(self) -> np.ndarray:
        return self._keys[:self.rows]

    @property
    def counts(self) -> np.ndarray:
        return self._counts[:self.rows]

    @property
    def text_start(self) -> np.ndarray:
        return self._text_start[:self.rows]

    @property
    def text_len(self) -> np.ndarray:
        return self._text_len[:self.rows]

    # -- adding ------------------------------------------------------------------------------

    def _make_room(self, extra: int) -> None:
        """Room for ``extra`` more rows in the arrays and the index (arrays made writable: they
        may come read-only from another process)."""
        need = self.rows + extra
        if need > len(self._keys) or not all(getattr(self, a).flags.writeable for a in _ROW_ARRAYS):
            size = max(need, len(self._keys) * 3 // 2, 1 << 12)
            for a in _ROW_ARRAYS:
                setattr(self, a, _grown(getattr(self, a), self.rows, size))
        if self._index is None or need > counttable.index_capacity(len(self._index[0])):
            self._index = counttable.build_index(self._keys, self.rows, need)

    def count(self, data: bytes, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray,
              token_hashes: np.ndarray, n: int) -> None:
        """Count the n-grams of a batch of token spans (see :func:`curadebt.text.wordhash.word_spans`),
        then prune if the distinct count passed ``budget * slack``."""
        if self.n and n != self.n and self.sources:
            self._materialise()
        self.n = n
        spans = _held_spans(data, starts, lengths)
        if not self.sources or self.sources[-1] is not spans:  # the same batch counted for another n
            self.sources.append(spans)
            self.source_base.append(self.source_tokens)
            self.source_tokens += len(starts)
        before, done = self.rows, 0
        # n-gram key = fmix64(sum_i h(t_i) * M_i ^ n * L): the combination of minhash's shingle keys
        mult, salt = sequence_multipliers(n), np.uint64(n) * LEN_MULT
        self._make_room(0)
        while True:
            self.rows, done, todo = counttable.count_ngrams(
                token_hashes, offsets, n, mult, salt, done, *self._index,
                self._keys, self._counts, self._text_start, self.rows, self.source_base[-1])
            if done == todo:
                break
            self._make_room(1)  # full (rows or index): grows the arrays by half, the index 2x
        self._text_len[before:self.rows] = -1
        self.total += todo
        self._maybe_prune()
        if self.sources and self.source_tokens > 4 * self.rows + (1 << 23):
            self._materialise()  # bound the batches held to the size of the counts

    def _materialise(self, rows: np.ndarray | None = None) -> None:
        """Copy the texts of ``rows`` (default: all, then the batches are let go) into the arena."""
        text_start, text_len = self.text_start, self.text_len
        lazy = np.flatnonzero(text_len < 0) if rows is None else rows[text_len[rows] < 0]
        if len(lazy):
            bases = np.asarray(self.source_base, dtype=np.int64)
            src = np.searchsorted(bases, text_start[lazy], side="right") - 1
            if len(bases) < (1 << 15):
                src = src.astype(np.int16)  # a radix sort
            order = np.argsort(src, kind="stable")
            lazy = lazy[order]  # grouped by batch
            cut = np.searchsorted(src[order], np.arange(len(bases)), side="left").tolist() + [len(lazy)]
            parts, base = [self.arena], len(self.arena)
            for si in range(len(bases)):
                sel = lazy[cut[si]:cut[si + 1]]
                if not len(sel):
                    continue
                data, starts, lengths = self.sources[si]
                ts, tl, ar = ngram_texts(data, starts, lengths, text_start[sel] - self.source_base[si], self.n)
                text_start[sel] = ts + base
                text_len[sel] = tl
                base += len(ar)
                parts.append(ar)
            self.arena = np.concatenate(parts)
        if rows is None:
            self.sources, self.source_base, self.source_tokens = [], [], 0

    def __getstate__(self):
        self._materialise()
        state = self.__dict__.copy()
        for a in _ROW_ARRAYS:  # without the spare room or the index
            state[a] = getattr(self, a)[:self.rows].copy()
        state["_index"] = None
        return state

    def _maybe_shrink_arena(self) -> None:
        copied = np.flatnonzero(self.text_len >= 0)
        ln = self.text_len[copied]
        live = int(ln.sum())
        if len(self.arena) > 2 * live + (1 << 20):
            self.arena = ragged_gather(self.arena, self.text_start[copied], ln)
            ts = np.zeros(len(copied), dtype=np.int64)
            np.cumsum(ln[:-1], out=ts[1:])
            self.text_start[copied] = ts

    def _maybe_prune(self) -> None:
        if self.rows <= self.budget * self.slack:
            return
        counts = self.counts
        # the (budget+1)-th largest count, as BoundedCounter: sorted(values, reverse=True)[budget]
        cut = int(-np.partition(-counts, self.budget)[self.budget])
        self.error += cut
        keep = np.flatnonzero(counts > cut)
        self._keys, self._text_start, self._text_len = self.keys[keep], self.text_start[keep], self.text_len[keep]
        self._counts = counts[keep] - cut
        self.rows = len(keep)
        self._index = None  # rebuilt for the survivors on the next count
        self._materialise()  # the survivors' texts: the batches are let go
        self._maybe_shrink_arena()

    def merge(self, other: "HashedNgramCounter") -> "HashedNgramCounter":
        """The counts of both (neither changes, apart from copying their pending texts)."""
        self._materialise()
        out = HashedNgramCounter(self.budget, self.slack, self.total, self.error, self.n, self.rows,
                                 arena=self.arena.copy())
        for a in _ROW_ARRAYS:
            setattr(out, a, _grown(getattr(self, a), self.rows, self.rows + other.rows))
        return out.absorb(other)

    def absorb(self, other: "HashedNgramCounter") -> "HashedNgramCounter":
        """Add ``other``'s counts to this counter, in place (``merge`` without copying this one:
        for a counter nobody else holds, as an engine task's); returns it."""
        self._materialise()
        other._materialise()
        self.total += other.total
        self.error += other.error
        self.n = self.n or other.n
        self._make_room(other.rows)
        before = self.rows
        self.rows, new = counttable.add_counts(other.keys, other.counts, *self._index, self._keys, self._counts,
                                               self.rows)
        self._text_start[before:self.rows] = other.text_start[new] + len(self.arena)
        self._text_len[before:self.rows] = other.text_len[new]
        self.arena = np.concatenate([self.arena, other.arena])
        self._maybe_prune()
        self._maybe_shrink_arena()
        return self

    # -- reading -----------------------------------------------------------------------------

    def text(self, i: int) -> str:
        if self.text_len[i] < 0:
            self._materialise(np.array([i], dtype=np.int64))
        s = int(self.text_start[i])
        return self.arena[s:s + int(self.text_len[i])].tobytes().decode("utf-8", "surrogatepass")

    def sorted_counts(self) -> np.ndarray:
        """All counts, largest first."""
        return np.sort(self.counts)[::-1]

    def top(self, k: int) -> list[tuple[str, int]]:
        """The k most frequent n-grams, by count descending then text ascending (as ``top_items``)."""
        counts = self.counts
        if k <= 0 or len(counts) == 0:
            return []
        if k < len(counts):
            kth = int(-np.partition(-counts, k - 1)[k - 1])
            cand = np.flatnonzero(counts >= kth)
        else:
            cand = np.arange(len(counts))
        self._materialise(cand)
        items = [(self.text(i), int(counts[i])) for i in cand.tolist()]
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        return items[:k]

    def to_bounded(self) -> BoundedCounter:
        """The same state as a BoundedCounter (string keys), e.g. to continue with another tokenizer."""
        self._materialise()
        counts = Counter({self.text(i): int(c) for i, c in enumerate(self.counts.tolist())})
        return BoundedCounter(self.budget, counts, self.total, self.error, self.slack)


__all__ = ["HashedNgramCounter", "ngram_texts", "ragged_gather"]
