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
from curadebt.corpus.batch import Batch, batches_of
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import FollowupContext, MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

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


@dataclass
class WindowCounts:
    """What the documents starting inside each window hold: tokens, documents, tokens per source,
    entity mentions. Counts of consecutive stretches of the corpus add up, in corpus order, to the
    counts of the whole (the Counters' key order too), so a prefix can be counted in parts."""

    tokens: list[int]
    documents: list[int]
    sources: list[Counter]
    entities: list[Counter]

    @classmethod
    def empty(cls, k: int) -> "WindowCounts":
        return cls([0] * k, [0] * k, [Counter() for _ in range(k)], [Counter() for _ in range(k)])

    def add(self, other: "WindowCounts") -> "WindowCounts":
        for i in range(len(self.tokens)):
            self.tokens[i] += other.tokens[i]
            self.documents[i] += other.documents[i]
            self.sources[i].update(other.sources[i])
            self.entities[i].update(other.entities[i])
        return self


def count_windows(batches: Iterable[Batch], cutoffs: list[float], position: int = 0) -> WindowCounts:
    """The windows' counts of the documents in ``batches``, the first of which starts at token
    ``position`` of the corpus; stops at the first document starting past the last cutoff."""
    out = WindowCounts.empty(len(cutoffs))
    for batch in batches:
        if position >= cutoffs[-1]:
            break
        for doc, n_tokens, ents in zip(batch.docs, batch.token_counts, batch.entities):
            if position >= cutoffs[-1]:
                break
            src = doc.source if doc.source is not None else NO_SOURCE
            for i, cut in enumerate(cutoffs):
                if position < cut:
                    out.tokens[i] += n_tokens
                    out.documents[i] += 1
                    out.sources[i][src] += n_tokens
                    out.entities[i].update(ents)
            position += n_tokens
    return out


def order_measure(prefix_batches: Iterable[Batch], total_tokens: int, overall_sources: dict[str, int],
                  overall_entities: dict[str, int], total_entity_mentions: int,
                  fractions: tuple[float, ...] = DEFAULT_FRACTIONS, top_k: int = 10) -> OrderResult:
    """``overall_sources``: tokens per source over the whole corpus; ``overall_entities``: mentions of
    the top entities over the whole corpus (with ``total_entity_mentions`` all mentions)."""
    fractions = tuple(sorted(fractions))
    cutoffs = [f * total_tokens for f in fractions]
    counts = count_windows(prefix_batches, cutoffs) if total_tokens else WindowCounts.empty(len(fractions))
    return order_result(counts, total_tokens, overall_sources, overall_entities, total_entity_mentions, fractions,
                        top_k)


def order_result(counts: WindowCounts, total_tokens: int, overall_sources: dict[str, int],
                 overall_entities: dict[str, int], total_entity_mentions: int, fractions: tuple[float, ...],
                 top_k: int = 10) -> OrderResult:
    """The windows' shares and concentrations against the whole corpus."""
    win_tokens, win_docs, win_sources, win_entities = counts.tokens, counts.documents, counts.sources, counts.entities
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


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def _item_name(item: dict) -> str:
    for k in ("name", "source", "entity"):
        if item.get(k) is not None:
            return str(item[k])
    return "?"


def _overall_shares(sec: dict, report: dict) -> dict[str, float]:
    """Each source's share of the whole corpus (the order section's, else the mixture section's)."""
    overall: dict[str, float] = {}
    for s in sec.get("sources") or []:
        if isinstance(s, dict) and sk.number(s.get("overall_share")) is not None:
            overall[_item_name(s)] = float(s["overall_share"])
    mixture = report.get("mixture") if isinstance(report.get("mixture"), dict) else None
    if not overall and mixture:
        overall = {str(s.get("source")): sk.number(s.get("token_share")) or 0.0 for s in mixture.get("sources") or []
                   if isinstance(s, dict)}
    return overall


