"""Entity and token caps: keep at most so many documents mentioning an entity (or containing a
token), choosing the kept ones so that the remaining mentions are as diverse as possible.

Selection (``select: diverse``): greedy maximum coverage. Each candidate document has a feature
set: the other entities it mentions plus its context sketch (a consistent sample of its distinct
words, see :mod:`curadebt.curate.scan`). Documents are taken one at a time, always the one that adds
the most features not yet covered (lazy greedy, exact); ties go to a seeded random priority. A
document is kept only if the cap still holds with it; otherwise it is dropped and the next one is
tried (a smaller document may still fit). Once every feature is covered, the gain is 0 for all and
the order is the seeded random one. ``select: random`` uses the seeded random order only.

Caps (per entity or token; copies count: a document kept x k counts k times):

- ``max_docs``: at most that many documents;
- ``max_share``: at most that share of all kept documents;
- ``max_mentions``: at most that many mentions (entity) or occurrences (token);
- otherwise (and with ``entities: auto``) the spillover cap: for each spillover token ``t`` of the
  entity, occurrences of ``t`` inside the entity may be at most ``spillover_target`` of all
  occurrences of ``t`` in the kept corpus (the salience measure's ``share``); ``spillover_target``
  defaults to 0.9 x the debt threshold (0.45).

``entities: auto`` takes the entities of the input audit's spillover rows that are a debt (the
debt score's own rule: the entity is a salience outlier, lift >= 2, >= 3 occurrences outside it,
share >= the threshold), most mentions first; ``tokens: auto`` takes those rows' tokens.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from typing import Callable

import numpy as np

from curadebt.curate.context import OpContext
from curadebt.curate.plan import DROP, KEEP, OpSummary
from curadebt.curate.recipe import EntityCap, TokenCap
from curadebt.curate.scan import entity_hash
from curadebt.text.tokenize import WORD_RE

SPILLOVER_MARGIN = 0.9


def diverse_order_select(candidates: np.ndarray, features: list[list[int]], priority: np.ndarray,
                         accept: Callable[[int], bool], diverse: bool = True,
                         covered: set[int] | None = None,
                         costs: np.ndarray | None = None) -> tuple[list[int], list[int], dict[int, int]]:
    """Greedy max-coverage selection with a feasibility check (cost-benefit greedy when ``costs``
    are given: the next document is the one with the most new features per unit of cost).

    Returns (kept ordinals in selection order, rejected ordinals, gain of each kept document).
    ``accept(ordinal)`` is called in selection order; it must update its own counters when it
    returns True. Ties go to the lower ``priority`` (a seeded random number), then the lower ordinal.
    """
    covered = set() if covered is None else covered
    kept: list[int] = []
    rejected: list[int] = []
    gains: dict[int, int] = {}
    cost = np.ones(len(candidates)) if costs is None else np.maximum(np.asarray(costs, dtype=np.float64), 1e-9)
    if not diverse:
        for i in np.lexsort((candidates, priority, cost)).tolist():
            d = int(candidates[i])
            if accept(d):
                kept.append(d)
                gains[d] = 0
            else:
                rejected.append(d)
        return kept, rejected, gains
    feats = [set(f) for f in features]
    # (-(gain / cost), gain, priority, ordinal, index): ties in ratio go to the larger gain
    heap = [(-(len(feats[i]) / cost[i]), -len(feats[i]), float(priority[i]), int(candidates[i]), i)
            for i in range(len(candidates))]
    heapq.heapify(heap)
    while heap:
        neg_ratio, neg_gain, pr, d, i = heapq.heappop(heap)
        gain = len(feats[i] - covered)
        if gain < -neg_gain:  # stale: push back with its true gain (lazy greedy; gains only shrink)
            heapq.heappush(heap, (-(gain / cost[i]), -gain, pr, d, i))
            continue
        if accept(d):
            kept.append(d)
            gains[d] = gain
            covered |= feats[i]
        else:
            rejected.append(d)
    return kept, rejected, gains


def qualifying_spillover(before: dict, thresholds) -> list[dict]:
    """The input audit's spillover rows that are a debt (the debt score's rule), most share first."""
    sal = before.get("salience") or {}
    rows = [r for r in sal.get("spillover") or [] if isinstance(r, dict)]
    outliers = sal.get("outliers")
    if not isinstance(outliers, list):
        outliers = [e.get("entity") for e in sal.get("entities") or [] if e.get("outlier")]
    outliers = set(outliers)
    out = []
    for r in rows:
        share, lift, count = r.get("share"), r.get("lift"), r.get("token_count")
        if share is None or lift is None or count is None:
            continue
        other = count - round(share * count)
        if thresholds.spillover_requires_outlier and r.get("entity") not in outliers:
            continue
        if lift >= thresholds.spillover_lift and other >= thresholds.spillover_min_other and share >= thresholds.spillover_share:
            out.append(r)
    out.sort(key=lambda r: (-r["share"], str(r["token"])))
    return out


def _entity_words(entity: str) -> Counter:
    return Counter(w for w in WORD_RE.findall(entity) if w[:1].isupper())


class _Counters:
    """Running totals for the caps of one entity/token over the documents accepted so far."""

    def __init__(self, limit_docs: int | None, limit_mentions: int | None,
                 spill: list[tuple[str, int, float, dict[int, int], dict[int, int]]]):
        self.limit_docs = limit_docs
        self.limit_mentions = limit_mentions
        self.docs = 0
        self.mentions = 0
        # spillover: (token, base_other, target, inside per doc, occurrences per doc) with running sums
        self.spill = spill
        self.inside = [0] * len(spill)
        self.total = [base for _, base, _, _, _ in spill]

    def accept(self, d: int, copies: int, mentions: int) -> bool:
        if self.limit_docs is not None and self.docs + copies > self.limit_docs:
            return False
        if self.limit_mentions is not None and self.mentions + mentions * copies > self.limit_mentions:
            return False
        for j, (_t, _base, target, inside, occ) in enumerate(self.spill):
            ins = self.inside[j] + inside.get(d, 0) * copies
            tot = self.total[j] + occ.get(d, 0) * copies
            if ins > 0 and ins > target * tot + 1e-9:
                return False
        self.docs += copies
        self.mentions += mentions * copies
        for j, (_t, _base, _target, inside, occ) in enumerate(self.spill):
            self.inside[j] += inside.get(d, 0) * copies
            self.total[j] += occ.get(d, 0) * copies
        return True


def _limit_docs(op, plan) -> int | None:
    limits = []
    if op.max_docs is not None:
        limits.append(int(op.max_docs))
    if op.max_share is not None:
        limits.append(int(float(op.max_share) * plan.output_documents()))
    return min(limits) if limits else None


def _spill_terms(ctx: OpContext, entity: str, tokens: list[str], target: float, candidates: np.ndarray):
    """Spillover constraints of ``entity`` for each of ``tokens``: base occurrences in kept
    non-candidate documents, and per candidate its inside-entity and total occurrences."""
    table, plan = ctx.table, ctx.plan
    mult = _entity_words(entity)
    e_docs, e_cnt = table.entity_docs(entity)
    mentions = dict(zip(e_docs.tolist(), e_cnt.tolist()))
    cand = set(candidates.tolist())
    terms = []
    for t in tokens:
        m = mult.get(t, 0)
        if m == 0:
            continue
        w_docs, w_cnt = table.word_docs(t)
        occ = dict(zip(w_docs.tolist(), w_cnt.tolist()))
        base = sum(c * int(plan.copies[d]) for d, c in occ.items() if d not in cand)
        inside = {d: mentions.get(d, 0) * m for d in cand}
        occ_c = {d: max(occ.get(d, 0), inside[d]) for d in cand}
        outside = base + sum(occ_c[d] - inside[d] for d in cand)
        if outside < ctx.thresholds.spillover_min_other:
            continue  # the token hardly occurs outside the entity: nothing for it to spill onto
        terms.append((t, base, target, inside, occ_c))
    return terms


def _select_cap(ctx: OpContext, op, index: int, key: str, candidates: np.ndarray, mentions_of: dict[int, int],
                exclude_features: set[int], spill_terms) -> dict:
    """Choose the kept candidates for one entity/token cap (nothing is recorded yet)."""
    plan, table = ctx.plan, ctx.table
    rng = plan.rng(index, op.name, key)
    priority = rng.random(len(candidates))
    limit_docs = _limit_docs(op, plan)
    counters = _Counters(limit_docs, None if op.max_mentions is None else int(op.max_mentions), spill_terms)
    diverse = op.select == "diverse"
    feats = [table.features(int(d), exclude_features) for d in candidates] if diverse else []
    copies = plan.copies[candidates].astype(np.int64)
    # budget in mentions (mention / spillover caps) -> cost = mentions; budget in documents -> cost = copies
    by_mentions = limit_docs is None
    costs = (np.asarray([mentions_of.get(int(d), 0) for d in candidates]) * copies) if by_mentions else copies

    def accept(d: int) -> bool:
        return counters.accept(d, int(plan.copies[d]), mentions_of.get(d, 0))

    kept, rejected, gains = diverse_order_select(candidates, feats, priority, accept, diverse, costs=costs)
    tokens_lost = int(sum(int(table.tokens[d]) * int(plan.copies[d]) for d in rejected))
    return {"key": key, "kept": kept, "rejected": rejected, "gains": gains, "counters": counters,
            "candidates": candidates, "tokens_lost": tokens_lost, "limit_docs": limit_docs,
            "spill_terms": spill_terms,
            "mentions_before": int(sum(mentions_of.get(int(d), 0) * int(plan.copies[d]) for d in candidates))}


def _apply_cap(ctx: OpContext, op, label: str, sel: dict, details: dict) -> None:
    plan = ctx.plan
    key, kept, rejected, gains = sel["key"], sel["kept"], sel["rejected"], sel["gains"]
    n_c = len(sel["candidates"])
    cap_txt = _cap_text(op, sel["limit_docs"], sel["spill_terms"])
    if rejected:
        rej = np.asarray(sorted(rejected), dtype=np.int64)
        plan.record(op.name, rej, 0, DROP,
                    f"{label} '{key}' over its cap ({cap_txt}); {len(kept)} of {n_c} documents kept", -1)
    if kept:
        ranks = {d: r for r, d in enumerate(kept)}
        ks = np.asarray(sorted(kept), dtype=np.int64)
        plan.record(op.name, ks, plan.copies[ks], KEEP,
                    [f"kept for {label} '{key}': pick {ranks[d] + 1} of {len(kept)} ({op.select}"
                     + (f", {gains[d]} new context features" if op.select == "diverse" else "") + f"; {cap_txt})"
                     for d in ks.tolist()], -1)
    counters = sel["counters"]
    info = {"candidates": int(n_c), "kept": len(kept), "dropped": len(rejected),
            "mentions_before": sel["mentions_before"], "mentions_after": int(counters.mentions),
            "tokens_dropped": sel["tokens_lost"], "cap": cap_txt}
    if sel["spill_terms"]:
        info["spillover_after"] = {t: (counters.inside[j] / counters.total[j] if counters.total[j] else 0.0)
                                   for j, (t, *_r) in enumerate(sel["spill_terms"])}
    details[key] = info


def _cap_text(op, limit_docs, spill_terms) -> str:
    parts = []
    if limit_docs is not None:
        parts.append(f"at most {limit_docs} documents")
    if op.max_mentions is not None:
        parts.append(f"at most {op.max_mentions} mentions")
    if spill_terms:
        toks = ", ".join(f"'{t}'" for t, *_ in spill_terms)
        parts.append(f"spillover share of {toks} <= {spill_terms[0][2]:.2f}")
    return "; ".join(parts) or "no cap"


def _spill_target(ctx: OpContext, op) -> float:
    return float(op.spillover_target) if op.spillover_target is not None else SPILLOVER_MARGIN * ctx.thresholds.spillover_share


def _budgeted(ctx: OpContext, op, label: str, items: list[tuple[str, np.ndarray, dict, set, list]], index: int,
              auto: bool, details: dict) -> None:
    """Select and apply each cap in turn; in auto mode an item whose cap would drop more tokens
    than what is left of ``max_token_loss`` is skipped (and said so)."""
    plan = ctx.plan
    budget = None
    if auto and op.max_token_loss is not None:
        budget = float(op.max_token_loss) * plan.output_tokens()
    for key, docs, mentions_of, exclude, terms in items:
        sel = _select_cap(ctx, op, index, key, docs, mentions_of, exclude, terms)
        if budget is not None and sel["tokens_lost"] > budget + 1e-9:
            details[key] = {"candidates": int(len(docs)), "kept": int(len(docs)), "dropped": 0,
                            "skipped": True, "tokens_dropped": 0,
                            "note": f"skipped: capping it would drop {sel['tokens_lost']:,} tokens, more than the "
                                    f"{budget:,.0f} left of max_token_loss={op.max_token_loss:g}"}
            continue
        _apply_cap(ctx, op, label, sel, details)
        if budget is not None:
            budget -= sel["tokens_lost"]


def entity_cap(ctx: OpContext, op: EntityCap, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    explicit_cap = op.max_docs is not None or op.max_share is not None or op.max_mentions is not None
    target = _spill_target(ctx, op)
    auto = op.entities == "auto"
    if auto:
        rows = qualifying_spillover(ctx.before, ctx.thresholds)
        by_entity: dict[str, list[str]] = {}
        worst: dict[str, float] = {}
        for r in rows:
            e = str(r["entity"])
            by_entity.setdefault(e, []).append(str(r["token"]))
            worst[e] = max(worst.get(e, 0.0), float(r["share"]))
        entities = sorted(by_entity, key=lambda e: (-worst[e], e))
        s.details["selection"] = "auto: entities owning a flagged spillover token, worst share first"
    else:
        by_entity = {e: sorted(_entity_words(e)) for e in op.entities}
        entities = list(op.entities)
    per: dict = {}
    items = []
    for ent in entities:
        docs, cnt = table.entity_docs(ent)
        keep_mask = plan.copies[docs] > 0
        docs, cnt = docs[keep_mask], cnt[keep_mask]
        if not len(docs):
            per[ent] = {"candidates": 0, "kept": 0, "dropped": 0, "note": "no kept document mentions it"}
            continue
        items.append((ent, docs, dict(zip(docs.tolist(), cnt.tolist())), {entity_hash(ent)},
                      None if explicit_cap else by_entity.get(ent, [])))
    # spillover terms are computed when the item's turn comes (earlier caps change the base counts)
    _budgeted(ctx, op, "entity", _lazy_terms(ctx, items, target), index, auto, per)
    s.details["entities"] = per
    if not entities:
        s.note = "no entity to cap"
    return plan.end(s)


class _lazy_terms:
    """Items whose spillover terms are computed just before their selection."""

    def __init__(self, ctx, items, target, entity_of=None):
        self.ctx, self.items, self.target, self.entity_of = ctx, items, target, entity_of

    def __iter__(self):
        for k, d, m, x, t in self.items:
            ent = self.entity_of(k) if self.entity_of else k
            # candidates may have been dropped by an earlier item of this op
            live = d[self.ctx.plan.copies[d] > 0]
            if not len(live):
                continue
            terms = _spill_terms(self.ctx, ent, t, self.target, live) if t is not None and ent else []
            yield k, live, m, x, terms


def token_cap(ctx: OpContext, op: TokenCap, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    explicit_cap = op.max_docs is not None or op.max_share is not None or op.max_mentions is not None
    target = _spill_target(ctx, op)
    rows = qualifying_spillover(ctx.before, ctx.thresholds)
    dominant = {str(r["token"]): str(r["entity"]) for r in rows}
    auto = op.tokens == "auto"
    if auto:
        tokens = [str(r["token"]) for r in rows]
    else:
        tokens = list(op.tokens)
        for r in (ctx.before.get("salience") or {}).get("spillover") or []:
            dominant.setdefault(str(r.get("token")), str(r.get("entity")))
    per: dict = {}
    items = []
    for tok in tokens:
        if not re.fullmatch(r"\w+(?:['’\-]\w+)*", tok):
            raise ValueError(f"token_cap: {tok!r} is not one word token")
        docs, cnt = table.word_docs(tok) if tok[:1].isupper() else (np.empty(0, np.int64), np.empty(0, np.int64))
        keep_mask = plan.copies[docs] > 0
        docs, cnt = docs[keep_mask], cnt[keep_mask]
        if not len(docs):
            per[tok] = {"candidates": 0, "kept": 0, "dropped": 0,
                        "note": "no kept document contains it" + ("" if tok[:1].isupper() else
                                                                  " (only capitalised words are indexed)")}
            continue
        spill = None if explicit_cap or tok not in dominant else [tok]
        items.append((tok, docs, dict(zip(docs.tolist(), cnt.tolist())), set(), spill))
    _budgeted(ctx, op, "token", _lazy_terms(ctx, items, target, entity_of=lambda t: dominant.get(t)), index, auto, per)
    s.details["tokens"] = per
    if not tokens:
        s.note = "no token to cap"
    return plan.end(s)
