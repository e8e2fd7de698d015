"""Fact balancing: bring competing answers of a probe to a target ratio.

Counts are the probes measure's (:mod:`curadebt.measures.probes`): an answer's evidence is the number of
sentences where subject and answer co-occur, or of documents when no answer co-occurs with the
subject in any sentence (the ``basis``), over the kept documents with their copies. The dominance
ratio is ``(top + 1) / (runner_up + 1)``, as in the audit.

For each selected probe whose ratio is over ``max_ratio`` (default 0.75 x the debt threshold, 3.0):

- ``mode: up`` (or ``both``, first): the documents supporting each answer other than the top one
  are kept x k, the smallest k that brings that answer to ``(top + 1) / max_ratio - 1``, at most
  ``max_copies``;
- ``mode: down`` (or ``both``, then): the top answer's documents are kept one at a time in the
  diverse order (see :mod:`curadebt.curation.ops.caps`; documents that also support another answer
  first) while ``(top + 1) <= max_ratio * (runner_up + 1)`` holds; the others are dropped.

``probes: auto`` balances every probe over ``max_ratio``; a list of ids balances those.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import math

import numpy as np

from curadebt.curation.ops.caps import diverse_order_select
from curadebt.curation.context import OpContext
from curadebt.curation.plan import DROP, KEEP, UPSAMPLE, OpSummary
from curadebt.curation.op import Op, RecipeError, check_select, register_op


@register_op
@dataclass
class Facts(Op):
    """Bring competing answers of the probes to at most ``max_ratio`` (smoothed, as the audit's
    dominance ratio) by down-sampling the top answer's documents (``mode: down``), up-sampling the
    runner-up's (``up``, at most ``max_copies`` copies) or both."""

    name: ClassVar[str] = "facts"
    position: ClassVar[int] = 60
    dimension: ClassVar[str] = "probes"
    probes: Any = "auto"              # "auto" (every probe over max_ratio) or a list of probe ids
    max_ratio: float | None = None    # None: 0.75 x the debt threshold
    mode: str = "down"
    max_copies: int = 10
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        check_select(self)
        if self.mode not in ("down", "up", "both"):
            raise RecipeError(f"facts: mode must be 'down', 'up' or 'both', got {self.mode!r}")
        if self.max_ratio is not None and float(self.max_ratio) < 1:
            raise RecipeError(f"facts: max_ratio must be >= 1, got {self.max_ratio!r}")
        if int(self.max_copies) < 1:
            raise RecipeError("facts: max_copies must be >= 1")
        if self.probes != "auto" and not (isinstance(self.probes, list) and all(isinstance(e, str) for e in self.probes)):
            raise RecipeError(f"facts: probes must be 'auto' or a list of probe ids, got {self.probes!r}")

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return facts(ctx, self, index)

RATIO_MARGIN = 0.75


def _support(ctx: OpContext, pi: int) -> dict[int, list[tuple[int, int]]]:
    """answer index -> [(ordinal, sentences)] for the kept documents supporting it."""
    table, plan = ctx.table, ctx.plan
    hit = np.flatnonzero(table.pr_probe == pi)
    rows = np.searchsorted(table.pr_off, hit, side="right") - 1
    out: dict[int, list[tuple[int, int]]] = {}
    for h, d in zip(hit.tolist(), rows.tolist()):
        if plan.copies[d] > 0:
            out.setdefault(int(table.pr_answer[h]), []).append((d, int(table.pr_sent[h])))
    return out


def _counts(ctx: OpContext, support: dict[int, list[tuple[int, int]]], n_answers: int) -> tuple[list[int], str]:
    copies = ctx.plan.copies
    sents = [sum(s * int(copies[d]) for d, s in support.get(a, [])) for a in range(n_answers)]
    if sum(sents) > 0:
        return sents, "sentences"
    docs = [sum(int(copies[d]) for d, _ in support.get(a, [])) for a in range(n_answers)]
    return docs, "documents" if sum(docs) else "none"


def _ranked(values: list[int], answers) -> list[int]:
    return sorted(range(len(answers)), key=lambda i: (-values[i], answers[i]))


def _standing(ctx: OpContext, pi: int, n_answers: int) -> tuple[list[int], str, int, int | None, int]:
    """(evidence per answer, its basis, top answer, runner-up, runner-up's evidence) in the kept documents."""
    values, basis = _counts(ctx, _support(ctx, pi), n_answers)
    rank = _ranked(values, ctx.probes[pi].answers)
    runner = rank[1] if len(rank) > 1 else None
    return values, basis, rank[0], runner, values[runner] if runner is not None else 0