def _concentrations(sec: dict, t: sk.DebtThresholds, n_sources: int) -> list[tuple[float, str, str, float, float, str]]:
    """Sources and entities by how concentrated they are in the largest early window:
    (early / overall share, kind, name, early share, overall share, window fraction), largest first."""
    items = []
    for kind in ("sources", "entities"):
        if kind == "sources" and n_sources < 2:
            continue
        for it in sec.get(kind) or []:
            if not isinstance(it, dict):
                continue
            ov = sk.number(it.get("overall_share"))
            early = it.get("early_share") or {}
            if ov is None or ov < t.concentration_min_share or not early:
                continue
            frac = max(early, key=lambda k: float(k))
            e = sk.number(early.get(frac))
            if e is None:
                continue
            if kind == "entities":
                win = next((w for w in sec.get("windows") or [] if isinstance(w, dict)
                            and sk.number(w.get("fraction")) is not None and abs(float(w["fraction"]) - float(frac)) < 1e-12),
                           None)
                mentions = sk.number((win or {}).get("entity_mentions"))
                if mentions is not None and e * mentions < t.concentration_min_count:
                    continue
            ratio = e / ov if ov > 0 else 0.0
            items.append((ratio, kind[:-1] if kind == "sources" else "entity", _item_name(it), e, ov, frac))
    items.sort(key=lambda x: (-x[0], x[1], x[2]))
    return items


#: what every order finding is true of: the corpus as stored, which is the order a model sees only
#: if training reads it unshuffled (curate's diversity-first ordering, or a shuffling loader, pays it)
STORED_ORDER = "; in the stored order: a debt if training reads it unshuffled"


def _window_finding(worst: dict, overall: dict[str, float], items: list, t: sk.DebtThresholds
                    ) -> tuple[str | None, dict | None, str | None]:
    """The worst window's summary part, its finding (None under LOW) and the source it names."""
    shares = {str(k): float(v) for k, v in (worst.get("source_shares") or {}).items()}
    tvd = float(worst["source_tvd"])
    # the source most over-represented in that window
    src = max(shares, key=lambda s: (shares[s] - overall.get(s, 0.0), s)) if shares else None
    if src is None:
        return None, None, None
    label = sk.fraction_label(worst.get("fraction"))
    part = f"first {label} of tokens is {sk.pct(shares[src])} '{src}' vs {sk.pct(overall.get(src, 0.0))} overall (TVD {tvd:.2f})"
    score = sk.share_score(tvd, t.window_tvd)
    conc = next((x for x in items if x[1] == "source" and x[2] == src), None)
    merged = None
    if conc is not None:
        score = max(score, sk.ratio_score(conc[0], t.concentration))
        merged = src
    if score < sk.LOW:
        return part, None, merged
    msg = (f"first {label} of tokens is {sk.pct(shares[src])} '{src}' vs {sk.pct(overall.get(src, 0.0))} overall "
           f"(source mix {tvd:.2f} total variation from the whole")
    if conc is not None:
        msg += f"; '{src}' is {sk.ratio_text(conc[0])}x concentrated in the first {sk.fraction_label(conc[5])}"
    return part, sk.finding("order", score, msg + ")" + STORED_ORDER, src, value=tvd, threshold=t.window_tvd), merged


