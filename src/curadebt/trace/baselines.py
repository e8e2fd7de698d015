"""Non-gradient attribution baselines: rank training documents for a query text by

- **BM25** (Okapi, k1 = 1.5, b = 0.75, the ``rank_bm25`` package) over lower-cased word tokens;
- **exact n-gram match** through the token index: the query's maximal spans (every length, no
  probability filter; see :meth:`TokenIndex.maximal_spans`), each document scoring the sum over the
  spans it contains of the span's unlikeliness, -log10 P(span) under the corpus unigram
  distribution (so long spans of rare words weigh most).

Both return a ``[n_queries, n_documents]`` score matrix, higher = more relevant.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from curadebt.text.tokenize import word_tokenize_lower


def bm25_scores(documents: Sequence[str], queries: Sequence[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 (Okapi) scores of every document for every query."""
    try:
        from rank_bm25 import BM25Okapi
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("BM25 needs the 'rank_bm25' package: pip install -e '.[lab]' (from a clone)") from e
    if not len(documents):
        raise ValueError("no documents to rank")
    bm = BM25Okapi([word_tokenize_lower(d) for d in documents], k1=k1, b=b)
    return np.stack([bm.get_scores(word_tokenize_lower(q)) for q in queries]) if len(queries) else \
        np.zeros((0, len(documents)))


def exact_match_scores(index, queries: Sequence[str]) -> np.ndarray:
    """Exact n-gram match scores from a :class:`~curadebt.trace.index.TokenIndex` over the documents
    (document i of the index is column i)."""
    out = np.zeros((len(queries), index.n_docs), dtype=np.float64)
    for qi, q in enumerate(queries):
        res = index.maximal_spans(q, min_len=1, max_unigram_prob=None, docs_per_span=index.n_docs, context_chars=0)
        for s in res.spans:
            for d in s.documents:
                out[qi, d.index] += -s.log10_unigram_prob
    return out


__all__ = ["bm25_scores", "exact_match_scores"]
