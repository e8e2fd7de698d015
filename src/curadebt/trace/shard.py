"""One shard of a token index: its memory-mapped tokens and suffix array, the vectorised search
over them (``K_PROBES`` evenly spaced probes a round, see :mod:`curadebt.trace.index`), and its documents."""
from __future__ import annotations

from pathlib import Path

import numpy as np

K_PROBES = 64


class Shard:
    def __init__(self, folder: Path, meta: dict):
        self.folder = folder
        self.meta = meta
        self.n = int(meta["n_tokens"])
        self.n_docs = int(meta["n_docs"])
        self.doc_base = int(meta["doc_base"])
        self.sep = int(meta["separator"])
        self.sources = list(meta.get("sources", []))
        self.tokens = np.memmap(folder / "tokens.bin", dtype=np.dtype(meta["dtype"]), mode="r", shape=(self.n,)).view(np.ndarray)
        self.sa = np.memmap(folder / "sa.bin", dtype=np.dtype(meta["sa_dtype"]), mode="r", shape=(self.n,)).view(np.ndarray)
        self.doc_starts = np.load(folder / "doc_starts.npy", mmap_mode="r")
        self._doc_id_off = np.load(folder / "doc_ids.npy", mmap_mode="r")
        self._doc_id_blob = np.memmap(folder / "doc_ids.bin", dtype=np.uint8, mode="r") if self._doc_id_off[-1] > 0 else np.zeros(0, np.uint8)
        self._sources = np.load(folder / "sources.npy", mmap_mode="r")
        self.has_text = bool(meta.get("text")) and (folder / "text.bin").exists()
        if self.has_text:
            self._text_off = np.load(folder / "text.npy", mmap_mode="r")
            self._text_blob = np.memmap(folder / "text.bin", dtype=np.uint8, mode="r") if self._text_off[-1] > 0 else np.zeros(0, np.uint8)
        self._ar = np.arange(0, 1, dtype=np.int64)

    # -- comparisons -------------------------------------------------------------------------

    def _arange(self, m: int) -> np.ndarray:
        if len(self._ar) < m:
            self._ar = np.arange(max(m, 2 * len(self._ar)), dtype=np.int64)
        return self._ar[:m]

    def _cmp(self, probes: np.ndarray, q: np.ndarray, depth: int) -> np.ndarray:
        """Sign of (suffix at SA[probes], skipping ``depth`` tokens, truncated to len(q)) - q."""
        m = len(q)
        idx = self.sa[probes].astype(np.int64)
        if depth:
            idx += depth
        idx = idx[:, None] + self._arange(m)
        np.minimum(idx, self.n - 1, out=idx)  # past the end: the final separator (> every token)
        win = self.tokens[idx]
        ne = win != q
        first = ne.argmax(axis=1)
        rows = np.arange(len(probes))
        diff = ne[rows, first]
        gt = win[rows, first] > q[first]
        return np.where(diff, np.where(gt, 1, -1), 0)

    def _bound(self, q: np.ndarray, lo: int, hi: int, depth: int, strict: bool) -> int:
        """First i in [lo, hi) whose cmp is > 0 (strict) or >= 0; hi when none."""
        K = K_PROBES
        while hi - lo > K:
            probes = lo + (np.arange(1, K + 1, dtype=np.int64) * (hi - lo)) // (K + 1)
            c = self._cmp(probes, q, depth)
            t = c > 0 if strict else c >= 0
            f = int(t.argmax()) if t.any() else K
            if f == K:
                lo = int(probes[-1]) + 1
            else:
                hi = int(probes[f])
                if f > 0:
                    lo = int(probes[f - 1]) + 1
        if hi <= lo:
            return lo
        c = self._cmp(np.arange(lo, hi, dtype=np.int64), q, depth)
        return lo + int(np.count_nonzero(c <= 0 if strict else c < 0))

    def range(self, q: np.ndarray, lo: int = 0, hi: int | None = None, depth: int = 0) -> tuple[int, int]:
        """SA interval [a, b) of the suffixes in [lo, hi) whose tokens depth..depth+len(q) equal q.

        Within [lo, hi) all suffixes must already share their first ``depth`` tokens.
        """
        hi = self.n if hi is None else hi
        if len(q) == 0:
            return lo, hi
        K = K_PROBES
        while hi - lo > K:
            probes = lo + (np.arange(1, K + 1, dtype=np.int64) * (hi - lo)) // (K + 1)
            c = self._cmp(probes, q, depth)
            a = int(np.count_nonzero(c < 0))  # probes are sorted: c is non-decreasing
            b = int(np.count_nonzero(c <= 0))
            if a == b:  # no probe equals q: both ends lie in the same gap
                new_lo = int(probes[a - 1]) + 1 if a > 0 else lo
                hi = int(probes[a]) if a < K else hi
                lo = new_lo
                continue
            left = self._bound(q, int(probes[a - 1]) + 1 if a > 0 else lo, int(probes[a]), depth, strict=False)
            right = self._bound(q, int(probes[b - 1]) + 1, int(probes[b]) if b < K else hi, depth, strict=True)
            return left, right
        if hi <= lo:
            return lo, lo
        c = self._cmp(np.arange(lo, hi, dtype=np.int64), q, depth)
        return lo + int(np.count_nonzero(c < 0)), lo + int(np.count_nonzero(c <= 0))

    def count_many(self, queries: np.ndarray) -> np.ndarray:
        """Occurrences of each row of ``queries`` (shape [q, m], int64), all searched at once: one
        vectorised binary search per bound over every query (about 2 x log2(n) gathers of q x m
        tokens), instead of q searches one after the other. A row holding an id this shard cannot
        hold (negative, or >= its separator) counts 0."""
        q, m = queries.shape
        out = np.zeros(q, dtype=np.int64)
        ok = (queries >= 0).all(axis=1) & (queries < self.sep).all(axis=1) if m else np.ones(q, dtype=bool)
        rows = np.flatnonzero(ok)
        if len(rows) == 0 or self.n == 0:
            return out
        Q = queries[rows]
        ar = np.arange(m, dtype=np.int64)

        def sign(pos: np.ndarray, sel: np.ndarray) -> np.ndarray:
            idx = self.sa[pos].astype(np.int64)[:, None] + ar
            np.minimum(idx, self.n - 1, out=idx)  # past the end: the final separator (> every token)
            win = self.tokens[idx]
            qq = Q[sel]
            ne = win != qq
            first = ne.argmax(axis=1)
            r = np.arange(len(pos))
            diff = ne[r, first]
            return np.where(diff, np.where(win[r, first] > qq[r, first], 1, -1), 0)

        def bound(strict: bool) -> np.ndarray:
            lo = np.zeros(len(rows), dtype=np.int64)
            hi = np.full(len(rows), self.n, dtype=np.int64)
            while True:
                act = np.flatnonzero(lo < hi)
                if len(act) == 0:
                    return lo
                mid = (lo[act] + hi[act]) // 2
                c = sign(mid, act)
                below = c <= 0 if strict else c < 0
                lo[act[below]] = mid[below] + 1
                hi[act[~below]] = mid[~below]

        out[rows] = bound(True) - bound(False)
        return out

    def safe_range(self, q: np.ndarray, lo: int = 0, hi: int | None = None, depth: int = 0) -> tuple[int, int]:
        """:meth:`range`, empty when q holds an id this shard cannot hold (>= its separator)."""
        if len(q) and int(q.max()) >= self.sep:
            return lo, lo
        return self.range(q, lo, hi, depth)

    # -- documents ---------------------------------------------------------------------------

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.doc_starts, positions, side="right") - 1

    def doc_id(self, local: int) -> str:
        a, b = int(self._doc_id_off[local]), int(self._doc_id_off[local + 1])
        return bytes(self._doc_id_blob[a:b]).decode("utf-8", "surrogatepass")

    def doc_source(self, local: int) -> str | None:
        code = int(self._sources[local])
        return None if code < 0 else self.sources[code]

    def doc_text(self, local: int) -> str | None:
        if not self.has_text:
            return None
        a, b = int(self._text_off[local]), int(self._text_off[local + 1])
        return bytes(self._text_blob[a:b]).decode("utf-8", "surrogatepass")

    def doc_tokens(self, local: int) -> np.ndarray:
        return np.asarray(self.tokens[int(self.doc_starts[local]):int(self.doc_starts[local + 1]) - 1], dtype=np.int64)
