"""Exact and near dedup, from the clusters the input audit already found.

The audit's :class:`~curadebt.measures.duplicates.DuplicatesMeasure` gives every document its exact
cluster (``exact_of``: first document with the same normalised text) and its near cluster
(``representative``: MinHash-LSH connected component, see :mod:`curadebt.measures.duplicates`).

Representative rule (documented, deterministic): among the *currently kept* members of a cluster,

- ``exact_dedup`` keeps the lowest ordinal (the copy seen first in training order);
- ``near_dedup`` keeps the lowest ordinal (``keep: first``, the audit's own representative when it
  is still kept) or the member with the most tokens (``keep: longest``, ties to the lowest ordinal).

Every other member is dropped with ``duplicate_of`` = the kept member. Clusters count only kept
documents, so the result does not depend on which op ran first. ``near_dedup`` groups by the near
cluster, which contains exact copies too: run alone, it also drops exact copies.

Tail guard (:mod:`curadebt.curation.guard`): a member that is the last kept document of an entity, a
probe answer or a capitalised word (a name no other kept document holds) is kept, with the reason.
Two documents from one template that differ only in a name ("Ana Lind was born in Graz." and "Ben
Okoro was born in Kumasi.") look alike to MinHash but each is the only place its fact lives.
``near_dedup`` also leaves documents shorter than ``min_tokens`` (default 20) alone: under 20 words
a text has under 18 word 3-shingles, so one shared template sentence is enough to pass a Jaccard
threshold of 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from curadebt.measures.duplicates import KIND_EXACT, KIND_NAMES, KIND_NEAR
from curadebt.curation.context import OpContext
from curadebt.curation.guard import TailGuard
from curadebt.curation.plan import DROP, KEEP, OpSummary
from curadebt.curation.op import Op, RecipeError, register_op


@register_op
@dataclass
class ExactDedup(Op):
    """Drop every exact copy (same text after NFC + whitespace normalisation); keep the first."""

    name: ClassVar[str] = "exact_dedup"
    position: ClassVar[int] = 10
    dimension: ClassVar[str] = "duplicates"

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return exact_dedup(ctx, self, index)


@register_op
@dataclass
class NearDedup(Op):
    """Drop near duplicates (MinHash-LSH clusters of the audit); keep one representative per cluster.

    ``keep``: ``first`` (lowest ordinal, the audit's representative) or ``longest`` (most tokens,
    ties to the lowest ordinal). The MinHash parameters are the audit's (None = its defaults)."""

    name: ClassVar[str] = "near_dedup"
    position: ClassVar[int] = 20
    dimension: ClassVar[str] = "duplicates"
    keep: str = "first"
    min_tokens: int = 20              # shorter documents are never near-dedup'd (too few shingles to judge)
    threshold: float | None = None
    num_perm: int | None = None
    bands: int | None = None
    shingle_size: int | None = None

    def validate(self) -> None:
        super().validate()
        if self.keep not in ("first", "longest"):
            raise RecipeError(f"near_dedup: keep must be 'first' or 'longest', got {self.keep!r}")
        if self.threshold is not None and not 0 < float(self.threshold) <= 1:
            raise RecipeError(f"near_dedup: threshold must be in (0, 1], got {self.threshold!r}")
        if int(self.min_tokens) < 0:
            raise RecipeError(f"near_dedup: min_tokens must be >= 0, got {self.min_tokens!r}")

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return near_dedup(ctx, self, index)


def _check(ctx: OpContext):
    a = ctx.assignments
    if a is None:
        raise RuntimeError("dedup needs the duplicate assignments of the input audit")
    if len(a) != ctx.table.n or not np.array_equal(a.ordinals, np.arange(ctx.table.n)):
        raise RuntimeError("dedup: duplicate assignments do not cover the scanned documents")
    return a


def _annotate_clusters(ctx: OpContext) -> None:
    a = ctx.assignments
    plan = ctx.plan
    plan.cluster[:] = a.cluster
    plan.cluster_kind[:] = [KIND_NAMES[int(k)] for k in a.kind]


