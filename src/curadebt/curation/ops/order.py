"""Output order: diversity-first (every early window looks like the whole), shuffle, or keep.

``diverse``:

1. Items are the output copies: a document kept x k gives items (d, 0) .. (d, k-1).
2. Within a source, items are grouped: a duplicate cluster (when several of its members are kept),
   else the document's most mentioned entity (a "topic"), else the document alone (its copies).
   A group of ``m`` items is spread evenly over the source's stream: its items, ordered by copy index
   then a seeded random priority, get keys ``(j + u) / m`` (``u`` a seeded offset per group), and the
   source's items are sorted by key. Copies of one document therefore land in different
   1/k-stretches of the source, and a topic's documents are evenly spaced instead of bunched.
3. Sources are merged by token progress: an item's global key is
   ``(tokens of its source before it + half its own tokens) / tokens of its source``, so at any
   prefix every source has emitted its share of tokens, to within one document.

``shuffle``: a seeded random permutation of all items. ``keep``: input order, copies adjacent.

With a training schedule (``normalize`` with ``schedule``, :attr:`Plan.first_phase`), the copies of
the first phase come first and those of the second after them, each phase ordered by the strategy
on its own (copies ``0 .. first_phase[d] - 1`` of a document are in the first phase).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from curadebt.curation.context import OpContext
from curadebt.curation.plan import OpSummary
from curadebt.curation.op import Op, RecipeError, register_op


@register_op
@dataclass
class Order(Op):
    """Output order. ``diverse``: every prefix has the source mix of the whole (sources interleaved
    by tokens), and copies and cluster members are spread evenly; ``shuffle``: seeded shuffle;
    ``keep``: input order (copies adjacent)."""

    name: ClassVar[str] = "order"
    position: ClassVar[int] = 90
    dimension: ClassVar[str] = "order"
    terminal: ClassVar[bool] = True
    skip_note: ClassVar[str] = "; input order kept"
    strategy: str = "diverse"

    def validate(self) -> None:
        super().validate()
        if self.strategy not in ("diverse", "shuffle", "keep"):
            raise RecipeError(f"order: strategy must be 'diverse', 'shuffle' or 'keep', got {self.strategy!r}")

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        ords, cidx, summary = order(ctx, self, index)
        ctx.output_order = (ords, cidx)
        return summary


def output_items(copies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ordinal, copy index) of every output item, in input order."""
    ords = np.repeat(np.arange(len(copies), dtype=np.int64), copies)
    starts = np.concatenate([[0], np.cumsum(copies)[:-1]]).astype(np.int64)
    copy_idx = np.arange(len(ords), dtype=np.int64) - np.repeat(starts, copies)
    return ords, copy_idx


def _dominant_entity(table, ordinals: np.ndarray) -> np.ndarray:
    """Hash of each document's most mentioned entity (ties: smallest hash); 0 when none."""
    off, h, c = table.ent_off, table.ent_hash, table.ent_cnt
    starts, ends = off[ordinals], off[ordinals + 1]
    n_ent = ends - starts
    out = np.zeros(len(ordinals), dtype=np.uint64)
    has = np.flatnonzero(n_ent > 0)
    if not len(has):
        return out
    # every entity entry of those documents, then the first per document by (count desc, hash asc)
    from curadebt.core.ragged import gather

    idx = gather(np.arange(len(h), dtype=np.int64), starts[has], n_ent[has])
    doc = np.repeat(np.arange(len(has), dtype=np.int64), n_ent[has])
    best = np.lexsort((h[idx], -c[idx].astype(np.int64), doc))
    first = np.ones(len(best), dtype=bool)
    first[1:] = doc[best][1:] != doc[best][:-1]
    out[has] = h[idx[best[first]]]
    return out


