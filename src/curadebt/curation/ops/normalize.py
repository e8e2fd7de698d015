"""``normalize``: frequency normalization both ways: flatten the head, raise the tail.

An entity's *exposure* is the number of kept documents that mention it (copies counted: a document
kept x k is k exposures), over the entities of the scan (capitalised multi-word spans by default,
as the salience measure). Each entity gets a target:

- ``alpha`` < 1 tempers exposure: ``target_i = e_i ** alpha * (sum_j e_j / sum_j e_j ** alpha)``
  (the total exposure is kept; ``alpha = 1`` keeps every exposure, ``0`` makes them equal);
- ``max_exposure`` caps the head at K, ``min_exposure`` raises the tail to at least k.

Then, in one deterministic pass:

1. **down**, most excess first: an entity over its target loses documents, one at a time, the
   documents that mention the fewest other entities first, then the shortest, then a seeded order;
   never a document that mentions an entity at or under its own target, nor the last kept copy of
   any entity or probe answer (:mod:`curadebt.curation.guard`), and at most ``max_token_loss`` of the
   tokens in all;
2. **up**, furthest below first: an entity under its target gets its documents repeated, a copy at a
   time in round robin (the shortest first), each document at most ``max_repeat`` x its current
   copies, never one whose other entities would go over their own targets, within
   ``token_budget`` added tokens (a share of the tokens before the op).

Every drop and repeat is in the ledger with the entity, its exposure and its target. The op reports
the exposure Gini coefficient and minimum before and after, and how many entities reached their
target.

``schedule`` (``raw_first`` / ``normalized_first``) writes both distributions as two phases of the
training order: the first ``schedule_fraction`` of the output tokens is a seeded sample of one (the
input's own copies, or the normalized ones), the rest is the whole other corpus; the order op then
orders each phase on its own (:func:`curadebt.curation.ops.order.ordered_items`). The literature
disagrees on whether warming up on the raw head helps, so both are offered for the lab to measure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import math

import numpy as np

from curadebt.curation.context import OpContext
from curadebt.curation.guard import TailGuard
from curadebt.curation.plan import DOWNSAMPLE, DROP, UPSAMPLE, OpSummary
from curadebt.curation.op import Op, RecipeError, register_op


@register_op
@dataclass
class Normalize(Op):
    """Frequency normalization both ways (:mod:`curadebt.curation.ops.normalize`): temper entity exposure to
    ``exposure ** alpha`` (total kept), cap the head at ``max_exposure``, raise the tail to
    ``min_exposure`` by repeating its documents (at most ``max_repeat`` x each, within
    ``token_budget`` added tokens), dropping at most ``max_token_loss`` of the tokens; never the last
    copy of an entity or probe answer. ``schedule``: ``raw_first`` puts the first
    ``schedule_fraction`` of the output tokens in the input's own distribution, then the normalized
    corpus; ``normalized_first`` the reverse."""

    name: ClassVar[str] = "normalize"
    position: ClassVar[int] = 70
    dimension: ClassVar[str] = "salience"
    alpha: float | None = None
    max_exposure: int | None = None
    min_exposure: int | None = None
    max_repeat: int = 4
    token_budget: float = 0.1
    max_token_loss: float = 0.1
    schedule: str = "none"            # "raw_first" | "normalized_first": the two distributions as phases
    schedule_fraction: float = 0.3    # share of the output tokens in the first phase

    def validate(self) -> None:
        super().validate()
        if self.schedule not in ("none", "raw_first", "normalized_first"):
            raise RecipeError(f"normalize: schedule must be 'none', 'raw_first' or 'normalized_first', "
                              f"got {self.schedule!r}")
        if not 0 < float(self.schedule_fraction) < 1:
            raise RecipeError("normalize: schedule_fraction must be in (0, 1)")
        if self.alpha is not None and not 0 <= float(self.alpha) <= 1:
            raise RecipeError(f"normalize: alpha must be in [0, 1], got {self.alpha!r}")
        if self.max_exposure is not None and int(self.max_exposure) < 1:
            raise RecipeError("normalize: max_exposure must be >= 1")
        if self.min_exposure is not None and int(self.min_exposure) < 1:
            raise RecipeError("normalize: min_exposure must be >= 1")
        if (self.max_exposure is not None and self.min_exposure is not None
                and int(self.min_exposure) > int(self.max_exposure)):
            raise RecipeError("normalize: min_exposure must be <= max_exposure")
        if int(self.max_repeat) < 1:
            raise RecipeError("normalize: max_repeat must be >= 1")
        if not 0 <= float(self.token_budget) or not 0 <= float(self.max_token_loss) <= 1:
            raise RecipeError("normalize: token_budget must be >= 0 and max_token_loss in [0, 1]")
        if self.alpha is None and self.max_exposure is None and self.min_exposure is None:
            raise RecipeError("normalize: give alpha, max_exposure or min_exposure (else it does nothing)")

    def check_in_recipe(self, ops: list[Op], index: int) -> None:
        if self.schedule != "none" and any(not later.terminal for later in ops[index + 1:]):
            raise RecipeError("a normalize op with a schedule must be the last op before order (the phases are "
                              "fixed when it runs)")

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return normalize(ctx, self, index)


def gini(values) -> float:
    """Gini coefficient of non-negative values (0: all equal; near 1: one holds everything)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1).dot(x) / (n * x.sum()))