def _group_keep(groups: np.ndarray, members: np.ndarray, priority: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the ``members`` (ordinals) with cluster ``groups``, the kept one per group (lowest
    ``priority``, then lowest ordinal). Returns (kept ordinal per member, is_kept mask)."""
    order = np.lexsort((members, priority, groups))
    g_sorted = groups[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    head_idx = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    keeper_sorted = members[order][head_idx]
    keeper = np.empty_like(members)
    keeper[order] = keeper_sorted
    return keeper, keeper == members


def _kept_sharing_a_group(ctx: OpContext, group_of: np.ndarray, min_tokens: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Still-kept documents (of at least ``min_tokens`` tokens) whose group has at least one other
    such member: (their ordinals, their group ids, those members per group id)."""
    kept = np.flatnonzero(ctx.plan.kept & (ctx.table.tokens >= min_tokens))
    groups = group_of[kept]
    sizes = np.bincount(groups, minlength=ctx.table.n)
    multi = sizes[groups] >= 2
    return kept[multi], groups[multi], sizes


def exact_dedup(ctx: OpContext, op: ExactDedup, index: int) -> OpSummary:
    a = _check(ctx)
    _annotate_clusters(ctx)
    plan = ctx.plan
    s = plan.begin(op.name, op.params())
    members, groups, sizes = _kept_sharing_a_group(ctx, a.exact_of)
    if len(members):
        keeper, is_keeper = _group_keep(groups, members, np.zeros(len(members), dtype=np.int64))
        drop, ref, back = _guarded(ctx, members[~is_keeper], keeper[~is_keeper])
        ids = ctx.table.ids
        plan.record(op.name, drop, 0, DROP,
                    [f"exact copy of {ids[r]} (same text after normalisation); the first copy is kept" for r in ref], ref)
        keepers = members[is_keeper]
        n_in = sizes[keepers]
        plan.record(op.name, keepers, plan.copies[keepers], KEEP,
                    [f"kept: first of {int(c)} exact copies" for c in n_in], -1)
        _record_kept_back(ctx, op, back)
        s.details = {"clusters": int(len(keepers)), "copies_dropped": int(len(drop)),
                     "kept_back_by_tail_guard": int(len(back))}
    return plan.end(s)


def near_dedup(ctx: OpContext, op: NearDedup, index: int) -> OpSummary:
    a = _check(ctx)
    _annotate_clusters(ctx)
    plan = ctx.plan
    s = plan.begin(op.name, op.params())
    members, groups, sizes = _kept_sharing_a_group(ctx, a.representative, int(op.min_tokens))
    if len(members):
        if op.keep == "longest":
            priority = -ctx.table.tokens[members]
        else:
            priority = np.zeros(len(members), dtype=np.int64)
        keeper, is_keeper = _group_keep(groups, members, priority)
        drop, ref, back = _guarded(ctx, members[~is_keeper], keeper[~is_keeper])
        sim = _best_similarity(a)
        ids = ctx.table.ids
        reasons = []
        for d, r in zip(drop.tolist(), ref.tolist()):
            kind = int(a.kind[d])
            if kind == KIND_EXACT and a.exact_of[d] == r:
                reasons.append(f"exact copy of {ids[r]}, the kept member of its near-duplicate cluster")
                continue
            best = sim.get(d)
            tail = f"; estimated Jaccard {best[0]:.2f} with {ids[best[1]]}" if best else ""
            what = "near duplicate" if kind == KIND_NEAR else "member"
            reasons.append(f"{what} of the cluster kept as {ids[r]} (keep: {op.keep}){tail}")
        plan.record(op.name, drop, 0, DROP, reasons, ref)
        keepers = members[is_keeper]
        plan.record(op.name, keepers, plan.copies[keepers], KEEP,
                    [f"kept: representative ({op.keep}) of a near-duplicate cluster of {int(c)} kept documents"
                     for c in sizes[groups[is_keeper]]], -1)
        _record_kept_back(ctx, op, back)
        s.details = {"clusters": int(len(keepers)), "dropped": int(len(drop)), "kept_back_by_tail_guard": int(len(back)),
                     "min_tokens": int(op.min_tokens),
                     "threshold": ((ctx.before.get("duplicates") or {}).get("params") or {}).get("threshold")}
    return plan.end(s)


def _guarded(ctx: OpContext, drop: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, str]]]:
    """The planned drops that pass the tail guard (in ordinal order), their references, and the
    members kept back: (ordinal, reference, what it is the last copy of)."""
    order = np.argsort(drop, kind="stable")
    drop, ref = drop[order], ref[order]
    guard = TailGuard(ctx, words=True)
    keep = np.ones(len(drop), dtype=bool)
    back = []
    for i, d in enumerate(drop.tolist()):
        why = guard.last_copy(d)
        if why is None:
            guard.drop(d)
        else:
            keep[i] = False
            back.append((d, int(ref[i]), why))
    return drop[keep], ref[keep], back


def _record_kept_back(ctx: OpContext, op, back: list[tuple[int, int, str]]) -> None:
    if back:
        ids = ctx.table.ids
        ords = np.asarray([d for d, _, _ in back], dtype=np.int64)
        ctx.plan.record(op.name, ords, ctx.plan.copies[ords], KEEP,
                        [f"kept although a duplicate of {ids[r]}: the last kept document holding a {why} no other kept "
                         "document holds (tail guard)" for _, r, why in back], -1)


def _best_similarity(a) -> dict[int, tuple[float, int]]:
    """Per document in a verified near pair: (highest estimated Jaccard, partner ordinal), ties to
    the lowest partner (computed by the duplicates measure on whichever engine ran it)."""
    has = np.flatnonzero(np.asarray(a.best_partner) >= 0)
    return {int(d): (float(a.best_similarity[d]), int(a.best_partner[d])) for d in has}
