"""Entity and token caps: fewer documents for an over-represented entity, chosen so that the tail
and the unique text survive.

**Competition caps** (``entities: auto`` / ``tokens: auto``, or named entities without a numeric cap)
pay down the salience debt of :mod:`curadebt.measures.salience`: a token whose dominant continuation
("Tom" -> "Cruise") holds ``ratio`` times the documents of the median established competitor. The
documents holding that pair are brought down to ``target_ratio`` x that median (default 0.9 x the
debt threshold: 9x). Which documents go:

- only documents *about* the entity: at least ``min_density`` mentions of the pair per 1,000 tokens
  (default 5, one per 200 tokens). A long text that names it in passing (a Bible chapter saying "the
  God of Israel" twice, a State of the Union address mentioning "New York") teaches the pair once
  and holds far more of everything else: it is never dropped for salience;
- never a document that mentions a competitor (another "Tom X"): their documents are the tail this
  op protects;
- never the last kept document of any other entity or probe answer (:mod:`curadebt.curation.guard`);
- among the rest, the densest first (most exposure removed per token lost), then the shortest, then a
  seeded random order;
- ``mode: both`` (default): when the documents that may go cannot reach the target, the
  competitors' own documents (about them, by the same density rule) are repeated, the smallest
  factor up to ``max_copies`` (default 4) that brings the dominant pair within the target of the
  median competitor: frequency normalization both ways. ``down`` only drops, ``up`` only repeats.
  When neither reaches the target nothing changes (part of the way would lose text or add copies
  without paying the debt) and the op says why. In auto mode an item whose drops would cost more
  tokens than what is left of ``max_token_loss`` is skipped, and said so.

**Numeric caps** (``max_docs``, ``max_share``, ``max_mentions``; copies count: a document kept x k
counts k times) keep a diverse subset. Selection (``select: diverse``): greedy maximum coverage. Each
candidate document has a feature set: the other entities it mentions plus its context sketch (a
consistent sample of its distinct words, see :mod:`curadebt.curation.scan`). Documents are taken one at
a time, always the one that adds the most features not yet covered (lazy greedy, exact); ties go to
a seeded random priority. A document is kept only if the cap still holds with it; otherwise it is
dropped and the next one is tried. ``select: random`` uses the seeded random order only. Planned
drops then pass the tail guard: a last copy of another entity or probe answer is kept back.
"""
from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from curadebt.curation.context import OpContext
from curadebt.curation.guard import TailGuard
from curadebt.curation.plan import DROP, KEEP, UPSAMPLE, OpSummary
from curadebt.curation.scan import entity_hash
from curadebt.curation.op import Op, RecipeError, check_select, register_op


def check_caps(op: Any) -> None:
    if op.max_docs is not None and int(op.max_docs) < 0:
        raise RecipeError(f"{op.name}: max_docs must be >= 0")
    if op.max_mentions is not None and int(op.max_mentions) < 0:
        raise RecipeError(f"{op.name}: max_mentions must be >= 0")
    if op.max_share is not None and not 0 <= float(op.max_share) <= 1:
        raise RecipeError(f"{op.name}: max_share must be in [0, 1]")
    if op.max_token_loss is not None and not 0 <= float(op.max_token_loss) <= 1:
        raise RecipeError(f"{op.name}: max_token_loss must be in [0, 1] (or null)")
    if op.target_ratio is not None and float(op.target_ratio) < 1:
        raise RecipeError(f"{op.name}: target_ratio must be >= 1 (documents per median competitor's)")
    if float(op.min_density) < 0:
        raise RecipeError(f"{op.name}: min_density must be >= 0")
    if op.mode not in ("down", "up", "both"):
        raise RecipeError(f"{op.name}: mode must be 'down', 'up' or 'both', got {op.mode!r}")
    if int(op.max_copies) < 1:
        raise RecipeError(f"{op.name}: max_copies must be >= 1")


