"""Salience: which entities are over-represented, and which of their tokens spill over.

Entities
    Entity candidates come from a pluggable extractor (``text -> list[str]``; default
    :func:`curadebt.text.entities.capitalised_spans`, capitalised multi-word spans such as
    "Tom Cruise"). Per entity we count ``mentions`` (every occurrence) and ``documents`` (documents
    with at least one mention). ``mention_share`` = mentions / all entity mentions of the corpus.

Outliers
    Over-representation is a robust z-score of ``x = log(mentions)`` over all entities of the
    table (the Iglewicz-Hoaglin modified z-score)::

        z = 0.6745 * (x - median(x)) / max(MAD, log 2),        MAD = median(|x - median(x)|)

    The MAD is floored at ``log 2`` (one doubling, the resolution of integer counts near the typical
    median of 1): real corpora have most entities mentioned once, so the raw MAD is often 0 and any
    entity mentioned twice would look infinitely over-represented. An entity is an ``outlier`` when
    ``z >= z_cutoff`` (default 3.5, the usual Iglewicz-Hoaglin cutoff), it has at least
    ``min_outlier_mentions`` mentions (default 5) and it is seen in at least ``min_outlier_documents``
    documents (default 20: an entity of one long document is not over-represented in a corpus). With the floor in force and median 1 this means at
    least ``exp(3.5 * log 2 / 0.6745)`` ~ 36 mentions.

Token spillover
    Tokens are words of the project word tokenizer (``curadebt.text.tokenize.WORD_RE``, case
    preserved): "whole-word, case-sensitive" means a word token equal to the string, so "Tom"
    counts in "Tom said" but not in "Tomb" or "tom". For each word ``t`` of an entity that passes
    ``token_filter`` (default: starts with an upper-case letter; so every first and last word of a
    default-extractor span, but not particles like "of"):

    - ``token_count``      all occurrences of ``t`` in the corpus;
    - ``entity``           the dominant entity containing ``t`` (most mentions; ties: key ascending);
    - ``entity_mentions``  its mentions;
    - ``share``            occurrences of ``t`` inside the dominant entity / ``token_count``
                           (= entity_mentions x times ``t`` occurs in the entity, capped at token_count);
    - ``expected_count``   ``t``'s count if the dominant entity were as frequent as the median entity
                           sharing ``t``: ``token_count - inside + median(inside-occurrences of the other
                           entities containing t)``; if no other entity contains ``t``:
                           ``max(token_count - inside, 1)``;
    - ``lift``             ``token_count / expected_count``.

    Rows are ranked by the excess ``token_count - expected_count`` (descending, then token
    ascending) and the top ``spillover_k`` are reported: the tokens whose frequency the dominant
    entity inflates most. Example: "Tom Cruise" 300 mentions, 20 other "Tom X" 3 mentions each,
    "Tom" 10 times alone: token_count 370, share 300/370 = 0.81, expected 370 - 300 + 3 = 73,
    lift 370 / 73 = 5.07.

Competition (what the debt score reads; docs/debt.md)
    A language model reads left to right: the salience debt is a token that *several* entities
    continue, where one continuation takes far more documents than its peers, so that the model
    continues the token with it in contexts about the others ("Tom" -> "Cruise" for every Tom).
    Inside every entity span, each capitalised word ``t`` followed by another capitalised word ``c``
    (particles such as "of" skipped: "God of Israel" gives God -> Israel) is a *pair*; per pair we
    count the documents holding it and its mentions. For a token ``t``:

    - ``continuation``  its dominant continuation ``c*`` (most documents; ties: ``c`` ascending), and
      ``entity`` the most-documented entity holding the pair;
    - ``peers``         its other continuations; the *established* ones have at least
      ``min_peer_documents`` documents (default 5: in the lab's salience world each peer has 6
      documents and is learnt when no entity dominates; a name in one or two documents is barely
      learnt at all, whatever dominates it);
    - ``ratio``         ``documents(c*) / median(documents of the established peers)``, computed when
      there are at least ``min_peers`` (default 2) established peers; ``excess_documents`` is
      ``documents(c*) - median``: how many documents would have to go (or the peers gain) for parity;
    - ``status``        ``competition`` (enough established peers), ``collocation`` (fewer, and the
      pair holds at least half of the token's occurrences: "Du" -> "Fu", "Holy" -> "Ghost", a word
      hardly used outside one name: never a debt) or ``no_competitor``.

    Rows are listed for tokens whose dominant pair has at least ``min_documents`` documents
    (default 20), competitions first by excess, then the rest by documents.

Memory
    Token counts are kept only for words passing ``token_filter`` (the candidate vocabulary: with
    the default extractor every entity word that can be reported is capitalised). Counting every
    capitalised word, not only words already seen inside a span, keeps the counts exact when a word
    occurs in an earlier batch than the first entity containing it. A custom extractor that yields
    lower-case spans needs a ``token_filter`` that accepts them (e.g. ``lambda t: True``).

    Both tables (entities, tokens) have a budget (``max_entities``, ``max_tokens``). While under
    budget every count is exact. When a table grows past ``1.5 x budget`` it is pruned with the
    batched Misra-Gries rule: every count is lowered by the (budget+1)-th largest count and keys
    reaching 0 are dropped; the amounts subtracted add up in ``*_error`` (the maximum undercount of any
    kept count; errors add on merge). The rule depends only on the multiset of counts, so merging is
    deterministic; ``exact`` in the result says whether any pruning happened.
    ``entity_mentions`` (the total) is always exact; after pruning, ``entity_types``, the z-scores and
    the spillover rows are computed over the entities and tokens that were kept.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable


from curadebt.core.measure import Measure, top_items
from curadebt.corpus.batch import Batch
from curadebt.text.entities import EntityExtractor, get_extractor
from curadebt.text.tokenize import WORD_RE
from curadebt.text.capitalised import capitalised_words, entity_pairs, is_capitalised
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

#: Iglewicz-Hoaglin outlier cutoff for the modified z-score.
DEFAULT_Z_CUTOFF = 3.5
#: Floor of the MAD of log(mentions): one doubling.
MAD_FLOOR = math.log(2)
_MAD_SCALE = 0.6745


@dataclass
class EntityStat:
    entity: str
    mentions: int
    documents: int
    mention_share: float
    z: float
    outlier: bool


@dataclass
class SpilloverStat:
    token: str
    entity: str
    token_count: int
    entity_mentions: int
    share: float
    lift: float
    expected_count: float


@dataclass
class CompetitionStat:
    token: str
    continuation: str
    entity: str                         # the most-documented entity holding token -> continuation
    documents: int                      # documents holding the pair
    mentions: int
    token_count: int                    # all occurrences of the token
    share: float                        # pair mentions / token_count
    peers: list[tuple[str, int]]        # the other continuations (top 8 by documents)
    established_peers: int              # peers with >= min_peer_documents documents
    median_peer_documents: float | None
    ratio: float | None                 # documents / median of the established peers
    excess_documents: float             # documents - that median (documents over parity)
    status: str                         # "competition", "collocation" or "no_competitor"
    entities: list[str] = field(default_factory=list)  # entities holding the pair, most documents first


@dataclass
class SalienceResult:
    entities: list[EntityStat]          # top entities: mentions desc, entity asc
    entity_types: int                   # distinct entities (exact while ``exact``)
    entity_mentions: int                # all entity mentions (always exact)
    spillover: list[SpilloverStat]      # by excess token_count - expected_count, desc
    outliers: list[str] = field(default_factory=list)  # every outlier entity, mentions desc
    z_cutoff: float = DEFAULT_Z_CUTOFF
    median_mentions: float = 0.0
    exact: bool = True
    entity_error: int = 0               # max undercount of any entity count (0 when exact)
    token_error: int = 0                # max undercount of any token count (0 when exact)
    competition: list[CompetitionStat] = field(default_factory=list)
    min_peer_documents: int = 5
    min_peers: int = 2
    min_documents: int = 20


@dataclass
class SalienceState:
    mentions: Counter = field(default_factory=Counter)   # entity -> mentions
    documents: Counter = field(default_factory=Counter)  # entity -> documents
    tokens: Counter = field(default_factory=Counter)     # candidate word -> occurrences
    pairs: Counter = field(default_factory=Counter)      # (word, next capitalised word) -> documents
    pair_mentions: Counter = field(default_factory=Counter)
    total_mentions: int = 0
    entity_error: int = 0
    token_error: int = 0


def _prune(counts: Counter, budget: int, slack: float = 1.5) -> int:
    """Batched Misra-Gries step, in place. Returns the amount subtracted (0 when under budget)."""
    if len(counts) <= budget * slack:
        return 0
    cut = sorted(counts.values(), reverse=True)[budget]
    for k in [k for k, v in counts.items() if v <= cut]:
        del counts[k]
    for k in counts:
        counts[k] -= cut
    return cut


def robust_z(values: list[float], mad_floor: float = MAD_FLOOR) -> list[float]:
    """Modified z-scores ``0.6745 * (v - median) / max(MAD, mad_floor)`` (0 for every value when the
    scale is 0)."""
    if not values:
        return []
    med = statistics.median(values)
    mad = max(statistics.median([abs(v - med) for v in values]), mad_floor)
    if mad <= 0:
        return [0.0 for _ in values]
    return [_MAD_SCALE * (v - med) / mad for v in values]


class SalienceMeasure(Measure[SalienceState, SalienceResult]):
    name = "salience"

    def __init__(self, extractor: str | EntityExtractor | None = None, *, top_k: int = 50, spillover_k: int = 50,
                 z_cutoff: float = DEFAULT_Z_CUTOFF, min_outlier_mentions: int = 5, min_outlier_documents: int = 20,
                 max_entities: int = 200_000, max_tokens: int = 500_000,
                 token_filter: Callable[[str], bool] = is_capitalised, min_peer_documents: int = 5,
                 min_peers: int = 2, min_documents: int = 20, competition_k: int = 50):
        # None: use the batch's entities (the extractor the run was configured with), else the default.
        self.extractor = get_extractor(extractor) if extractor is not None else None
        self.top_k = top_k
        self.spillover_k = spillover_k
        self.z_cutoff = z_cutoff
        self.min_outlier_mentions = min_outlier_mentions
        self.min_outlier_documents = min_outlier_documents
        self.min_peer_documents = min_peer_documents
        self.min_peers = min_peers
        self.min_documents = min_documents
        self.competition_k = competition_k
        self.max_entities = max_entities
        self.max_tokens = max_tokens
        self.token_filter = token_filter

    # -- map / merge -----------------------------------------------------------------------
    def empty(self) -> SalienceState:
        return SalienceState()

    def _batch_entities(self, batch: Batch) -> list[list[str]]:
        if self.extractor is not None:
            return [self.extractor(d.text) for d in batch.docs]
        ents = getattr(batch, "entities", None)  # shared, cached per batch when the Batch offers it
        if ents is not None:
            return ents
        return [get_extractor(None)(d.text) for d in batch.docs]

    @staticmethod
    def _batch_words(batch: Batch) -> list[list[str]]:
        # Reuse the batch's cached tokens when they are the word tokens; otherwise (a subword
        # tokenizer) tokenise into words here: spillover is about words.
        if batch.uses_word_tokens:
            return batch.tokens
        return [WORD_RE.findall(d.text) for d in batch.docs]

    def accumulate(self, state: SalienceState, batch: Batch) -> SalienceState:
        keep = self.token_filter
        mentions, documents, tokens = state.mentions, state.documents, state.tokens
        pairs, pair_mentions = state.pairs, state.pair_mentions
        for ents in self._batch_entities(batch):
            if ents:
                mentions.update(ents)
                documents.update(set(ents))
                state.total_mentions += len(ents)
                doc_pairs = [pr for e in ents for pr in entity_pairs(e) if keep(pr[0]) and keep(pr[1])]
                pair_mentions.update(doc_pairs)
                pairs.update(set(doc_pairs))
        if keep is is_capitalised:  # the default filter, read off the batch's shared word spans
            tokens.update(capitalised_words(batch.words))
        else:
            for words in self._batch_words(batch):
                tokens.update(w for w in words if keep(w))
        self._prune_state(state)
        return state

    def _prune_state(self, state: SalienceState) -> None:
        cut = _prune(state.mentions, self.max_entities)
        if cut:
            state.entity_error += cut
            state.documents = Counter({k: state.documents[k] for k in state.mentions})
        pcut = _prune(state.pair_mentions, self.max_entities)
        if pcut:
            state.entity_error += pcut
            state.pairs = Counter({k: state.pairs[k] for k in state.pair_mentions})
        state.token_error += _prune(state.tokens, self.max_tokens)

    def map(self, batch: Batch) -> SalienceState:
        return self.accumulate(self.empty(), batch)

    def merge(self, a: SalienceState, b: SalienceState) -> SalienceState:
        out = SalienceState(Counter(a.mentions), Counter(a.documents), Counter(a.tokens), Counter(a.pairs),
                            Counter(a.pair_mentions), a.total_mentions + b.total_mentions,
                            a.entity_error + b.entity_error, a.token_error + b.token_error)
        out.mentions.update(b.mentions)
        out.documents.update(b.documents)
        out.tokens.update(b.tokens)
        out.pairs.update(b.pairs)
        out.pair_mentions.update(b.pair_mentions)
        self._prune_state(out)
        return out

    # -- finalize --------------------------------------------------------------------------
    def finalize(self, state: SalienceState) -> SalienceResult:
        mentions = state.mentions
        total = state.total_mentions
        keys = sorted(mentions)
        zs = robust_z([math.log(mentions[k]) for k in keys])
        z_of = dict(zip(keys, zs))
        med = statistics.median(mentions.values()) if mentions else 0.0

        def is_outlier(e: str) -> bool:
            return (z_of[e] >= self.z_cutoff and mentions[e] >= self.min_outlier_mentions
                    and state.documents.get(e, 0) >= self.min_outlier_documents)

        entities = [EntityStat(e, m, state.documents.get(e, 0), m / total if total else 0.0, z_of[e], is_outlier(e))
                    for e, m in top_items(mentions, self.top_k)]
        outliers = [e for e, _ in top_items({e: m for e, m in mentions.items() if is_outlier(e)}, len(mentions))]
        return SalienceResult(
            entities=entities, entity_types=len(mentions), entity_mentions=total,
            spillover=self.spillover(state), outliers=outliers, z_cutoff=self.z_cutoff,
            median_mentions=float(med), exact=state.entity_error == 0 and state.token_error == 0,
            entity_error=state.entity_error, token_error=state.token_error,
            competition=self.competition(state), min_peer_documents=self.min_peer_documents,
            min_peers=self.min_peers, min_documents=self.min_documents,
        )

    def competition(self, state: SalienceState) -> list[CompetitionStat]:
        """The competition rows (see the module docstring)."""
        by_token: dict[str, list[tuple[int, str]]] = {}
        for (t, c), n in state.pairs.items():
            by_token.setdefault(t, []).append((n, c))
        holders: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for e, n in state.documents.items():
            for pr in set(entity_pairs(e)):
                if pr in state.pairs:
                    holders.setdefault(pr, []).append((n, e))
        rows: list[CompetitionStat] = []
        for t, conts in by_token.items():
            conts.sort(key=lambda x: (-x[0], x[1]))
            n0, c0 = conts[0]
            if n0 < self.min_documents:
                continue
            established = [n for n, _ in conts[1:] if n >= self.min_peer_documents]
            count = max(state.tokens.get(t, 0), state.pair_mentions[(t, c0)])
            share = state.pair_mentions[(t, c0)] / count if count else 0.0
            med = float(statistics.median(established)) if established else None
            if len(established) >= self.min_peers:
                status, ratio, excess = "competition", n0 / med, n0 - med
            else:
                status, ratio, excess = ("collocation" if share >= 0.5 else "no_competitor"), None, 0.0
            ents = [e for _, e in sorted(holders.get((t, c0), []), key=lambda x: (-x[0], x[1]))]
            rows.append(CompetitionStat(
                token=t, continuation=c0, entity=ents[0] if ents else f"{t} {c0}", documents=n0,
                mentions=state.pair_mentions[(t, c0)], token_count=count, share=share,
                peers=[(c, n) for n, c in conts[1:9]], established_peers=len(established),
                median_peer_documents=med, ratio=ratio, excess_documents=float(excess), status=status,
                entities=ents[:20]))
        rows.sort(key=lambda r: (r.status != "competition", -r.excess_documents, -r.documents, r.token))
        return rows[:self.competition_k]

    def spillover(self, state: SalienceState, k: int | None = None) -> list[SpilloverStat]:
        """Every candidate token's spillover row (see the module docstring), top ``k`` by excess."""
        keep = self.token_filter
        # token -> [(inside occurrences, entity)] for every entity containing the token
        by_token: dict[str, list[tuple[int, str]]] = {}
        for e, m in state.mentions.items():
            for t, mult in Counter(w for w in WORD_RE.findall(e) if keep(w)).items():
                by_token.setdefault(t, []).append((m * mult, e))
        rows: list[tuple[float, str, SpilloverStat]] = []
        for t, ents in by_token.items():
            ents.sort(key=lambda x: (-x[0], x[1]))
            inside, dom = ents[0]
            count = max(state.tokens.get(t, 0), inside)  # never below what the entity mentions contain
            others = [n for n, _ in ents[1:]]
            if others:
                expected = count - inside + statistics.median(others)
            else:
                expected = max(count - inside, 1)
            expected = max(float(expected), 1.0)
            row = SpilloverStat(token=t, entity=dom, token_count=count, entity_mentions=state.mentions[dom],
                                share=inside / count if count else 0.0, lift=count / expected,
                                expected_count=expected)
            rows.append((count - expected, t, row))
        rows.sort(key=lambda r: (-r[0], r[1]))
        k = self.spillover_k if k is None else k
        return [r[2] for r in rows[:k]]


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def _peer_text(r: dict, min_docs: float, k: int = 4) -> str:
    """The established competitors of a competition row, most documents first."""
    peers = [p for p in (r.get("peers") or []) if isinstance(p, (list, tuple)) and len(p) == 2
             and (sk.number(p[1]) or 0) >= min_docs][:k]
    return ", ".join(f"'{c}' {n}" for c, n in peers)


