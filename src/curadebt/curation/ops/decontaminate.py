"""The ``decontaminate`` op: drop the training documents that hold text of an evaluation set.

It reads the ``contaminated.jsonl`` that ``curadebt decontaminate`` wrote for this corpus (one line
per contaminated document: its id and the evaluation items it overlaps) and drops those documents,
each with the evaluation set, item and span in its ledger reason. The tail guard does not apply: a
document that leaks an evaluation answer goes even when it is the last one about its entity. Ids in
the file that the corpus does not hold are counted and named in the op's details (a file made for
another corpus is an error: none of its ids match).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from curadebt.curation.context import OpContext
from curadebt.curation.op import Op, RecipeError, register_op
from curadebt.curation.plan import DROP, OpSummary

ACTIONS = ("drop",)
REASON_SPANS = 1  # spans quoted per document in its reason


@register_op
@dataclass
class Decontaminate(Op):
    """Drop every document listed in ``documents`` (a ``contaminated.jsonl`` of ``curadebt
    decontaminate``): documents holding an n-gram of an evaluation item. ``action``: ``drop``."""

    name: ClassVar[str] = "decontaminate"
    position: ClassVar[int] = 35
    dimension: ClassVar[str] = "contamination"
    documents: str = ""
    action: str = "drop"

    def validate(self) -> None:
        super().validate()
        if self.when != "always":
            raise RecipeError("decontaminate: when must be 'always' (the audit has no contamination dimension)")
        if self.action not in ACTIONS:
            raise RecipeError(f"decontaminate: action must be one of {ACTIONS}, got {self.action!r}")
        if not self.documents:
            raise RecipeError("decontaminate: give documents: the contaminated.jsonl of `curadebt decontaminate`")

    def preflight(self, config: Any) -> None:
        if not Path(self.documents).is_file():
            raise RecipeError(f"decontaminate: {self.documents} is not a file (run `curadebt decontaminate` first)")

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return decontaminate(ctx, self, index)


def read_contaminated(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Document id -> the (eval, item, span) hits of a ``contaminated.jsonl``."""
    out: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[str(row["id"])] = list(row.get("hits") or [])
            except (ValueError, KeyError, TypeError) as e:
                raise RecipeError(f"decontaminate: {path}:{n} is not a contaminated.jsonl row ({e})") from None
    return out


def decontaminate(ctx: OpContext, op: Decontaminate, index: int) -> OpSummary:
    plan = ctx.plan
    s = plan.begin(op.name, op.params())
    listed = read_contaminated(op.documents)
    where = {doc_id: d for d, doc_id in enumerate(ctx.table.ids)}
    found = sorted(where[i] for i in listed if i in where)
    missing = sorted(i for i in listed if i not in where)
    if listed and not found:
        raise RecipeError(f"decontaminate: none of the {len(listed):,} documents of {op.documents} is in this corpus "
                          "(was it made for another one, or with another --id-field?)")
    drop = np.asarray([d for d in found if plan.copies[d] > 0], dtype=np.int64)
    reasons = [_reason(listed[ctx.table.ids[d]]) for d in drop.tolist()]
    plan.record(op.name, drop, 0, DROP, reasons, -1)
    evals = sorted({h.get("eval", "?") for hits in listed.values() for h in hits})
    s.details = {"listed": len(listed), "in_corpus": len(found), "dropped": int(len(drop)),
                 "not_in_corpus": len(missing), "not_in_corpus_examples": missing[:5], "evals": evals}
    return plan.end(s)


def _reason(hits: list[dict[str, Any]]) -> str:
    items = sorted({(h.get("eval", "?"), str(h.get("item", "?"))) for h in hits})
    span = " ".join(str(hits[0].get("span", "")).split()[:12]) if hits else ""
    named = ", ".join(f"{e} item {i}" for e, i in items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
    return f"holds text of {named} ('{span}...')"
