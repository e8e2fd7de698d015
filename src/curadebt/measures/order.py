"""Training-order concentration: taking file order as training order, how concentrated each top
source and entity is in the first 1%, 5% and 10% of tokens versus the whole corpus.

Windows are measured in tokens, so the measure needs the corpus total first. It therefore runs as
a second, short pass over just the prefix of the corpus (at most the largest window, 10% by default)
after the main pass: exact, with memory bounded by the prefix, and identical whichever engine ran
the main pass. A document belongs to a window when it *starts* inside it.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from curadebt.core.measure import top_items
from curadebt.measures.mixture import NO_SOURCE
from curadebt.corpus.batch import Batch

DEFAULT_FRACTIONS = (0.01, 0.05, 0.1)


@dataclass
class Window:
    fraction: float
    tokens: int
    documents: int
    source_shares: dict[str, float]
    source_tvd: float | None          # total-variation distance of the window's source mix from the whole
    source_normalized_entropy: float | None
    distinct_entities: int
    entity_mentions: int
    entity_diversity: float | None    # distinct entities / entity mentions in the window


@dataclass
class ItemConcentration:
    name: str
    overall_share: float
    early_share: dict[str, float]
    concentration: dict[str, float | None]   # early_share / overall_share; > 1 = front-loaded


@dataclass
class OrderResult:
    fractions: list[float]
    total_tokens: int
    windows: list[Window] = field(default_factory=list)
    sources: list[ItemConcentration] = field(default_factory=list)
    entities: list[ItemConcentration] = field(default_factory=list)
    max_concentration: float | None = None
    max_concentration_item: str | None = None
    max_source_tvd: float | None = None


def _normalized_entropy(counts: Iterable[int], k: int) -> float | None:
    counts = [c for c in counts if c > 0]
    total = sum(counts)
    if k < 2 or total == 0:
        return None
    h = -sum(c / total * math.log(c / total) for c in counts) / math.log(k)
    return h if h > 0 else 0.0  # never -0.0


def _key(f: float) -> str:
    return f"{f:g}"


def order_measure(prefix_batches: Iterable[Batch], total_tokens: int, overall_sources: dict[str, int],
                  overall_entities: dict[str, int], total_entity_mentions: int,
                  fractions: tuple[float, ...] = DEFAULT_FRACTIONS, top_k: int = 10) -> OrderResult:
    """``overall_sources``: tokens per source over the whole corpus; ``overall_entities``: mentions of
    the top entities over the whole corpus (with ``total_entity_mentions`` all mentions)."""
    fractions = tuple(sorted(fractions))
    cutoffs = [f * total_tokens for f in fractions]
    win_tokens = [0] * len(fractions)
    win_docs = [0] * len(fractions)
    win_sources = [Counter() for _ in fractions]
    win_entities = [Counter() for _ in fractions]
    position = 0
    done = total_tokens == 0
    for batch in prefix_batches:
        if done:
            break
        for doc, n_tokens, ents in zip(batch.docs, batch.token_counts, batch.entities):
            if position >= cutoffs[-1]:
                done = True
                break
            src = doc.source if doc.source is not None else NO_SOURCE
            for i, cut in enumerate(cutoffs):
                if position < cut:
                    win_tokens[i] += n_tokens
                    win_docs[i] += 1
                    win_sources[i][src] += n_tokens
                    win_entities[i].update(ents)
            position += n_tokens

    result = OrderResult(fractions=list(fractions), total_tokens=total_tokens)
    all_src_tokens = sum(overall_sources.values())
    overall_share = {s: t / all_src_tokens for s, t in overall_sources.items()} if all_src_tokens else {}
    for i, f in enumerate(fractions):
        wt = win_tokens[i]
        shares = {s: c / wt for s, c in top_items(win_sources[i], len(win_sources[i]))} if wt else {}
        # sources in a fixed order: a float sum over a set of strings would depend on PYTHONHASHSEED
        srcs = sorted(set(shares) | set(overall_share), key=lambda s: (s is None, str(s)))
        tvd = 0.5 * sum(abs(shares.get(s, 0.0) - overall_share.get(s, 0.0)) for s in srcs) if wt else None
        n_ent = sum(win_entities[i].values())
        result.windows.append(Window(
            fraction=f, tokens=wt, documents=win_docs[i], source_shares=shares, source_tvd=tvd,
            source_normalized_entropy=_normalized_entropy(win_sources[i].values(), len(overall_sources)),
            distinct_entities=len(win_entities[i]), entity_mentions=n_ent,
            entity_diversity=(len(win_entities[i]) / n_ent) if n_ent else None,
        ))

    def concentration(name: str, overall: float, early: list[float]) -> ItemConcentration:
        return ItemConcentration(
            name=name, overall_share=overall,
            early_share={_key(f): e for f, e in zip(fractions, early)},
            concentration={_key(f): (e / overall if overall > 0 else None) for f, e in zip(fractions, early)},
        )

    for s, _ in top_items(overall_sources, top_k):
        early = [(win_sources[i][s] / win_tokens[i]) if win_tokens[i] else 0.0 for i in range(len(fractions))]
        result.sources.append(concentration(s, overall_share.get(s, 0.0), early))
    for e, mentions in top_items(overall_entities, top_k):
        overall = mentions / total_entity_mentions if total_entity_mentions else 0.0
        early = []
        for i in range(len(fractions)):
            n_ent = sum(win_entities[i].values())
            early.append(win_entities[i][e] / n_ent if n_ent else 0.0)
        result.entities.append(concentration(e, overall, early))

    best = None
    # Concentration of the largest window is the headline (small windows are noisy); items that
    # are tiny overall are skipped because a single early mention would make their ratio explode.
    last = _key(fractions[-1])
    for item in result.sources + result.entities:
        c = item.concentration.get(last)
        if c is not None and item.overall_share >= 0.01 and (best is None or c > best[0]):
            best = (c, item.name)
    if best:
        result.max_concentration, result.max_concentration_item = best
    tvds = [w.source_tvd for w in result.windows if w.source_tvd is not None]
    result.max_source_tvd = max(tvds) if tvds else None
    return result
