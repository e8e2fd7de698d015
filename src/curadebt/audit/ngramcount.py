"""Counting n-grams by 64-bit hash in numpy arrays, with the n-gram text kept as UTF-8 bytes.

:class:`HashedNgramCounter` gives exactly the results of :class:`curadebt.audit.sketch.BoundedCounter`
fed with the space-joined n-gram strings (same totals, distinct counts, Misra-Gries pruning points,
cuts and error bounds, and the same top items with ties broken by the string), without a Python
object per n-gram. Keys are 64-bit hashes of the token-hash sequence, so two different n-grams
would only be merged on a 64-bit collision (probability about ``d**2 / 2**65`` for ``d`` distinct
n-grams: ~3e-6 for 10 million). A new key at first keeps only the place of its first token in
the batch it came from (the counter holds that batch's bytes and 32-bit token spans, shared by the
counters of every n); its text is copied into a byte arena only when needed: for the survivors of a
prune, for the top n-grams, to merge or pickle, or when the batches held outgrow the counts
(``4 * keys + 8M`` tokens). The top n-grams are decoded at the end only.

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
    # index of every output byte as a cumulative sum of steps: +1 inside a piece, a jump between
    # pieces (32-bit when the buffer allows: half the memory traffic)
    idx = np.int32 if len(buf) < (1 << 31) - 1 else np.int64
    starts = np.cumsum(lens[:-1])
    step = np.ones(total, dtype=idx)
    step[0] = src[0]
    step[starts] = src[1:] - (src[:-1] + lens[:-1] - 1)
    return buf[np.cumsum(step, dtype=idx)]


def ngram_texts(data: bytes, starts: np.ndarray, lengths: np.ndarray, t0: np.ndarray,
                n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts of the n-grams beginning at tokens ``t0`` (their n tokens joined by single spaces) as
    ``(text_start, text_len, arena)``: text i is ``arena[text_start[i]:text_start[i] + text_len[i]]``."""
    buf = np.frombuffer(data + b" ", dtype=np.uint8)
    k = len(t0)
    tok_s = [starts[t0 + i] for i in range(n)]
    tok_l = [lengths[t0 + i] for i in range(n)]
    text_len = tok_l[0].copy() if n > 1 else tok_l[0]
    whole = np.ones(k, dtype=bool)  # the n-gram's tokens stand in the text separated by single spaces
    for i in range(1, n):
        text_len += tok_l[i] + 1
        gap = tok_s[i - 1] + tok_l[i - 1]
        whole &= tok_s[i] == gap + 1
        whole &= buf[gap] == 32
    text_start = np.empty(k, dtype=np.int64)
    if k == 0:
        return text_start, text_len, np.empty(0, dtype=np.uint8)
    if whole.all():  # every n-gram is one piece of the text
        text_start[0] = 0
        np.cumsum(text_len[:-1], out=text_start[1:])
        arena = _ragged_gather(buf, tok_s[0], text_len)
    else:
        # one piece of the text for each whole n-gram, then 2n - 1 (token, space, token, ...) for the others
        w, rest = np.flatnonzero(whole), np.flatnonzero(~whole)
        wl, rl = text_len[w], text_len[rest]
        pos_w = np.cumsum(wl)
        text_start[w] = pos_w - wl
        text_start[rest] = (pos_w[-1] if len(w) else 0) + np.cumsum(rl) - rl
        src = np.empty((len(rest), 2 * n - 1), dtype=np.int64)
        ln = np.ones((len(rest), 2 * n - 1), dtype=np.int64)
        src[:, 1::2] = len(data)
        for i in range(n):
            src[:, 2 * i] = tok_s[i][rest]
            ln[:, 2 * i] = tok_l[i][rest]
        arena = np.concatenate([_ragged_gather(buf, tok_s[0][w], wl), _ragged_gather(buf, src.ravel(), ln.ravel())])
    return text_start, text_len, arena


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
                n: int, known: np.ndarray | None = None, texts: bool = True) -> NgramBatch:
    """Distinct ``keys`` with their counts and texts; ``pos`` is each occurrence's first token, whose
    n tokens (byte spans ``starts``/``lengths`` into ``data``, see
    :func:`curadebt.text.wordhash.word_spans`) joined by single spaces are the n-gram's text.
    ``known``: the sorted keys already counted elsewhere: those of the batch are returned apart, as
    rows of ``known`` with their counts (``known_rows``, ``known_counts``), without their text.
    Without ``texts``, ``text_start`` is each n-gram's first token (``pos``) and ``text_len`` -1."""
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
    if not texts:  # the first token of each n-gram stands for its text (see HashedNgramCounter)
        return NgramBatch(ukeys, counts, t0, np.full(len(t0), -1, dtype=np.int64), np.empty(0, dtype=np.uint8),
                          occurrences, known_rows, known_counts)
    text_start, text_len, arena = ngram_texts(data, starts, lengths, t0, n)
    return NgramBatch(ukeys, counts, text_start, text_len, arena, occurrences, known_rows, known_counts)


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
    n: int = 0
    # batches whose texts are not copied yet: (data, starts, lengths), the global index of their
    # first token, and the tokens held; a row with text_len -1 has its first token's global index
    # in text_start instead of a place in the arena
    sources: list = field(default_factory=list)
    source_base: list = field(default_factory=list)
    source_tokens: int = 0

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
        if self.n and n != self.n and self.sources:
            self._materialise()
        self.n = n
        spans = _held_spans(data, starts, lengths)
        if not self.sources or self.sources[-1] is not spans:  # the same batch counted for another n
            self.sources.append(spans)
            self.source_base.append(self.source_tokens)
            self.source_tokens += len(starts)
        keys, pos = ngram_keys(token_hashes, offsets, n)
        batch = ngram_batch(keys, pos, data, starts, lengths, n, known=self.keys, texts=False)
        batch.text_start += self.source_base[-1]
        self.add(batch)
        if self.sources and self.source_tokens > 4 * (len(self.keys) + sum(len(p.keys) for p in self.pending)) + (1 << 23):
            self._materialise()  # bound the batches held to the size of the counts

    def _materialise(self, rows: np.ndarray | None = None) -> None:
        """Copy the texts of ``rows`` (default: all, then the batches are let go) into the arena."""
        if rows is None:
            self._compact()
            lazy = np.flatnonzero(self.text_len < 0)
        else:
            lazy = rows[self.text_len[rows] < 0]
        if len(lazy):
            bases = np.asarray(self.source_base, dtype=np.int64)
            src = np.searchsorted(bases, self.text_start[lazy], side="right") - 1
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
                ts, tl, ar = ngram_texts(data, starts, lengths, self.text_start[sel] - self.source_base[si], self.n)
                self.text_start[sel] = ts + base
                self.text_len[sel] = tl
                base += len(ar)
                parts.append(ar)
            self.arena = np.concatenate(parts)
        if rows is None:
            self.sources, self.source_base, self.source_tokens = [], [], 0

    def __getstate__(self):
        self._materialise()
        return self.__dict__.copy()

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
            s = np.concatenate([np.where(r.text_len >= 0, r.text_start + b, r.text_start)
                                for r, b in zip(runs, base)])[order]
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
            # as np.insert at idx[new] (nondecreasing), with the places worked out once for the four arrays
            at = idx[new]
            base = len(self.arena)
            place = at + np.arange(len(at))
            old = np.ones(len(self.keys) + len(at), dtype=bool)
            old[place] = False

            def insert(arr, values):
                out = np.empty(len(old), dtype=arr.dtype)
                out[place] = values
                out[old] = arr
                return out

            self.keys = insert(self.keys, pk[new])
            self.counts = insert(self.counts, pc[new])
            self.text_start = insert(self.text_start, np.where(pl[new] >= 0, ps[new] + base, ps[new]))
            self.text_len = insert(self.text_len, pl[new])
            self.arena = np.concatenate([self.arena, pa])
        self._maybe_shrink_arena()

    def _maybe_shrink_arena(self) -> None:
        copied = np.flatnonzero(self.text_len >= 0)
        ln = self.text_len[copied]
        live = int(ln.sum())
        if len(self.arena) > 2 * live + (1 << 20):
            self.arena = _ragged_gather(self.arena, self.text_start[copied], ln)
            ts = np.zeros(len(copied), dtype=np.int64)
            np.cumsum(ln[:-1], out=ts[1:])
            self.text_start[copied] = ts

    def _maybe_prune(self) -> None:
        if len(self.keys) <= self.budget * self.slack:
            return
        # the (budget+1)-th largest count, as BoundedCounter: sorted(values, reverse=True)[budget]
        cut = int(-np.partition(-self.counts, self.budget)[self.budget])
        self.error += cut
        keep = self.counts > cut
        self.keys, self.text_start, self.text_len = self.keys[keep], self.text_start[keep], self.text_len[keep]
        self.counts = self.counts[keep] - cut
        self._materialise()  # the survivors' texts: the batches are let go
        self._maybe_shrink_arena()

    def merge(self, other: "HashedNgramCounter") -> "HashedNgramCounter":
        self._materialise()
        other._materialise()
        out = HashedNgramCounter(self.budget, self.slack, self.total + other.total, self.error + other.error,
                                 self.keys.copy(), self.counts.copy(), self.text_start.copy(), self.text_len.copy(),
                                 self.arena.copy(), n=self.n or other.n)
        if len(other.keys):
            out.pending.append(NgramBatch(other.keys, other.counts, other.text_start, other.text_len, other.arena, 0))
        out._compact()
        out._maybe_prune()
        return out

    # -- reading -----------------------------------------------------------------------------

    def text(self, i: int) -> str:
        if self.text_len[i] < 0:
            self._materialise(np.array([i], dtype=np.int64))
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
        self._materialise(cand)
        items = [(self.text(i), int(self.counts[i])) for i in cand.tolist()]
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        return items[:k]

    def to_bounded(self) -> BoundedCounter:
        """The same state as a BoundedCounter (string keys), e.g. to continue with another tokenizer."""
        self._materialise()
        counts = Counter({self.text(i): int(c) for i, c in enumerate(self.counts.tolist())})
        return BoundedCounter(self.budget, counts, self.total, self.error, self.slack)


__all__ = ["HashedNgramCounter", "NgramBatch", "ngram_batch", "ngram_keys", "ngram_texts"]