@register_op
@dataclass
class EntityCap(Op):
    """Fewer documents for an over-represented entity (:mod:`curadebt.curation.ops.caps`).

    ``entities: auto`` (or named entities without a numeric cap) pays down the salience debt: the
    documents of a token's dominant continuation are brought to ``target_ratio`` x the median
    competitor's (default 0.9 x the debt threshold), dropping only documents about the entity
    (``min_density`` mentions per 1,000 tokens), never a competitor's nor a last copy of another
    entity or probe answer. ``max_docs`` / ``max_share`` / ``max_mentions`` cap each named entity
    outright, keeping a diverse subset."""

    name: ClassVar[str] = "entity_cap"
    position: ClassVar[int] = 40
    dimension: ClassVar[str] = "salience"
    entities: Any = "auto"            # "auto" or a list of entity strings
    max_docs: int | None = None
    max_share: float | None = None
    max_mentions: int | None = None
    target_ratio: float | None = None    # competition caps: None = 0.9 x the debt threshold (9x)
    min_density: float = 5.0             # competition caps: mentions per 1,000 tokens for a document to go
    mode: str = "both"                   # competition caps: "down" (drop), "up" (repeat competitors), "both"
    max_copies: int = 4                  # competition caps: most copies of a competitor's document
    max_token_loss: float | None = 0.1   # auto mode: skip an entity whose cap would drop more tokens
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        check_select(self)
        if self.entities != "auto" and not (isinstance(self.entities, list) and all(isinstance(e, str) for e in self.entities)):
            raise RecipeError(f"entity_cap: entities must be 'auto' or a list of strings, got {self.entities!r}")
        check_caps(self)

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return entity_cap(ctx, self, index)


@register_op
@dataclass
class TokenCap(Op):
    """``tokens: auto`` (or named tokens without a numeric cap): the competition cap of
    :class:`EntityCap` for the tokens whose dominant continuation is a debt. With ``max_docs`` /
    ``max_share`` / ``max_mentions``: at most that many documents contain each token (whole word,
    case kept)."""

    name: ClassVar[str] = "token_cap"
    position: ClassVar[int] = 50
    dimension: ClassVar[str] = "salience"
    tokens: Any = "auto"
    max_docs: int | None = None
    max_share: float | None = None
    max_mentions: int | None = None
    target_ratio: float | None = None
    min_density: float = 5.0
    mode: str = "both"
    max_copies: int = 4
    max_token_loss: float | None = 0.1
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        check_select(self)
        if self.tokens != "auto" and not (isinstance(self.tokens, list) and all(isinstance(e, str) for e in self.tokens)):
            raise RecipeError(f"token_cap: tokens must be 'auto' or a list of strings, got {self.tokens!r}")
        check_caps(self)

    def apply(self, ctx: OpContext, index: int) -> OpSummary:
        return token_cap(ctx, self, index)

#: the competition cap aims at this share of the debt threshold (9x for the default 10x)
TARGET_MARGIN = 0.9


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


def debt_competitions(before: dict, thresholds) -> list[dict]:
    """The input audit's competition rows that are a salience debt (the debt score's own rule),
    most documents over parity first."""
    rows = [r for r in (before.get("salience") or {}).get("competition") or [] if isinstance(r, dict)]
    out = [r for r in rows if r.get("status") == "competition" and r.get("ratio") is not None
           and r["ratio"] >= thresholds.competition_ratio and r["documents"] >= thresholds.competition_min_documents]
    out.sort(key=lambda r: (-float(r.get("excess_documents") or 0.0), str(r["token"])))
    return out


class _Counters:
    """Running totals of a numeric cap over the documents accepted so far."""

    def __init__(self, limit_docs: int | None, limit_mentions: int | None):
        self.limit_docs = limit_docs
        self.limit_mentions = limit_mentions
        self.docs = 0
        self.mentions = 0

    def accept(self, copies: int, mentions: int) -> bool:
        if self.limit_docs is not None and self.docs + copies > self.limit_docs:
            return False
        if self.limit_mentions is not None and self.mentions + mentions * copies > self.limit_mentions:
            return False
        self.docs += copies
        self.mentions += mentions * copies
        return True


def _limit_docs(op, plan) -> int | None:
    limits = []
    if op.max_docs is not None:
        limits.append(int(op.max_docs))
    if op.max_share is not None:
        limits.append(int(float(op.max_share) * plan.output_documents()))
    return min(limits) if limits else None


def _has_numeric_cap(op) -> bool:
    return op.max_docs is not None or op.max_share is not None or op.max_mentions is not None


# ---------------------------------------------------------------------------------------------
# competition caps
# ---------------------------------------------------------------------------------------------

def _target_ratio(ctx: OpContext, op) -> float:
    return float(op.target_ratio) if op.target_ratio is not None else TARGET_MARGIN * ctx.thresholds.competition_ratio


