"""The curate command's common-case flags (``--no-dedup``, ``--cap-entity``, ``--mixture`` ...) as
changes to a recipe: :func:`apply_flags` returns a new :class:`~curadebt.curation.recipe.Recipe`."""
from __future__ import annotations

import dataclasses
from typing import Any

from curadebt.curation.op import Op, RecipeError, make_op
from curadebt.curation.recipe import Recipe


def apply_flags(recipe: Recipe, *, seed: int | None = None, dedup: bool | None = None,
                near_threshold: float | None = None, keep: str | None = None,
                semantic_threshold: float | None = None, cap_entities: list[str] | None = None, cap_tokens: list[str] | None = None,
                cap_docs: int | None = None, cap_share: float | None = None,
                mixture: str | None = None, alpha: float | None = None, budget: Any = None,
                max_epochs: float | None = None, fact_ratio: float | None = None, fact_mode: str | None = None,
                order: str | None = None, fmt: str | None = None, shard_bytes: int | None = None) -> Recipe:
    """The recipe with the CLI's common-case flags applied (a new Recipe; ops a flag names explicitly
    run ``when: always``)."""
    ops = [dataclasses.replace(op) for op in recipe.ops]

    def find(name: str) -> int | None:
        return next((i for i, o in enumerate(ops) if o.name == name), None)

    def insert(op: Op) -> None:
        i = find("order")
        ops.insert(len(ops) if i is None else i, op)

    if dedup is False:
        ops = [o for o in ops if o.name not in ("exact_dedup", "near_dedup")]
    elif near_threshold is not None or keep is not None:
        i = find("near_dedup")
        if i is None:
            ops.insert(0 if find("exact_dedup") is None else find("exact_dedup") + 1, make_op("near_dedup"))
            i = find("near_dedup")
        if near_threshold is not None:
            ops[i].threshold = near_threshold
        if keep is not None:
            ops[i].keep = keep
    if semantic_threshold is not None:
        i = find("semantic_dedup")
        if i is None:
            after = max((j for j, o in enumerate(ops) if o.name in ("exact_dedup", "near_dedup")), default=-1)
            ops.insert(after + 1, make_op("semantic_dedup"))
            i = after + 1
        ops[i].threshold, ops[i].when = semantic_threshold, "always"
    if cap_entities:
        op = make_op("entity_cap", {"entities": list(cap_entities), "max_docs": cap_docs, "max_share": cap_share})
        i = find("entity_cap")
        if i is None:
            insert(op)
        else:
            ops[i] = op
    if cap_tokens:
        op = make_op("token_cap", {"tokens": list(cap_tokens), "max_docs": cap_docs, "max_share": cap_share})
        i = find("token_cap")
        if i is None:
            insert(op)
        else:
            ops[i] = op
    if mixture == "none":
        ops = [o for o in ops if o.name != "mixture"]
    elif mixture is not None or alpha is not None or budget is not None or max_epochs is not None:
        i = find("mixture")
        if i is None:
            insert(make_op("mixture"))
            i = find("mixture")
        m = ops[i]
        if mixture is not None:
            m.method, m.when = mixture, "always"
            if mixture == "unimax":
                m.alpha = m.temperature = None
        if alpha is not None:
            m.alpha, m.temperature = alpha, None
        if budget is not None:
            m.budget = _parse_budget(budget)
        if max_epochs is not None:
            m.max_epochs = max_epochs
    if fact_ratio is not None or fact_mode is not None:
        i = find("facts")
        if i is None:
            insert(make_op("facts"))
            i = find("facts")
        f = ops[i]
        f.when = "always"
        if fact_ratio is not None:
            f.max_ratio = fact_ratio
        if fact_mode is not None:
            f.mode = fact_mode
    if order is not None:
        i = find("order")
        if i is None:
            ops.append(make_op("order", {"strategy": order}))
        else:
            ops[i].strategy = order
            ops[i].when = "always"
    out = dataclasses.replace(recipe.output)
    if fmt is not None:
        out.format = fmt
    if shard_bytes is not None:
        out.shard_bytes = int(shard_bytes)
    return Recipe(ops=ops, seed=recipe.seed if seed is None else seed, output=out).validate()


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
