"""Query a token index: counts, documents, next-token distributions, maximal spans.

Every query is a search over each shard's suffix array; the answers of the shards add up.
The search is vectorised with numpy on the memory-mapped arrays: each round reads ``K`` evenly
spaced suffixes of the current interval at once (one fancy-index gather of a ``K x len(query)``
window), compares them with the query lexicographically in one go, and shrinks the interval by a
factor ``K + 1``. With ``K = 64`` a shard of 100M tokens needs about 5 rounds; both ends of the
matching interval are found together while no probe equals the query.

>>> idx = TokenIndex.open("idx")                       # doctest: +SKIP
>>> idx.count("to be or not")                          # doctest: +SKIP
>>> idx.documents("to be or not", limit=5)             # doctest: +SKIP
>>> idx.next_tokens("to be or", k=5)                   # doctest: +SKIP
>>> idx.maximal_spans("some model output", min_len=2)  # doctest: +SKIP
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from curadebt.core.config import setting
from curadebt.core.errors import EXIT_INPUT, CuradebtError
from curadebt.trace.build import FORMAT, FORMAT_VERSION
from curadebt.trace.results import DocHit, DocumentsResult, NextToken, NextTokens, Span, SpansResult
from curadebt.trace.shard import Shard
from curadebt.trace.vocab import IdTokenizer, load_id_tokenizer

# Maximal spans whose span unigram probability is above this are dropped as "too likely to be a
# coincidence" (see docs/trace.md): 1e-10 is roughly five everyday words in a row.
DEFAULT_MAX_UNIGRAM_PROB = 1e-10
DEFAULT_MIN_SPAN_TOKENS = 2

Query = str | Sequence[int] | np.ndarray


@dataclass
class SpanFilter:
    """Which maximal spans :meth:`TokenIndex.maximal_spans` keeps (the OLMoTrace rules)."""

    min_len: int = setting(DEFAULT_MIN_SPAN_TOKENS, help="Drop spans shorter than this (tokens).")
    max_count: int | None = setting(None, help="Drop spans occurring more often than this.")
    max_prob: float = setting(DEFAULT_MAX_UNIGRAM_PROB, help="Keep spans whose span unigram probability is below "
                                                             "this (0: no filter).")
    top_fraction: float | None = setting(None, help="OLMoTrace rule: keep only the ceil(f x tokens) least likely "
                                                    "spans.")

    def kwargs(self) -> dict:
        """The keyword arguments of :meth:`TokenIndex.maximal_spans`."""
        return {"min_len": self.min_len, "max_count": self.max_count, "max_unigram_prob": self.max_prob or None,
                "top_fraction": self.top_fraction}


class IndexError_(CuradebtError):
    """The folder is not a readable curadebt token index."""

    exit_code = EXIT_INPUT


# --------------------------------------------------------------------------------------------
# the index


class TokenIndex:
    """A built index (see :mod:`curadebt.trace.build`); open with :meth:`TokenIndex.open`."""

    def __init__(self, path: Path, info: dict, tokenizer: IdTokenizer, shards: list[Shard], unigram: np.ndarray):
        self.path = path
        self.info = info
        self.tokenizer = tokenizer
        self.shards = shards
        self.unigram = unigram
        self.n_tokens = int(info["tokens"])
        self.n_docs = int(info["documents"])
        self._doc_bases = np.asarray([s.doc_base for s in shards], dtype=np.int64)

    @classmethod
    def open(cls, path: str | os.PathLike, verify: bool = False) -> "TokenIndex":
        """Open an index. Every file's size is checked against the index's manifest and the
        tokenizer files against their checksum (a truncated file or a vocabulary from another index
        is refused, never read as wrong counts); ``verify`` checks every file's checksum too."""
        from curadebt.corpus.outdir import MANIFEST, verify_output
        from curadebt.trace.build import tokenizer_checksum

        path = Path(path)
        f = path / "index.json"
        if not f.exists():
            raise IndexError_(f"{path}: no index.json; build one with `curadebt index build CORPUS --out {path}`")
        try:
            info = json.loads(f.read_text())
        except (OSError, ValueError) as e:
            raise IndexError_(f"{path}: index.json is unreadable ({e}); rebuild the index") from e
        if info.get("format") != FORMAT or int(info.get("format_version", 0)) > FORMAT_VERSION:
            raise IndexError_(f"{path}: not a curadebt token index of a version this code reads")
        if (path / MANIFEST).exists() or verify:
            problems = verify_output(path, checksums=verify)
            if problems:
                more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
                raise IndexError_(f"{path}: the index's files do not match its manifest: {'; '.join(problems[:3])}"
                                  f"{more}; rebuild it with `curadebt index build ... --out {path} --force`")
        want = info.get("tokenizer_xxh3_128")
        if want is not None and tokenizer_checksum(path / "tokenizer") != want:
            raise IndexError_(f"{path}: the tokenizer files are not the ones this index was built with (another "
                              "index's vocabulary?); counts would be wrong: rebuild the index")
        tok = load_id_tokenizer(path / "tokenizer", info["tokenizer"])
        shards = [Shard(path / s["dir"], s) for s in info["shards"]]
        unigram = np.load(path / "unigram.npy", mmap_mode="r")
        return cls(path, info, tok, shards, unigram)

    def __repr__(self) -> str:
        return f"TokenIndex({str(self.path)!r}, documents={self.n_docs:,}, tokens={self.n_tokens:,}, shards={len(self.shards)})"

    # -- helpers -----------------------------------------------------------------------------

    def encode(self, query: Query) -> np.ndarray:
        """Token ids of a query: text is tokenised; ids are taken as they are (-1 = unknown)."""
        if isinstance(query, str):
            return self.tokenizer.encode(query)
        return np.asarray(query, dtype=np.int64).reshape(-1)

    def ranges(self, query: Query) -> list[tuple[int, int]]:
        """Per shard, the suffix-array interval of the query (empty when a token is unknown)."""
        q = self.encode(query)
        if len(q) and q.min() < 0:
            return [(0, 0) for _ in self.shards]
        return [sh.safe_range(q) for sh in self.shards]

    def token_str(self, token_id: int) -> str:
        return self.tokenizer.token_str(token_id)

    @cached_property
    def _log10_p(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log10(np.asarray(self.unigram, dtype=np.float64)) - math.log10(max(self.n_tokens, 1))

    def log10_unigram_prob(self, ids: np.ndarray) -> float:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return 0.0
        if ids.min() < 0 or ids.max() >= len(self.unigram):
            return float("-inf")
        return float(self._log10_p[ids].sum())

    def document(self, index: int) -> dict:
        """A stored document by its global number: id, source, text (None when text was not stored)."""
        s = int(np.searchsorted(self._doc_bases, index, side="right") - 1)
        sh = self.shards[s]
        local = index - sh.doc_base
        if not 0 <= local < sh.n_docs:
            raise KeyError(index)
        return {"index": index, "id": sh.doc_id(local), "source": sh.doc_source(local), "text": sh.doc_text(local)}

    # -- queries -----------------------------------------------------------------------------

    def count(self, query: Query) -> int:
        """Occurrences of the token sequence in the corpus (the empty query counts every token)."""
        q = self.encode(query)
        if len(q) == 0:
            return self.n_tokens
        return sum(b - a for a, b in self.ranges(q))

    def count_many(self, queries: np.ndarray) -> np.ndarray:
        """:meth:`count` of every row of ``queries`` (token ids, shape [q, m]), searched together."""
        queries = np.asarray(queries, dtype=np.int64)
        if queries.ndim != 2:
            raise ValueError("count_many takes a 2-d array of token ids (one query a row)")
        if queries.shape[1] == 0:
            return np.full(len(queries), self.n_tokens, dtype=np.int64)
        return sum((sh.count_many(queries) for sh in self.shards), np.zeros(len(queries), dtype=np.int64))

    def documents(self, query: Query, limit: int | None = 10, context_chars: int = 80,
                  order: str = "corpus") -> DocumentsResult:
        """Documents that contain the query, with a snippet around the first occurrence.

        ``order``: ``corpus`` (reading order) or ``count`` (most occurrences first).
        ``n_documents`` is always exact; ``limit`` only bounds how many are returned.
        """
        if order not in ("corpus", "count"):
            raise ValueError(f"order must be 'corpus' or 'count', not {order!r}")
        q = self.encode(query)
        if len(q) == 0:
            raise ValueError("documents() needs a query of at least one token")
        docs_all, counts_all, first_all, shard_all = [], [], [], []
        total = 0
        for s, (sh, (a, b)) in enumerate(zip(self.shards, self.ranges(q))):
            if b <= a:
                continue
            total += b - a
            pos = np.sort(np.asarray(sh.sa[a:b]))  # sorted: searchsorted walks forward, runs are documents
            local = sh.doc_of(pos)
            first_idx = np.concatenate([[0], np.flatnonzero(local[1:] != local[:-1]) + 1])
            uniq = local[first_idx]
            cnt = np.diff(np.append(first_idx, len(local)))
            docs_all.append(uniq + sh.doc_base)
            counts_all.append(cnt)
            first_all.append(pos[first_idx].astype(np.int64) - np.asarray(sh.doc_starts[uniq], dtype=np.int64))
            shard_all.append(np.full(len(uniq), s))
        if not docs_all:
            return DocumentsResult(query=q.tolist(), count=0, n_documents=0, documents=[])
        docs = np.concatenate(docs_all)
        counts = np.concatenate(counts_all)
        first = np.concatenate(first_all)
        shard_of = np.concatenate(shard_all)
        order_idx = np.arange(len(docs)) if order == "corpus" else np.lexsort((docs, -counts))
        if limit is not None:
            order_idx = order_idx[:limit]
        hits = []
        for j in order_idx:
            sh = self.shards[int(shard_of[j])]
            local = int(docs[j]) - sh.doc_base
            snippet, ms, me = self._snippet(sh, local, int(first[j]), q, context_chars)
            hits.append(DocHit(index=int(docs[j]), id=sh.doc_id(local), source=sh.doc_source(local), count=int(counts[j]),
                               position=int(first[j]), snippet=snippet, match_start=ms, match_end=me))
        return DocumentsResult(query=q.tolist(), count=int(total), n_documents=int(len(docs)), documents=hits)

    def _snippet(self, sh: Shard, local: int, tpos: int, q: np.ndarray, context_chars: int) -> tuple[str, int, int]:
        m = len(q)
        text = sh.doc_text(local)
        if text is not None:
            loc = self.tokenizer.locate(text, tpos, m)
            if loc is not None and np.array_equal(loc[0], q):
                cs, ce = loc[1], loc[2]
                a = max(0, cs - context_chars)
                b = min(len(text), ce + context_chars)
                # widen to whitespace so words are not cut
                while a > 0 and a > cs - context_chars - 20 and not text[a - 1].isspace():
                    a -= 1
                while b < len(text) and b < ce + context_chars + 20 and not text[b].isspace():
                    b += 1
                pre = "…" if a > 0 else ""
                post = "…" if b < len(text) else ""
                return pre + text[a:cs] + text[cs:ce] + text[ce:b] + post, len(pre) + cs - a, len(pre) + ce - a
        # no stored text (or it does not re-tokenise the same way): detokenised tokens
        toks = sh.doc_tokens(local)
        ctx = max(1, context_chars // 8)
        a, b = max(0, tpos - ctx), min(len(toks), tpos + m + ctx)
        before = self.tokenizer.detokenize(toks[a:tpos])
        match = self.tokenizer.detokenize(toks[tpos:tpos + m])
        after = self.tokenizer.detokenize(toks[tpos + m:b])
        joiner = " " if self.tokenizer.kind == "words" else ""
        pre = ("…" if a > 0 else "") + before + (joiner if before else "")
        post = (joiner if after else "") + after + ("…" if b < len(toks) else "")
        return pre + match + post, len(pre), len(pre) + len(match)

    def next_tokens(self, context: Query, k: int | None = 10) -> NextTokens:
        """Distribution of the token that follows ``context`` in the corpus (top ``k``; all when None).

        The empty context gives the unigram distribution. Occurrences at the end of a document
        are counted in ``end_of_document`` (probabilities are over all occurrences).
        """
        q = self.encode(context)
        if len(q) == 0:
            counts = np.asarray(self.unigram)
            ids = np.flatnonzero(counts)
            cnt = counts[ids]
            total, eod = self.n_tokens, 0
        else:
            id_parts, cnt_parts = [], []
            total = eod = 0
            for sh, (a, b) in zip(self.shards, self.ranges(q)):
                if b <= a:
                    continue
                total += b - a
                pos = np.asarray(sh.sa[a:b], dtype=np.int64) + len(q)
                nxt = np.asarray(sh.tokens[pos], dtype=np.int64)
                # suffixes in [a, b) share the context, so the next token is sorted: run lengths
                starts = np.concatenate([[0], np.flatnonzero(nxt[1:] != nxt[:-1]) + 1])
                vals = nxt[starts]
                runs = np.diff(np.append(starts, len(nxt)))
                if vals[-1] == sh.sep:  # the separator sorts last: document ends
                    eod += int(runs[-1])
                    vals, runs = vals[:-1], runs[:-1]
                id_parts.append(vals)
                cnt_parts.append(runs)
            if not id_parts:
                return NextTokens(context=q.tolist(), count=0, end_of_document=0, candidates=[])
            if len(id_parts) == 1:
                ids, cnt = id_parts[0], cnt_parts[0]
            else:
                ids, inv = np.unique(np.concatenate(id_parts), return_inverse=True)
                cnt = np.bincount(inv, weights=np.concatenate(cnt_parts)).astype(np.int64)
        order_idx = np.lexsort((ids, -cnt))
        if k is not None:
            order_idx = order_idx[:k]
        cands = [NextToken(id=int(ids[j]), token=self.token_str(int(ids[j])), count=int(cnt[j]),
                           prob=float(cnt[j]) / total) for j in order_idx]
        return NextTokens(context=q.tolist(), count=int(total), end_of_document=eod, candidates=cands)

    # -- maximal spans -----------------------------------------------------------------------

    def longest_matches(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each start i, the length of the longest ids[i:i+L] found in the corpus, and its count.

        Uses that the longest match from i+1 reaches at least as far as the one from i (matching
        statistics): each start needs one search for the known part and then one cheap
        one-token extension per step, so the whole text costs O(len) searches.
        """
        ids = np.asarray(ids, dtype=np.int64)
        L = len(ids)
        lengths = np.zeros(L, dtype=np.int64)
        counts = np.zeros(L, dtype=np.int64)
        sep = max(sh.sep for sh in self.shards)
        valid = (ids >= 0) & (ids < sep)
        e = 0
        for i in range(L):
            if not valid[i]:
                e = max(e, i + 1)
                continue
            k = max(0, e - i)
            if k:
                ranges = [sh.safe_range(ids[i:i + k]) for sh in self.shards]
            else:
                ranges = [(0, sh.n) for sh in self.shards]
            while i + k < L and valid[i + k]:
                tok = ids[i + k:i + k + 1]
                new = [sh.safe_range(tok, a, b, depth=k) if b > a else (a, a) for sh, (a, b) in zip(self.shards, ranges)]
                if not any(b > a for a, b in new):
                    break
                ranges = new
                k += 1
            lengths[i] = k
            counts[i] = sum(b - a for a, b in ranges) if k else 0
            e = i + k
        return lengths, counts

    def maximal_spans(self, text: Query, min_len: int = DEFAULT_MIN_SPAN_TOKENS, max_count: int | None = None,
                      max_unigram_prob: float | None = DEFAULT_MAX_UNIGRAM_PROB, top_fraction: float | None = None,
                      docs_per_span: int = 5, context_chars: int = 80, prompt: str | None = None) -> SpansResult:
        """OLMoTrace-style spans of ``text`` that occur verbatim in the corpus.

        A span is *maximal*: it occurs in the corpus and is not contained in a longer span that
        occurs. Maximal spans are then filtered (kept in ``filtered`` with a reason):

        - ``min_len``: fewer tokens than this;
        - ``max_count``: occurs more often than this (too common to point to a source);
        - ``max_unigram_prob``: the span unigram probability, prod_t c(t)/N over its tokens under
          the corpus unigram distribution, is not below this threshold (a span of everyday
          words is likely by chance, whatever its length);
        - ``top_fraction``: as OLMoTrace, keep only the ceil(top_fraction x n_tokens) spans with the
          lowest span unigram probability.

        ``prompt``: spans whose tokens also occur in the prompt are flagged ``in_prompt``.
        """
        if isinstance(text, str):
            ids, offsets = self.tokenizer.encode_with_offsets(text)
            raw = text
        else:
            ids = np.asarray(text, dtype=np.int64)
            offsets = [(i, i + 1) for i in range(len(ids))]
            raw = ""
        lengths, counts = self.longest_matches(ids)
        prompt_ids = self.tokenizer.encode(prompt) if prompt else None
        maximal: list[Span] = []
        prev_end = 0
        for i in range(len(ids)):
            end = i + int(lengths[i])
            if lengths[i] > 0 and end > prev_end:
                cs, ce = offsets[i][0], offsets[end - 1][1]
                span_ids = ids[i:end]
                maximal.append(Span(start=i, end=end, char_start=int(cs), char_end=int(ce),
                                    text=raw[cs:ce] if raw else self.tokenizer.detokenize(span_ids),
                                    count=int(counts[i]), n_documents=0,
                                    log10_unigram_prob=self.log10_unigram_prob(span_ids),
                                    in_prompt=_contains(prompt_ids, span_ids) if prompt_ids is not None else False))
            prev_end = max(prev_end, end)
        kept, filtered = [], []
        log_max = math.log10(max_unigram_prob) if max_unigram_prob else None
        for s in maximal:
            if s.length < min_len:
                s.reason = f"shorter than min_len={min_len}"
            elif max_count is not None and s.count > max_count:
                s.reason = f"count {s.count} > max_count={max_count}"
            elif log_max is not None and not s.log10_unigram_prob < log_max:
                s.reason = f"span unigram probability 10^{s.log10_unigram_prob:.1f} >= max_unigram_prob={max_unigram_prob:g}"
            (filtered if s.reason else kept).append(s)
        if top_fraction is not None and kept:
            n_keep = max(1, math.ceil(top_fraction * len(ids)))
            ranked = sorted(kept, key=lambda s: (s.log10_unigram_prob, s.start))
            drop = {id(s) for s in ranked[n_keep:]}
            for s in kept:
                if id(s) in drop:
                    s.reason = f"not among the {n_keep} least likely spans (top_fraction={top_fraction:g})"
            filtered.extend(s for s in kept if id(s) in drop)
            kept = [s for s in kept if id(s) not in drop]
            filtered.sort(key=lambda s: s.start)
        for s in kept:
            res = self.documents(ids[s.start:s.end], limit=docs_per_span, context_chars=context_chars, order="count")
            s.n_documents = res.n_documents
            s.documents = res.documents
        params = {"min_len": min_len, "max_count": max_count, "max_unigram_prob": max_unigram_prob,
                  "top_fraction": top_fraction, "docs_per_span": docs_per_span, "index": str(self.path),
                  "index_tokens": self.n_tokens, "index_documents": self.n_docs,
                  "tokenizer": self.info["tokenizer"].get("spec")}
        return SpansResult(text=raw, n_tokens=len(ids), params=params, spans=kept, filtered=filtered)


def _contains(hay: np.ndarray, needle: np.ndarray) -> bool:
    m = len(needle)
    if m == 0 or len(hay) < m:
        return False
    w = np.lib.stride_tricks.sliding_window_view(hay, m)
    return bool((w == needle).all(axis=1).any())


__all__ = ["TokenIndex", "Shard", "DocHit", "DocumentsResult", "NextToken", "NextTokens", "Span", "SpansResult",
           "DEFAULT_MAX_UNIGRAM_PROB", "DEFAULT_MIN_SPAN_TOKENS", "IndexError_"]