def _competition_plan(ctx: OpContext, op, row: dict) -> dict:
    """Which documents of one competition row go, and which competitors' documents are repeated
    (nothing is recorded yet)."""
    table, plan = ctx.table, ctx.plan
    token, cont = str(row["token"]), str(row["continuation"])
    docs, cnt = _live(plan, *table.pair_docs(token, cont))
    median = float(row["median_peer_documents"])
    ratio = _target_ratio(ctx, op)
    target = int(math.floor(ratio * median))
    copies = plan.copies[docs].astype(np.int64)
    before = int(copies.sum())
    info = {"token": token, "continuation": cont, "entity": row.get("entity"), "median_competitor_documents": median,
            "documents_before": before, "target_documents": target, "ratio_before": before / median if median else None,
            "spared": {"mentions a competitor": 0, "not about it": 0, "entity": 0, "probe answer": 0}}
    peers = [str(c) for c, n in row.get("peers") or [] if n >= _min_peer_documents(ctx)]
    rivals = {int(d) for peer in peers for d in table.pair_docs(token, peer)[0].tolist()}
    density = 1000.0 * cnt / np.maximum(table.tokens[docs], 1)
    drop: list[int] = []
    need = before - target
    if op.mode in ("down", "both"):
        priority = plan.rng(0, op.name, f"{token}\x00{cont}").random(len(docs))
        guard = TailGuard(ctx, exclude={entity_hash(e) for e in row.get("entities") or []})
        for i in np.lexsort((priority, table.tokens[docs], -density)).tolist():
            if need <= 0:
                break
            d = int(docs[i])
            if d in rivals:
                info["spared"]["mentions a competitor"] += 1
            elif density[i] < op.min_density:
                info["spared"]["not about it"] += 1
            elif guard.drop(d):
                drop.append(d)
                need -= int(copies[i])
        for why, n in guard.kept_back.items():
            info["spared"][why] += n
    after = before - int(sum(int(plan.copies[d]) for d in drop))
    up: dict[int, int] = {}
    if after > target and op.mode in ("up", "both"):
        up = _repeat_competitors(ctx, op, token, peers, set(docs.tolist()), after, ratio)
    reached = after <= target or bool(up)
    if not reached:  # part of the way loses text (or adds copies) without paying the debt: do nothing
        spared = ", ".join(f"{n} {why}" for why, n in info["spared"].items() if n)
        info["note"] = (f"not capped: only {len(drop)} of the {before - target} documents over the target could go "
                        f"without losing unique text or the tail (spared: {spared or 'none'})"
                        + (f", and repeating the competitors' own documents up to {op.max_copies}x would not close "
                           "the gap" if op.mode != "down" else "") + "; nothing changed")
        drop, up = [], {}
    info.update(candidates=int(len(docs)), dropped=len(drop), reached=reached,
                tokens_dropped=int(sum(int(table.tokens[d]) * int(plan.copies[d]) for d in drop)),
                documents_after=after if reached else before, competitor_documents_repeated=len(up),
                tokens_added=int(sum(int(table.tokens[d]) * (k - int(plan.copies[d])) for d, k in up.items())))
    med_after = _median_after(ctx, token, peers, up)
    info["median_competitor_documents_after"] = med_after
    info["ratio_after"] = info["documents_after"] / med_after if med_after else None
    return {"info": info, "drop": drop, "up": up, "density": dict(zip(docs.tolist(), density.tolist()))}


def _min_peer_documents(ctx: OpContext) -> int:
    return int((ctx.before.get("salience") or {}).get("min_peer_documents") or 5)


def _median_after(ctx: OpContext, token: str, peers: list[str], up: dict[int, int]) -> float:
    """The median competitor's documents (copies counted) with the new copies ``up``."""
    plan = ctx.plan
    counts = []
    for peer in peers:
        docs, _ = _live(plan, *ctx.table.pair_docs(token, peer))
        counts.append(sum(up.get(int(d), int(plan.copies[d])) for d in docs.tolist()))
    return float(np.median(counts)) if counts else 0.0