def score_order(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    windows = [w for w in (sec.get("windows") or []) if isinstance(w, dict) and sk.number(w.get("source_tvd")) is not None]
    criteria: list[sk.Criterion] = []
    overall = _overall_shares(sec, report)
    n_sources = len(overall)
    worst_window = None
    if windows and n_sources >= 2:
        # the window furthest from the whole; ties go to the larger window (more tokens, more weight)
        worst_window = max(windows, key=lambda w: (float(w["source_tvd"]), sk.number(w.get("fraction")) or 0.0))
        criteria.append(sk.Criterion("max_source_tvd", float(worst_window["source_tvd"]), t.window_tvd, "share"))
    items = _concentrations(sec, t, n_sources)
    examined = (n_sources >= 2 and bool(sec.get("sources"))) or bool(sec.get("entities"))
    if items:
        criteria.append(sk.Criterion("max_concentration", items[0][0], t.concentration, "ratio"))
    elif examined:  # items were there, none big enough to judge: nothing concentrated (ratio 1)
        criteria.append(sk.Criterion("max_concentration", 1.0, t.concentration, "ratio"))
    if not criteria:
        return sk.not_measured("no early windows with a source mix (one source only?) and no entities",
                               {"window_tvd": t.window_tvd, "concentration": t.concentration}), []

    findings: list[dict] = []
    parts = []
    merged: set[str] = set()
    if worst_window is not None:
        part, found, src = _window_finding(worst_window, overall, items, t)
        parts += [part] if part else []
        findings += [found] if found else []
        merged |= {src} if src else set()
    for ratio, kind, name, e, ov, frac in items:
        if len(findings) >= sk.MAX_FINDINGS_PER_DIMENSION:
            break
        score = sk.ratio_score(ratio, t.concentration)
        if score < sk.LOW:
            break
        if kind == "source" and name in merged:
            continue
        unit = "tokens" if kind == "source" else "entity mentions"
        findings.append(sk.finding(
            "order", score,
            f"{kind} '{name}' is {sk.ratio_text(ratio)}x concentrated early: {sk.pct(e)} of the {unit} in the first "
            f"{sk.fraction_label(frac)} of tokens vs {sk.pct(ov)} overall" + STORED_ORDER, name, value=ratio,
            threshold=t.concentration))
    if items:
        r, kind, name, e, ov, frac = items[0]
        parts.append(f"most concentrated: {kind} '{name}' {sk.ratio_text(r)}x in the first {sk.fraction_label(frac)}")
    return sk.dimension(criteria, "; ".join(parts) or "no early concentration"), findings


def _concentration_table(items: list[dict], name_keys: tuple[str, ...], label: str, keys: list) -> str:
    last = keys[-1] if keys else None
    rows = []
    for it in items[:hk.MAX_ROWS]:
        early = hk.as_dict(it.get("early_share"))
        conc = hk.as_dict(it.get("concentration"))
        rows.append([hk.code(hk.first(it, *name_keys)), hk.cell(it.get("overall_share"), hk.pct)]
                    + [hk.cell(early.get(k), hk.pct) for k in keys]
                    + [hk.cell(conc.get(last), hk.ratio) if last is not None else hk.cell(None)])
    headers = [label, "overall share"] + [f"first {hk.frac_label(k)}" for k in keys]
    headers.append(f"concentration (first {hk.frac_label(last)})" if last is not None else "concentration")
    return hk.table(headers, rows, total=len(items))


def render_order(sec: dict, ctx: hk.RenderContext) -> str:
    item = sec.get("max_concentration_item")
    out = [hk.tiles([
        ("max concentration", hk.ratio(sec.get("max_concentration")) + (f" ({hk.clean(str(item))})" if item is not None else "")),
        ("max source TVD", hk.num(sec.get("max_source_tvd"))),
    ])]
    out.append('<p class="note">File order is taken as training order. Concentration = share in the first part '
               "of the tokens \u00f7 share overall; above 1 means the item is front-loaded and dominates early "
               "training.</p>")
    sources = [s for s in hk.as_list(sec.get("sources")) if isinstance(s, dict)]
    entities = [e for e in hk.as_list(sec.get("entities")) if isinstance(e, dict)]
    keys = hk.frac_sort({k for it in sources + entities for k in hk.as_dict(it.get("early_share"))})
    out.append("<h3>Sources: early versus overall</h3>")
    if sources:
        top = sources[:hk.MAX_BARS]
        series = {f"first {hk.frac_label(k)}": [hk.as_dict(s.get("early_share")).get(k) for s in top] for k in keys}
        series["overall"] = [s.get("overall_share") for s in top]
        out.append(ctx.plot(
            lambda: plots.grouped_bar_svg([hk.first(s, "source", "name") for s in top], series,
                                          title="Source share early in training versus overall",
                                          xlabel="share of tokens", percent=True, colors={"overall": "#555555"}),
            "Per source: token share in the first windows of the corpus versus overall."))
        out.append(_concentration_table(sources, ("source", "name"), "source", keys))
    else:
        out.append('<p class="note">no sources</p>')
    out.append("<h3>Entities: early versus overall</h3>")
    out.append(_concentration_table(entities, ("entity", "name"), "entity", keys) if entities
               else '<p class="note">no entities</p>')
    windows = [w for w in hk.as_list(sec.get("windows")) if isinstance(w, dict)]
    out.append("<h3>Early windows: mix and diversity</h3>")
    if windows:
        rows = [[hk.frac_label(w.get("fraction")), hk.cell(w.get("tokens")), hk.cell(w.get("documents")), hk.cell(w.get("source_tvd")),
                 hk.cell(w.get("source_normalized_entropy")), hk.cell(w.get("distinct_entities")), hk.cell(w.get("entity_mentions")),
                 hk.cell(w.get("entity_diversity"))] for w in windows]
        out.append(hk.table(["window", "tokens", "documents", "source TVD", "source entropy", "distinct entities",
                           "entity mentions", "entity diversity"], rows))
        out.append('<p class="note">Source TVD: total-variation distance of the window\u2019s source mix from the '
                   "whole corpus (0 = same mix). Entity diversity: distinct entities \u00f7 entity mentions in the "
                   "window (low = a few entities repeated).</p>")
    else:
        out.append('<p class="note">no windows</p>')
    return "".join(out)

# ---------------------------------------------------------------------------------------------
# the follow-up pass: the corpus prefix against the whole corpus's mixture and entities

def order_pass(ctx: FollowupContext) -> OrderResult:
    """Read the start of the corpus again, only as far as the largest window: on an engine, each
    unit of that prefix by a worker (``ctx.units``: the units of the main pass, with where each
    starts), else in this process."""
    from curadebt.corpus.quarantine import Quarantine
    from curadebt.corpus.readers import ReadStats, iter_batches

    sections = ctx.sections
    overall_sources = {s.source: s.tokens for s in sections["mixture"].sources}
    overall_entities, entity_mentions = {}, 0
    sal = sections.get("salience")
    if sal is not None:
        overall_entities = {e.entity: e.mentions for e in sal.entities}
        entity_mentions = sal.entity_mentions
    fractions = tuple(sorted(ctx.config.order_fractions))
    cutoffs = [f * ctx.tokens for f in fractions]
    if not ctx.tokens:
        counts = WindowCounts.empty(len(fractions))
    elif ctx.executor is not None and ctx.units is not None:
        tasks = [(u.unit, ctx.units.items, ctx.config.reader, ctx.tokenizer, ctx.extractor, u.base, u.start_token, cutoffs)
                 for u in ctx.units.units if u.start_token < cutoffs[-1]]
        counts = WindowCounts.empty(len(fractions))
        for part in ctx.executor.get(ctx.executor.map(_unit_windows, tasks)):  # in unit order
            counts.add(part)
    else:
        counts = count_windows(iter_batches(ctx.paths, ctx.config.reader, Quarantine(), ReadStats(), ctx.tokenizer,
                                            ctx.extractor), cutoffs)
    return order_result(counts, ctx.tokens, overall_sources, overall_entities, entity_mentions, fractions)


def _unit_windows(unit, items, reader, tokenizer, extractor, base: int, start_token: int,
                  cutoffs: list[float]) -> WindowCounts:
    """An engine task: the windows' counts of one unit of the corpus, which starts at token
    ``start_token`` (its documents at ordinal ``base``)."""
    from curadebt.corpus.units import iter_unit

    docs, _, _ = iter_unit(unit, items, reader, base)
    return count_windows(batches_of(docs, reader.batch_size, tokenizer, extractor), cutoffs, start_token)


register(MeasureSpec(name="order", title="Training order", position=50, debt_position=40, followup=order_pass,
                     requires=("mixture",), uses=("salience",), score=score_order, render=render_order))
