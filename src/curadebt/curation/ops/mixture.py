"""Source rebalancing toward a token budget: temperature sampling and UniMax.

Closed forms (``n_i``: tokens of source i among the kept documents, copies counted; ``B``: budget):

- **temperature**: ``q_i = n_i**alpha / sum_j n_j**alpha`` (alpha = 1/T; 1 keeps the mix, 0 makes it
  uniform) and ``T_i = B * q_i``. When a target would exceed ``max_epochs * n_i`` it is capped there
  and the rest of the budget is shared by the other sources in proportion to their ``q`` (water
  filling); ``budget: auto`` is the largest budget at which no cap binds,
  ``B = min_i max_epochs * n_i / q_i``, so every source gets exactly its ``q_i`` (with
  ``max_epochs: 1`` this is pure down-sampling).
- **UniMax** (Chung et al., 2023): sources in increasing size; each gets
  ``min(remaining budget / remaining sources, max_epochs * n_i)``. ``budget: auto`` is the current
  token count.

Allocation to documents: a source at ``e = T_i / n_i`` epochs keeps every document x ``floor(e)``
(times its current copies) and fills the remaining ``T_i - floor(e) * n_i`` tokens with units (one
unit = one current copy of a document) taken in a seeded random order, each taken when it brings the
running total closer to the target (``running + tokens/2 < remainder``). A unit taken adds one copy,
so ``e < 1`` drops documents and ``e > 1`` up-samples them (kept x k). The total error per source is
at most about half a document.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import math

import numpy as np

from curadebt.curation.context import OpContext
from curadebt.curation.plan import DOWNSAMPLE, DROP, KEEP, UPSAMPLE, OpSummary
from curadebt.curation.op import Op, RecipeError, register_op


@register_op
@dataclass
class Mixture(Op):
    """Rebalance sources toward a token budget.

    ``temperature``: target share ``q_i = n_i**alpha / sum_j n_j**alpha`` (alpha = 1/T).
    ``unimax``: uniform over sources, each capped at ``max_epochs`` epochs, the rest spread over the
    others (Chung et al., 2023). ``budget``: tokens (int), a multiple of the current tokens
    (``"0.8x"``) or ``auto`` (temperature: the largest budget that meets every target share within
    ``max_epochs``; unimax: the current tokens). ``weights`` (source -> weight) overrides the
    closed form for named sources."""

    name: ClassVar[str] = "mixture"
    position: ClassVar[int] = 80
    dimension: ClassVar[str] = "mixture"
    method: str = "temperature"
    alpha: float | None = None        # temperature: exponent (default 0.5); temperature T = 1/alpha
    temperature: float | None = None
    budget: Any = "auto"
    max_epochs: float | None = None   # default 1 (temperature, down-sampling only) / 4 (unimax)

    def validate(self) -> None:
        super().validate()
        if self.method not in ("temperature", "unimax"):
            raise RecipeError(f"mixture: method must be 'temperature' or 'unimax', got {self.method!r}")
        if self.alpha is not None and self.temperature is not None:
            raise RecipeError("mixture: give alpha or temperature, not both")
        if self.temperature is not None and float(self.temperature) <= 0:
            raise RecipeError("mixture: temperature must be > 0")
        if self.alpha is not None and float(self.alpha) < 0:
            raise RecipeError("mixture: alpha must be >= 0")
        if self.max_epochs is not None and float(self.max_epochs) <= 0:
            raise RecipeError("mixture: max_epochs must be > 0")
        b = self.budget
        if not (b == "auto" or (isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0)
                or (isinstance(b, str) and b.endswith("x") and _is_number(b[:-1]) and float(b[:-1]) > 0)):
            raise RecipeError(f"mixture: budget must be 'auto', a token count or a multiple like '0.8x', got {b!r}")

    def preflight(self, config: Any) -> None:
        if self.when == "always" and config.reader.source_field is None and config.reader.source_from is None:
            raise RecipeError("the mixture op rebalances sources, and no source is given: pass --source-field "
                              "(or --source-from for text files), or leave the mixture out")

    @property
    def exponent(self) -> float:
        if self.temperature is not None:
            return 1.0 / float(self.temperature)
        return 0.5 if self.alpha is None else float(self.alpha)

    @property
    def epochs(self) -> float:
        if self.max_epochs is not None:
            return float(self.max_epochs)
        return 1.0 if self.method == "temperature" else 4.0

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return mixture(ctx, self, index)


def temperature_shares(tokens: dict[str, float], alpha: float) -> dict[str, float]:
    """``q_i = n_i**alpha / sum_j n_j**alpha`` over the sources with tokens."""
    w = {s: (float(n) ** alpha if n > 0 else 0.0) for s, n in tokens.items()}
    tot = sum(w.values())
    return {s: (v / tot if tot else 0.0) for s, v in w.items()}


def temperature_auto_budget(tokens: dict[str, float], alpha: float, max_epochs: float) -> float:
    """The largest budget at which every source meets its share within ``max_epochs``."""
    q = temperature_shares(tokens, alpha)
    vals = [max_epochs * n / q[s] for s, n in tokens.items() if n > 0 and q[s] > 0]
    return min(vals) if vals else 0.0


def temperature_targets(tokens: dict[str, float], alpha: float, budget: float, max_epochs: float) -> dict[str, float]:
    """Token targets: ``B * q_i``, capped at ``max_epochs * n_i`` with the excess water-filled."""
    q = temperature_shares(tokens, alpha)
    targets: dict[str, float] = {}
    free = {s for s, n in tokens.items() if n > 0}
    remaining = float(budget)
    while free:
        qs = math.fsum(q[s] for s in sorted(free))  # exact: no dependence on the set's (hash) order
        capped = {s for s in free if qs > 0 and remaining * q[s] / qs > max_epochs * tokens[s]}
        if not capped:
            for s in sorted(free):
                targets[s] = remaining * q[s] / qs if qs else 0.0
            break
        for s in sorted(capped):
            targets[s] = max_epochs * tokens[s]
            remaining -= targets[s]
        free -= capped
    for s in tokens:
        targets.setdefault(s, 0.0)
    return targets


def unimax_targets(tokens: dict[str, float], budget: float, max_epochs: float) -> dict[str, float]:
    """UniMax: uniform allocation, each source capped at ``max_epochs`` epochs, smallest first."""
    order = sorted((s for s, n in tokens.items() if n > 0), key=lambda s: (tokens[s], s))
    remaining = float(budget)
    targets = {s: 0.0 for s in tokens}
    for i, s in enumerate(order):
        alloc = min(remaining / (len(order) - i), max_epochs * tokens[s])
        targets[s] = alloc
        remaining -= alloc
    return targets


def allocate(tokens: np.ndarray, copies: np.ndarray, target: float, rng: np.random.Generator) -> np.ndarray:
    """New copies for the documents of one source so that ``sum(new * tokens)`` is close to
    ``target`` (see the module docstring). ``tokens``/``copies`` are per document (copies >= 1)."""
    tokens = np.asarray(tokens, dtype=np.int64)
    copies = np.asarray(copies, dtype=np.int64)
    current = float((tokens * copies).sum())
    if current <= 0:
        return copies.copy()
    epochs = target / current
    base = int(math.floor(epochs + 1e-12))
    new = copies * base
    remainder = target - base * current
    units = np.repeat(np.arange(len(tokens)), copies)
    order = rng.permutation(len(units))
    running = 0.0
    ut = tokens[units[order]].tolist()
    picked = np.zeros(len(tokens), dtype=np.int64)
    if remainder > 0:
        for pos, t in zip(order.tolist(), ut):
            if running + t / 2 < remainder:
                picked[units[pos]] += 1
                running += t
    return new + picked


def _budget(op: Mixture, tokens: dict[str, float]) -> tuple[float, str]:
    cur = float(sum(tokens.values()))
    b = op.budget
    if b == "auto":
        if op.method == "temperature":
            return temperature_auto_budget(tokens, op.exponent, op.epochs), "auto: largest budget meeting every share"
        return cur, "auto: the current tokens"
    if isinstance(b, str) and b.endswith("x"):
        return cur * float(b[:-1]), f"{b} the current tokens"
    return float(b), "tokens"


def mixture(ctx: OpContext, op: Mixture, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    kept = plan.kept
    names = table.source_names
    label = [("(none)" if n is None else n) for n in names]
    tok = {label[i]: float((table.tokens[kept & (table.source == i)] * plan.copies[kept & (table.source == i)]).sum())
           for i in range(len(names))}
    tok = {k: v for k, v in tok.items() if v > 0}
    if len(tok) < 2:
        s.note = "fewer than two sources: nothing to rebalance (give --source-field)"
        return plan.end(s)
    budget, how = _budget(op, tok)
    if op.method == "temperature":
        targets = temperature_targets(tok, op.exponent, budget, op.epochs)
        shares = temperature_shares(tok, op.exponent)
    else:
        targets = unimax_targets(tok, budget, op.epochs)
        tot = sum(targets.values())
        shares = {k: (v / tot if tot else 0.0) for k, v in targets.items()}
    realised = {}
    for i, name in enumerate(names):
        src = label[i]
        if src not in tok:
            continue
        docs = np.flatnonzero(kept & (table.source == i))
        old = plan.copies[docs].astype(np.int64)
        rng = plan.rng(index, op.name, src)
        new = allocate(table.tokens[docs], old, targets[src], rng)
        realised[src] = float((new * table.tokens[docs]).sum())
        epochs = targets[src] / tok[src]
        changed = new != old
        for mask, action in ((changed & (new == 0), DROP), (changed & (new > old), UPSAMPLE),
                             (changed & (new < old) & (new > 0), DOWNSAMPLE), (~changed, KEEP)):
            sel = docs[mask]
            if not len(sel):
                continue
            plan.record(op.name, sel, new[mask], action,
                        f"{op.method} sampling: source '{src}' {tok[src]:,.0f} -> {targets[src]:,.0f} tokens "
                        f"({epochs:.3f} epochs, target share {shares.get(src, 0.0):.3f})", -1)
    total = sum(realised.values())
    s.details = {
        "method": op.method, "alpha": op.exponent if op.method == "temperature" else None,
        "max_epochs": op.epochs, "budget": budget, "budget_rule": how,
        "sources": {src: {"tokens_before": tok[src], "target_tokens": targets[src], "tokens_after": realised[src],
                          "target_share": shares.get(src, 0.0),
                          "share_after": realised[src] / total if total else 0.0,
                          "epochs": targets[src] / tok[src]} for src in sorted(tok)},
        "max_abs_error_of_budget": max(abs(realised[k] - targets[k]) for k in tok) / budget if budget else 0.0,
    }
    return plan.end(s)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