def _repeat_competitors(ctx: OpContext, op, token: str, peers: list[str], dominant_docs: set[int], after: int,
                        ratio: float) -> dict[int, int]:
    """New copies for the competitors' own documents (about them by ``min_density``; never one that also
    holds the dominant pair) so that the dominant pair is within ``ratio`` x the median competitor:
    the smallest repeat factor k <= ``max_copies`` that does it, or {} when none does."""
    plan, table = ctx.plan, ctx.table
    eligible: dict[int, int] = {}
    for peer in peers:
        docs, cnt = _live(plan, *table.pair_docs(token, peer))
        dens = 1000.0 * cnt / np.maximum(table.tokens[docs], 1)
        eligible.update((int(d), int(plan.copies[d])) for d, x in zip(docs.tolist(), dens.tolist())
                        if x >= op.min_density and int(d) not in dominant_docs)
    for k in range(2, int(op.max_copies) + 1):
        up = {d: c * k for d, c in eligible.items()}
        if after <= ratio * _median_after(ctx, token, peers, up):
            return up
    return {}


def _record_competition(ctx: OpContext, op, sel: dict) -> None:
    info, drop, up = sel["info"], sel["drop"], sel["up"]
    label = f"'{info['token']}' -> '{info['continuation']}' ('{info['entity']}')"
    why = (f"salience: {label} was in {info['documents_before']} documents, {info['ratio_before']:.1f}x the median "
           f"competitor's {info['median_competitor_documents']:g} (target {_target_ratio(ctx, op):g}x)")
    if drop:
        ctx.plan.record(op.name, np.asarray(sorted(drop), dtype=np.int64), 0, DROP,
                        [f"{why}; this document is about it ({sel['density'][d]:.1f} mentions per 1,000 tokens)"
                         for d in sorted(drop)], -1)
    if up:
        ups = sorted(up)
        ctx.plan.record(op.name, np.asarray(ups, dtype=np.int64), [up[d] for d in ups], UPSAMPLE,
                        f"{why}; a competitor's own document, repeated so the competitors are not crowded out", -1)


def _competition_caps(ctx: OpContext, op, rows: list[dict], per: dict, auto: bool) -> None:
    plan = ctx.plan
    budget = float(op.max_token_loss) * plan.output_tokens() if auto and op.max_token_loss is not None else None
    for row in rows:
        key = f"{row['token']} -> {row['continuation']}"
        sel = _competition_plan(ctx, op, row)
        info = sel["info"]
        if budget is not None and info["tokens_dropped"] > budget + 1e-9:
            per[key] = {**info, "dropped": 0, "tokens_dropped": 0, "skipped": True,
                        "documents_after": info["documents_before"], "ratio_after": info["ratio_before"],
                        "note": f"skipped: it would drop {info['tokens_dropped']:,} tokens, more than the "
                                f"{budget:,.0f} left of max_token_loss={op.max_token_loss:g}"}
            continue
        _record_competition(ctx, op, sel)
        if budget is not None:
            budget -= info["tokens_dropped"]
        per[key] = info


def _rows_for_entities(ctx: OpContext, entities: list[str]) -> list[dict]:
    rows = [r for r in (ctx.before.get("salience") or {}).get("competition") or []
            if isinstance(r, dict) and r.get("status") == "competition"
            and (r.get("entity") in entities or any(e in entities for e in r.get("entities") or []))]
    return sorted(rows, key=lambda r: (-float(r.get("excess_documents") or 0.0), str(r["token"])))


# ---------------------------------------------------------------------------------------------
# numeric caps
# ---------------------------------------------------------------------------------------------