def targets(exposure: dict[int, float], op: Normalize) -> dict[int, float]:
    """Each entity's target exposure (see the module docstring)."""
    keys = sorted(exposure)
    e = np.asarray([exposure[k] for k in keys], dtype=np.float64)
    t = e.copy()
    if op.alpha is not None and float(op.alpha) != 1.0 and len(e):
        tempered = e ** float(op.alpha)
        t = tempered * (math.fsum(e.tolist()) / math.fsum(tempered.tolist()))
    if op.max_exposure is not None:
        t = np.minimum(t, float(op.max_exposure))
    if op.min_exposure is not None:
        t = np.maximum(t, float(op.min_exposure))
    return dict(zip(keys, t.tolist()))


class _Exposure:
    """Entity exposures under the plan, kept current as copies change."""

    def __init__(self, ctx: OpContext):
        self.table, self.plan = ctx.table, ctx.plan
        t = self.table
        doc_of = np.repeat(np.arange(t.n), np.diff(t.ent_off))
        w = self.plan.copies[doc_of].astype(np.int64) if len(doc_of) else np.zeros(0, np.int64)
        keys, inv = np.unique(t.ent_hash, return_inverse=True)
        sums = np.bincount(inv, weights=w, minlength=len(keys)) if len(keys) else np.zeros(0)
        self.value = {int(k): float(v) for k, v in zip(keys.tolist(), sums.tolist()) if v > 0}
        self._docs: dict[int, list[int]] = {}
        for k, d in zip(t.ent_hash.tolist(), doc_of.tolist()):
            self._docs.setdefault(int(k), []).append(int(d))

    def docs(self, entity: int) -> list[int]:
        return self._docs.get(entity, [])

    def change(self, d: int, new_copies: int) -> None:
        delta = new_copies - int(self.plan.copies[d])
        for h in self.table.entity_hashes(d).tolist():
            self.value[int(h)] = self.value.get(int(h), 0.0) + delta


def _down(ctx, op, index, exp: _Exposure, target: dict[int, float], budget: float, log: dict) -> tuple[dict, float]:
    plan, table = ctx.plan, ctx.table
    guard = TailGuard(ctx)
    rng = plan.rng(index, op.name, "down")
    drops: dict[int, tuple[int, float, float]] = {}
    over = sorted((k for k in target if exp.value.get(k, 0) > target[k] + 1e-9),
                  key=lambda k: (-(exp.value[k] - target[k]), k))
    for k in over:
        docs = [d for d in exp.docs(k) if plan.copies[d] > 0]
        pri = rng.random(len(docs))
        n_ents = [len(table.entity_hashes(d)) for d in docs]
        for i in np.lexsort((pri, table.tokens[docs], n_ents)).tolist() if docs else []:
            if exp.value[k] <= target[k] + 1e-9:
                break
            d = docs[i]
            cost = int(table.tokens[d]) * int(plan.copies[d])
            others = [int(h) for h in table.entity_hashes(d).tolist() if int(h) != k]
            if cost > budget or any(exp.value.get(h, 0) <= target.get(h, 0) + 1e-9 for h in others):
                continue
            if not guard.drop(d):
                continue
            drops[d] = (k, exp.value[k], target[k])
            exp.change(d, 0)
            plan.copies[d] = 0  # provisional, so later entities see it; recorded by the caller
            budget -= cost
    log["kept_back_by_tail_guard"] = int(sum(guard.kept_back.values()))
    return drops, budget


def _up(ctx, op, index, exp: _Exposure, target: dict[int, float], start: np.ndarray, budget: float
        ) -> tuple[dict[int, tuple[int, float, float]], float]:
    plan, table = ctx.plan, ctx.table
    ups: dict[int, tuple[int, float, float]] = {}
    under = sorted((k for k in target if exp.value.get(k, 0) + 1e-9 < target[k]),
                   key=lambda k: (exp.value.get(k, 0) / target[k], k))
    for k in under:
        docs = [d for d in exp.docs(k) if plan.copies[d] > 0]
        if not docs:
            continue
        docs = [docs[i] for i in np.lexsort((docs, table.tokens[docs])).tolist()]
        progress = True
        while exp.value.get(k, 0) + 1e-9 < target[k] and progress:
            progress = False
            for d in docs:
                if exp.value.get(k, 0) + 1e-9 >= target[k]:
                    break
                cost = int(table.tokens[d])
                if plan.copies[d] >= int(op.max_repeat) * int(start[d]) or cost > budget:
                    continue
                if any(exp.value.get(int(h), 0) + 1 > target.get(int(h), 0) + 1e-9
                       for h in table.entity_hashes(d).tolist() if int(h) != k):
                    continue  # a copy would push another entity of the document over its target
                exp.change(d, int(plan.copies[d]) + 1)
                plan.copies[d] += 1
                ups[d] = (k, exp.value[k], target[k])
                budget -= cost
                progress = True
    return ups, budget