def facts(ctx: OpContext, op: Facts, index: int) -> OpSummary:
    plan = ctx.plan
    s = plan.begin(op.name, op.params())
    if not ctx.probes:
        s.note = "no probes (give --probes)"
        return plan.end(s)
    max_ratio = float(op.max_ratio) if op.max_ratio is not None else RATIO_MARGIN * ctx.thresholds.dominance_ratio
    wanted = None if op.probes == "auto" else set(op.probes)
    per = {}
    for pi, probe in enumerate(ctx.probes):
        if wanted is not None and probe.id not in wanted:
            continue
        n = len(probe.answers)
        values, basis, top, runner, run_v = _standing(ctx, pi, n)
        if basis == "none":
            if wanted is not None:
                per[probe.id] = {"note": "no evidence in the kept documents"}
            continue
        ratio = (values[top] + 1) / (run_v + 1)
        info = {"basis": basis, "top_answer": probe.answers[top],
                "runner_up": probe.answers[runner] if runner is not None else None,
                "before": {probe.answers[a]: values[a] for a in range(n)}, "ratio_before": ratio,
                "max_ratio": max_ratio}
        if ratio <= max_ratio:
            if wanted is not None:
                info["note"] = "already within max_ratio"
                per[probe.id] = info
            continue
        if op.mode in ("up", "both"):
            _up_sample(ctx, op, pi, values, basis, top, max_ratio)
            values, basis, top, runner, run_v = _standing(ctx, pi, n)
        if op.mode in ("down", "both") and (values[top] + 1) > max_ratio * (run_v + 1):
            _down_sample(ctx, op, index, pi, basis, top, runner, max_ratio)
        values, _, top, _, run_v = _standing(ctx, pi, n)
        info["after"] = {probe.answers[a]: values[a] for a in range(n)}
        info["ratio_after"] = (values[top] + 1) / (run_v + 1)
        per[probe.id] = info
    s.details = {"max_ratio": max_ratio, "mode": op.mode, "probes": per}
    if not per:
        s.note = f"no probe over {max_ratio:g}:1"
    return plan.end(s)


def _up_sample(ctx: OpContext, op: Facts, pi: int, values: list[int], basis: str, top: int, max_ratio: float) -> None:
    """Repeat the documents of every rival answer (not also the top's) up to ``max_copies`` times, to
    bring it within ``max_ratio`` of the top answer."""
    plan, probe = ctx.plan, ctx.probes[pi]
    support = _support(ctx, pi)
    unit = "sentences" if basis == "sentences" else "documents"
    need = (values[top] + 1) / max_ratio - 1
    for a in range(len(probe.answers)):
        if a == top or not support.get(a):
            continue
        have = values[a]
        if have >= need or have == 0:
            continue
        k = min(int(op.max_copies), math.ceil(need / have))
        docs = sorted({d for d, _ in support[a]} - {d for d, _ in support.get(top, [])})
        if not docs or k <= 1:
            continue
        new = np.asarray([int(plan.copies[d]) * k for d in docs], dtype=np.int32)
        plan.record(op.name, docs, new, UPSAMPLE,
                    f"fact '{probe.id}': answer '{probe.answers[a]}' up-sampled x{k} "
                    f"({have} -> {have * k} {unit}; top '{probe.answers[top]}' has {values[top]})", -1)


def _down_sample(ctx: OpContext, op: Facts, index: int, pi: int, basis: str, top: int, runner: int | None,
                 max_ratio: float) -> None:
    """Drop documents of the top answer (diverse or random order; those also supporting a rival
    first) while the top stays over ``max_ratio`` x the runner-up; record kept and dropped."""
    plan, probe = ctx.plan, ctx.probes[pi]

    def weight(d: int, sents: int) -> int:
        return sents if basis == "sentences" else 1

    sup = _support(ctx, pi)
    sents_of = {d: sc for d, sc in sup.get(top, [])}
    others: dict[int, dict[int, int]] = {}
    for a, lst in sup.items():
        if a != top:
            for d, sc in lst:
                others.setdefault(d, {})[a] = sc
    fixed_runner = sum(weight(d, sc) * int(plan.copies[d]) for d, sc in sup.get(runner, [])
                       if d not in sents_of) if runner is not None else 0
    state = {"top": 0, "runner": fixed_runner}
    cands = np.asarray(sorted(sents_of), dtype=np.int64)
    rng = plan.rng(index, op.name, probe.id)
    # documents that also support a competing answer come first (dropping them would also lower
    # the rival), then the diverse/random order
    pr = rng.random(len(cands)) + np.asarray([0.0 if int(d) in others else 1.0 for d in cands])

    def accept(d: int) -> bool:
        c = int(plan.copies[d])
        t = state["top"] + weight(d, sents_of[d]) * c
        r = state["runner"] + (weight(d, others.get(d, {}).get(runner, 0)) * c
                               if runner is not None and runner in others.get(d, {}) else 0)
        if t + 1 > max_ratio * (r + 1):
            return False
        state["top"], state["runner"] = t, r
        return True

    if op.select == "diverse":
        feats = [ctx.table.features(int(d)) for d in cands]
        # keep the "supports a rival first" rule ahead of coverage: run the two groups in turn
        first = np.asarray([int(d) in others for d in cands])
        kept, rejected = [], []
        covered: set[int] = set()
        for grp in (first, ~first):
            k_, r_, _g = diverse_order_select(cands[grp], [f for f, g in zip(feats, grp) if g], pr[grp],
                                              accept, True, covered)
            kept += k_
            rejected += r_
    else:
        kept, rejected, _g = diverse_order_select(cands, [], pr, accept, False)
    if rejected:
        plan.record(op.name, sorted(rejected), 0, DROP,
                    f"fact '{probe.id}': answer '{probe.answers[top]}' down-sampled to keep it within "
                    f"{max_ratio:g}:1 of '{probe.answers[runner] if runner is not None else '-'}' "
                    f"({len(kept)} of {len(cands)} supporting documents kept)", -1)
    if kept:
        ks = sorted(kept)
        plan.record(op.name, ks, plan.copies[ks], KEEP,
                    f"fact '{probe.id}': kept as evidence for '{probe.answers[top]}' "
                    f"({len(kept)} of {len(cands)} supporting documents, {op.select})", -1)