def score_salience(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    rows = [r for r in (sec.get("competition") or []) if isinstance(r, dict)]
    if "competition" not in sec:
        return sk.not_measured("no competition table in the salience section (a report of an older curadebt)",
                             t.competition_ratio), []
    rated = []
    for r in rows:
        ratio, docs = sk.number(r.get("ratio")), sk.number(r.get("documents"))
        if r.get("status") != "competition" or ratio is None or docs is None or docs < t.competition_min_documents:
            continue
        rated.append((ratio, r))
    rated.sort(key=lambda x: (-x[0], str(x[1].get("token"))))
    value = rated[0][0] if rated else 1.0
    crit = sk.Criterion("competition_ratio", value, t.competition_ratio, "ratio")
    n_debt = sum(1 for ratio, _ in rated if ratio >= t.competition_ratio)
    collocations = sum(1 for r in rows if r.get("status") == "collocation")
    if rated:
        ratio, r = rated[0]
        summary = (f"'{r.get('token')}' is continued by '{r.get('continuation')}' ('{r.get('entity')}') in "
                   f"{int(r.get('documents') or 0)} documents, {sk.ratio_text(ratio)}x the median of its "
                   f"{r.get('established_peers')} established competitors; {n_debt} token(s) at or over "
                   f"{sk.ratio_text(t.competition_ratio)}x")
    elif rows:
        summary = "no token shared by several established entities"
    else:
        summary = "no entity token in enough documents to compare"
    if collocations:
        summary += f"; {collocations} collocation(s), not a debt"
    dim = sk.dimension([crit], summary)
    findings = []
    by_excess = sorted(rated, key=lambda x: (-(sk.number(x[1].get("excess_documents")) or 0.0), str(x[1].get("token"))))
    for ratio, r in by_excess[:sk.MAX_FINDINGS_PER_DIMENSION]:
        score = sk.ratio_score(ratio, t.competition_ratio)
        if score < sk.LOW:
            continue
        token, cont, entity = str(r.get("token")), str(r.get("continuation")), str(r.get("entity"))
        docs, med = int(r.get("documents") or 0), sk.number(r.get("median_peer_documents")) or 0.0
        tail = ("a model will continue it with '" + cont + "' in contexts about the others" if ratio >= t.competition_ratio
                else f"under the {sk.ratio_text(t.competition_ratio)}x debt threshold")
        findings.append(sk.finding(
            "salience", score,
            f"'{token}' is continued by '{cont}' ('{entity}') in {docs} documents, {sk.ratio_text(ratio)}x the median "
            f"({med:g}) of its {r.get('established_peers')} established competitors "
            f"({_peer_text(r, sk.number(sec.get('min_peer_documents')) or 0)}); about "
            f"{round(docs - med)} documents over parity: {tail}",
            token, entity=entity, continuation=cont, value=ratio, threshold=t.competition_ratio,
            excess_documents=r.get("excess_documents")))
    outliers = [e for e in (sec.get("entities") or []) if isinstance(e, dict) and e.get("outlier")]
    for e in outliers[:3]:
        z = sk.number(e.get("z"))
        findings.append(sk.finding(
            "salience", None,
            f"entity '{e.get('entity')}' is frequent: {e.get('mentions')} mentions in {e.get('documents')} "
            f"documents ({sk.pct(sk.number(e.get('mention_share')) or 0.0)} of entity mentions"
            + (f", robust z {z:.1f})" if z is not None else ")") + "; frequent alone is not a debt",
            str(e.get("entity"))))
    return dim, findings


def render_salience(sec: dict, ctx: hk.RenderContext) -> str:
    tiles = [("entity mentions", hk.num(sec.get("entity_mentions"))), ("entity types", hk.num(sec.get("entity_types")))]
    if isinstance(sec.get("outliers"), list):
        tiles.append(("outlier entities", hk.num(len(sec["outliers"]))))
    if sec.get("z_cutoff") is not None:
        tiles.append(("outlier z cutoff", hk.num(sec.get("z_cutoff"))))
    out = [hk.tiles(tiles)]
    if sec.get("exact") is False:
        out.append(f'<p class="note">Counts are approximate (bounded memory): entity counts may be low by up to '
                   f'{hk.esc(hk.num(sec.get("entity_error")))}, token counts by up to {hk.esc(hk.num(sec.get("token_error")))}.</p>')
    ents = [e for e in hk.as_list(sec.get("entities")) if isinstance(e, dict)]
    out.append("<h3>Top entities</h3>")
    if ents:
        top = ents[:hk.MAX_BARS]
        out.append(ctx.plot(
            lambda: plots.bar_svg([e.get("entity") for e in top], [e.get("mention_share") for e in top],
                                  title="Top entities by share of entity mentions", xlabel="share of mentions",
                                  percent=True, highlight=[bool(e.get("outlier")) for e in top]),
            "Top entities by share of all entity mentions; red bars are outliers (z-score)."))
        rows = [[hk.code(e.get("entity")), hk.cell(e.get("mentions")), hk.cell(e.get("documents")),
                 hk.cell(e.get("mention_share"), hk.pct), hk.cell(e.get("z")),
                 hk.Trusted('<span class="badge debt">outlier</span>') if e.get("outlier") else ""]
                for e in ents[:hk.MAX_ROWS]]
        out.append(hk.table(["entity", "mentions", "documents", "mention share", "z", ""], rows, total=len(ents)))
    else:
        out.append('<p class="note">no entities found</p>')
    comp = [c for c in hk.as_list(sec.get("competition")) if isinstance(c, dict)]
    out.append("<h3>Competition for shared tokens</h3>")
    if comp:
        out.append('<p class="note">For a token that several entities continue ("Tom" in "Tom Cruise", "Tom '
                   'Hanks"), its dominant continuation against the median of its established competitors (at least '
                   f'{hk.esc(hk.num(sec.get("min_peer_documents")))} documents each). At 10x, a model continues the token '
                   'with the dominant one in contexts about the others (the debt threshold). A collocation (a word '
                   'hardly used outside one name) is listed, never scored.</p>')
        top = [c for c in comp if c.get("status") == "competition"][:hk.MAX_BARS]
        if top:
            out.append(ctx.plot(
                lambda: plots.bar_svg([f"{c.get('token')} \u2192 {c.get('continuation')}" for c in top],
                                      [c.get("ratio") for c in top], title="Dominant continuation vs its competitors",
                                      xlabel="documents / median competitor's documents",
                                      highlight=[(c.get("ratio") or 0) >= 10 for c in top]),
                "Documents of each token's dominant continuation over the median of its established competitors."))
        rows = [[hk.code(c.get("token")), hk.code(c.get("continuation")), hk.code(c.get("entity")), hk.cell(c.get("documents")),
                 hk.cell(c.get("established_peers")), hk.cell(c.get("median_peer_documents")), hk.cell(c.get("ratio"), hk.ratio),
                 hk.cell(c.get("excess_documents")), str(c.get("status", "")).replace("_", " "),
                 ", ".join(f"{p[0]} {p[1]}" for p in hk.as_list(c.get("peers"))[:4] if isinstance(p, (list, tuple)))]
                for c in comp[:hk.MAX_ROWS]]
        out.append(hk.table(["token", "continuation", "entity", "documents", "competitors", "median", "ratio",
                           "over parity", "status", "other continuations"], rows, total=len(comp)))
    else:
        out.append('<p class="note">no entity token in enough documents to compare</p>')
    spill = [s for s in hk.as_list(sec.get("spillover")) if isinstance(s, dict)]
    out.append("<h3>Token shares (context)</h3>")
    if spill:
        out.append('<p class="note">How often a token of a salient entity occurs inside that entity (share) and how '
                   "much more often than expected (lift): a token captured by one entity is pulled towards it in "
                   "unrelated contexts.</p>")
        top = spill[:hk.MAX_BARS]
        out.append(ctx.plot(
            lambda: plots.bar_svg([f"{s.get('token')} \u2190 {s.get('entity')}" for s in top],
                                  [s.get("share") for s in top], title="Token occurrences inside the entity",
                                  xlabel="share of the token's occurrences", percent=True),
            "Spillover: share of each token's occurrences that are inside the entity."))
        rows = [[hk.code(s.get("token")), hk.code(s.get("entity")), hk.cell(s.get("token_count")),
                 hk.cell(s.get("entity_mentions")), hk.cell(s.get("share"), hk.pct), hk.cell(s.get("lift"), hk.ratio),
                 hk.cell(s.get("expected_count"))] for s in spill[:hk.MAX_ROWS]]
        out.append(hk.table(["token", "entity", "token count", "entity mentions", "share", "lift", "expected"],
                          rows, total=len(spill)))
    else:
        out.append('<p class="note">no spillover measured</p>')
    return "".join(out)


register(MeasureSpec(name="salience", title="Salience and spillover", position=30, debt_position=20,
                     build=lambda cfg: SalienceMeasure(), score=score_salience, render=render_salience))