def normalize(ctx: OpContext, op: Normalize, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    exp = _Exposure(ctx)
    before = dict(exp.value)
    target = targets(before, op)
    start = plan.copies.copy()
    tokens0 = plan.output_tokens()
    log: dict = {}
    drops, _ = _down(ctx, op, index, exp, target, float(op.max_token_loss) * tokens0, log)
    ups, left = _up(ctx, op, index, exp, target, start, float(op.token_budget) * tokens0)
    final = plan.copies.copy()
    plan.copies[:] = start  # record() sets the copies, with the reasons
    schedule = None
    if op.schedule != "none":
        final, first, schedule = _schedule(ctx, op, index, start, final)
    name = {}
    for e in (ctx.before.get("salience") or {}).get("entities") or []:
        from curadebt.curation.scan import entity_hash

        name[entity_hash(str(e.get("entity")))] = str(e.get("entity"))

    def why(d: int, info: tuple[int, float, float], verb: str) -> str:
        k, e, t = info
        ent = f"'{name[k]}'" if k in name else "an entity"
        return f"normalize: {verb} for {ent} (exposure {e:.0f} after this, target {t:.1f})"

    if drops:
        ords = sorted(drops)
        plan.record(op.name, np.asarray(ords, dtype=np.int64), 0, DROP, [why(d, drops[d], "dropped") for d in ords], -1)
    ups_only = sorted(d for d in ups if final[d] > 0)
    if ups_only:
        plan.record(op.name, np.asarray(ups_only, dtype=np.int64), final[ups_only], UPSAMPLE,
                    [why(d, ups[d], "repeated") for d in ups_only], -1)
    if schedule is not None:
        changed = np.flatnonzero(plan.copies != final)
        if len(changed):
            plan.record(op.name, changed, final[changed],
                        [UPSAMPLE if final[d] > plan.copies[d] else DROP if final[d] == 0 else DOWNSAMPLE
                         for d in changed.tolist()],
                        f"normalize schedule {op.schedule}: copies in the first {op.schedule_fraction:g} of the order "
                        "and after it", -1)
        plan.first_phase = first
    after = exp.value
    keys = sorted(before)
    reached = sum(1 for k in keys if abs(after.get(k, 0) - target[k]) < 1.0 or
                  (op.min_exposure is not None and target[k] <= float(op.min_exposure) and after.get(k, 0) >= target[k]))
    s.details = {
        "entities": len(keys), "reached_target": int(reached),
        "gini_before": gini([before[k] for k in keys]), "gini_after": gini([after.get(k, 0) for k in keys]),
        "min_exposure_before": min(before.values()) if before else 0,
        "min_exposure_after": min(after.get(k, 0) for k in keys) if keys else 0,
        "max_exposure_before": max(before.values()) if before else 0,
        "max_exposure_after": max(after.get(k, 0) for k in keys) if keys else 0,
        "documents_dropped": len(drops), "documents_repeated": len(ups_only),
        "tokens_added": int(((final - start).clip(min=0) * table.tokens).sum()),
        "tokens_dropped": int(((start - final).clip(min=0) * table.tokens).sum()),
        "token_budget": float(op.token_budget) * tokens0, "token_budget_left": left, **log,
        "unreached": [{"entity": name.get(k, f"#{k:016x}"), "exposure": after.get(k, 0), "target": target[k]}
                      for k in sorted(keys, key=lambda k: (-abs(after.get(k, 0) - target[k]), k))
                      if abs(after.get(k, 0) - target[k]) >= 1.0][:20],
    }
    if schedule is not None:
        s.details["schedule"] = schedule
    if not keys:
        s.note = "no entity to normalize"
    return plan.end(s)


def _schedule(ctx: OpContext, op: Normalize, index: int, raw: np.ndarray, norm: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Copies of a two-phase output: the first phase (``schedule_fraction`` of the tokens) drawn from
    one distribution, the second the whole other one. Returns (copies, first-phase copies, info)."""
    from curadebt.curation.ops.mixture import allocate

    tokens = ctx.table.tokens.astype(np.int64)
    first_dist, second = (raw, norm) if op.schedule == "raw_first" else (norm, raw)
    f = float(op.schedule_fraction)
    want = f / (1 - f) * float((second.astype(np.int64) * tokens).sum())
    live = np.flatnonzero(first_dist > 0)
    first = np.zeros_like(first_dist)
    if len(live):
        first[live] = allocate(tokens[live], first_dist[live], want, ctx.plan.rng(index, op.name, "schedule"))
    got = float((first.astype(np.int64) * tokens).sum())
    total = got + float((second.astype(np.int64) * tokens).sum())
    info = {"schedule": op.schedule, "first_phase_tokens": int(got), "tokens": int(total),
            "first_phase_share": got / total if total else 0.0}
    return (first + second).astype(np.int32), first.astype(np.int32), info