def diverse_order(table, copies: np.ndarray, cluster: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Diversity-first output order (the intermediates are let go as soon as they are used: on 10M
    items each is 80 MB)."""
    ords, cidx = output_items(copies)
    n_items = len(ords)
    if n_items == 0:
        return ords, cidx
    item_src, item_kind, item_key = _group_keys(table, copies, cluster, ords)
    prio = rng.random(n_items)
    # groups: (source, kind, key); rank items within a group by (copy index, priority)
    order = np.lexsort((prio, cidx, item_key, item_kind, item_src))
    del prio
    g_src, g_kind, g_key = item_src[order], item_kind[order], item_key[order]
    del item_kind, item_key
    new_group = np.ones(n_items, dtype=bool)
    new_group[1:] = (g_src[1:] != g_src[:-1]) | (g_kind[1:] != g_kind[:-1]) | (g_key[1:] != g_key[:-1])
    del g_src, g_kind, g_key
    gid = np.cumsum(new_group) - 1
    g_start = np.flatnonzero(new_group)
    del new_group
    g_size = np.diff(np.concatenate([g_start, [n_items]]))
    rank = np.arange(n_items) - g_start[gid]
    offset = rng.random(len(g_start))
    within = np.empty(n_items, dtype=np.float64)
    within[order] = (rank + offset[gid]) / g_size[gid]
    del rank, gid, g_start, g_size, order
    # order inside each source by the spread key, then merge sources by token progress
    tie = rng.random(n_items)
    s_order = np.lexsort((tie, within, item_src))
    del tie, within
    s_of = item_src[s_order]
    del item_src
    final = _by_token_progress(table.tokens[ords[s_order]].astype(np.float64), s_of)
    idx = s_order[final]
    return ords[idx], cidx[idx]


def _group_keys(table, copies: np.ndarray, cluster: np.ndarray, ords: np.ndarray):
    """Per output item: its source, and its group (kind, key): its duplicate cluster ("c", kind 0),
    else its dominant entity ("e", 1), else itself ("d", 2)."""
    kind = np.full(len(copies), 2, dtype=np.int64)
    key = np.arange(len(copies), dtype=np.uint64)
    if len(cluster):
        cl = cluster.copy()
        cl[copies == 0] = -1
        valid = cl >= 0
        counts = np.bincount(cl[valid], minlength=len(copies)) if valid.any() else np.zeros(len(copies), np.int64)
        in_multi = valid & (counts[np.where(valid, cl, 0)] >= 2)
        kind[in_multi] = 0
        key[in_multi] = cl[in_multi].astype(np.uint64)
        del cl, valid, counts, in_multi
    kept_docs = np.flatnonzero(copies > 0)
    ent = np.zeros(len(copies), dtype=np.uint64)
    ent[kept_docs] = _dominant_entity(table, kept_docs)
    use_ent = (kind == 2) & (ent != 0)
    kind[use_ent] = 1
    key[use_ent] = ent[use_ent]
    return table.source.astype(np.int64)[ords], kind[ords], key[ords]


def _by_token_progress(toks: np.ndarray, s_of: np.ndarray) -> np.ndarray:
    """The permutation that merges the sources' runs (``s_of``, items in each run in their spread
    order) by how far into its source's tokens each item sits."""
    n_items = len(toks)
    s_first = np.ones(n_items, dtype=bool)
    s_first[1:] = s_of[1:] != s_of[:-1]
    cum = np.cumsum(toks)
    seg_start = np.maximum.accumulate(np.where(s_first, np.arange(n_items), 0))
    before = cum - toks - (cum[seg_start] - toks[seg_start])
    firsts = np.flatnonzero(s_first)
    ends = np.concatenate([firsts[1:], [n_items]]) - 1
    totals = cum[ends] - (cum[firsts] - toks[firsts])
    del cum
    seg_id = np.cumsum(s_first) - 1
    seg_total = totals[seg_id]
    # documents without tokens sit at their rank's relative position
    n_in_seg = np.diff(np.concatenate([firsts, [n_items]]))[seg_id]
    del seg_id
    pos_in_seg = np.arange(n_items) - seg_start
    del seg_start
    progress = np.where(seg_total > 0, (before + toks / 2) / np.where(seg_total > 0, seg_total, 1),
                        (pos_in_seg + 0.5) / n_in_seg)
    return np.lexsort((pos_in_seg, s_of, progress))


def _one_phase(ctx: OpContext, strategy: str, copies: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    if strategy == "keep":
        return output_items(copies)
    if strategy == "shuffle":
        ords, cidx = output_items(copies)
        perm = rng.permutation(len(ords))
        return ords[perm], cidx[perm]
    return diverse_order(ctx.table, copies, ctx.plan.cluster, rng)


def ordered_items(ctx: OpContext, strategy: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """(ordinal, copy index) of every output item in output order, phase by phase."""
    plan = ctx.plan
    first = plan.first_phase
    if first is None:
        return _one_phase(ctx, strategy, plan.copies, rng)
    first = np.minimum(first, plan.copies)
    a_ords, a_cidx = _one_phase(ctx, strategy, first, rng)
    b_ords, b_cidx = _one_phase(ctx, strategy, plan.copies - first, rng)
    return np.concatenate([a_ords, b_ords]), np.concatenate([a_cidx, b_cidx + first[b_ords]])


def order(ctx: OpContext, op: Order | None, index: int) -> tuple[np.ndarray, np.ndarray, OpSummary]:
    """Returns (ordinal, copy index) of every output item in output order, and the op summary."""
    plan = ctx.plan
    if op is None or op.strategy == "keep":
        ords, cidx = ordered_items(ctx, "keep", None)
        s = plan.skip("order", op.params() if op else {"strategy": "keep"}, "input order kept")
        return ords, cidx, s
    s = plan.begin(op.name, op.params())
    ords, cidx = ordered_items(ctx, op.strategy, plan.rng(index, op.name))
    plan.end(s)
    s.details = {"strategy": op.strategy, "items": int(len(ords)),
                 "phases": 1 if plan.first_phase is None else 2}
    return ords, cidx, s