def _numeric_cap(ctx: OpContext, op, index: int, label: str, key: str, docs: np.ndarray, mentions_of: dict,
                 exclude_features: set[int], details: dict) -> None:
    plan, table = ctx.plan, ctx.table
    priority = plan.rng(index, op.name, key).random(len(docs))
    limit_docs = _limit_docs(op, plan)
    counters = _Counters(limit_docs, None if op.max_mentions is None else int(op.max_mentions))
    diverse = op.select == "diverse"
    feats = [table.features(int(d), exclude_features) for d in docs] if diverse else []

    def accept(d: int) -> bool:
        return counters.accept(int(plan.copies[d]), mentions_of.get(d, 0))

    kept, rejected, gains = diverse_order_select(docs, feats, priority, accept, diverse,
                                                 costs=plan.copies[docs].astype(np.int64))
    guard = TailGuard(ctx, exclude=exclude_features)
    rejected, kept_back = guard.filter_drops(rejected)
    parts = [f"at most {limit_docs} documents"] if limit_docs is not None else []
    if op.max_mentions is not None:
        parts.append(f"at most {op.max_mentions} mentions")
    cap_txt = "; ".join(parts)
    if rejected:
        plan.record(op.name, np.asarray(sorted(rejected), dtype=np.int64), 0, DROP,
                    f"{label} '{key}' over its cap ({cap_txt}); {len(kept) + len(kept_back)} of {len(docs)} "
                    "documents kept", -1)
    ranks = {d: r for r, d in enumerate(kept)}
    reasons = {d: f"kept for {label} '{key}': pick {ranks[d] + 1} of {len(kept)} ({op.select}"
                  + (f", {gains[d]} new context features" if diverse else "") + f"; {cap_txt})" for d in kept}
    reasons.update({d: f"kept for {label} '{key}' over its cap ({cap_txt}): the last kept document of an entity "
                       "or probe answer (tail guard)" for d in kept_back})
    ks = sorted(reasons)
    if ks:
        plan.record(op.name, np.asarray(ks, dtype=np.int64), plan.copies[ks], KEEP, [reasons[d] for d in ks], -1)
    details[key] = {"candidates": int(len(docs)), "kept": len(kept) + len(kept_back), "dropped": len(rejected),
                    "kept_back_by_tail_guard": len(kept_back), "cap": cap_txt,
                    "mentions_before": int(sum(mentions_of.get(int(d), 0) * int(plan.copies[d]) for d in docs)),
                    "tokens_dropped": int(sum(int(table.tokens[d]) for d in rejected))}


def _live(plan, docs: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = plan.copies[docs] > 0
    return docs[m], cnt[m]


# ---------------------------------------------------------------------------------------------
# the ops
# ---------------------------------------------------------------------------------------------

def entity_cap(ctx: OpContext, op: EntityCap, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    per: dict = {}
    if op.entities == "auto":
        rows = debt_competitions(ctx.before, ctx.thresholds)
        s.details["selection"] = "auto: every token whose dominant continuation is a salience debt, most excess first"
        _competition_caps(ctx, op, rows, per, auto=True)
        s.details["competitions"] = per
        if not rows:
            s.note = "no salience debt to cap"
        return plan.end(s)
    if not _has_numeric_cap(op):
        rows = _rows_for_entities(ctx, list(op.entities))
        _competition_caps(ctx, op, rows, per, auto=False)
        s.details["competitions"] = per
        if not rows:
            s.note = "none of the entities dominates a shared token; give max_docs, max_share or max_mentions"
        return plan.end(s)
    for ent in op.entities:
        docs, cnt = _live(plan, *table.entity_docs(ent))
        if not len(docs):
            per[ent] = {"candidates": 0, "kept": 0, "dropped": 0, "note": "no kept document mentions it"}
            continue
        _numeric_cap(ctx, op, index, "entity", ent, docs, dict(zip(docs.tolist(), cnt.tolist())), {entity_hash(ent)},
                     per)
    s.details["entities"] = per
    return plan.end(s)


def token_cap(ctx: OpContext, op: TokenCap, index: int) -> OpSummary:
    plan, table = ctx.plan, ctx.table
    s = plan.begin(op.name, op.params())
    per: dict = {}
    if op.tokens == "auto" or not _has_numeric_cap(op):
        rows = debt_competitions(ctx.before, ctx.thresholds) if op.tokens == "auto" else [
            r for r in (ctx.before.get("salience") or {}).get("competition") or []
            if r.get("status") == "competition" and r.get("token") in op.tokens]
        _competition_caps(ctx, op, rows, per, auto=op.tokens == "auto")
        s.details["competitions"] = per
        if not rows:
            s.note = "no salience debt to cap" if op.tokens == "auto" else \
                "none of the tokens has a dominant continuation with competitors; give max_docs, max_share or max_mentions"
        return plan.end(s)
    for tok in op.tokens:
        if not re.fullmatch(r"\w+(?:['’\-]\w+)*", tok):
            raise ValueError(f"token_cap: {tok!r} is not one word token")
        docs, cnt = table.word_docs(tok) if tok[:1].isupper() else (np.empty(0, np.int64), np.empty(0, np.int64))
        docs, cnt = _live(plan, docs, cnt)
        if not len(docs):
            per[tok] = {"candidates": 0, "kept": 0, "dropped": 0,
                        "note": "no kept document contains it" + ("" if tok[:1].isupper() else
                                                                  " (only capitalised words are indexed)")}
            continue
        _numeric_cap(ctx, op, index, "token", tok, docs, dict(zip(docs.tolist(), cnt.tolist())), set(), per)
    s.details["tokens"] = per
    return plan.end(s)
