"""Source mixture: documents and tokens per value of the source field, and how imbalanced they are."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

NO_SOURCE = "(none)"


@dataclass
class SourceShare:
    source: str
    documents: int
    tokens: int
    document_share: float
    token_share: float


@dataclass
class MixtureResult:
    field: str | None
    sources: list[SourceShare] = field(default_factory=list)
    imbalance_max_min: float | None = None   # largest / smallest source, by tokens
    normalized_entropy: float | None = None  # of token shares; 1 = perfectly even
    top_source: str | None = None
    top_share: float | None = None           # token share of the largest source


class MixtureMeasure(Measure[dict, MixtureResult]):
    name = "mixture"

    def __init__(self, source_field: str | None = None):
        self.source_field = source_field

    def empty(self) -> dict:
        return {}

    def map(self, batch: Batch) -> dict:
        return self.accumulate({}, batch)

    def accumulate(self, state: dict, batch: Batch) -> dict:
        for doc, n_tokens in zip(batch.docs, batch.token_counts):
            cell = state.setdefault(doc.source if doc.source is not None else NO_SOURCE, [0, 0])
            cell[0] += 1
            cell[1] += n_tokens
        return state

    def merge(self, a: dict, b: dict) -> dict:
        out = {k: list(v) for k, v in a.items()}
        for k, (d, t) in b.items():
            cell = out.setdefault(k, [0, 0])
            cell[0] += d
            cell[1] += t
        return out

    def finalize(self, state: dict) -> MixtureResult:
        docs = sum(v[0] for v in state.values())
        toks = sum(v[1] for v in state.values())
        rows = sorted(state.items(), key=lambda kv: (-kv[1][1], kv[0]))
        sources = [SourceShare(k, d, t, d / docs if docs else 0.0, t / toks if toks else 0.0) for k, (d, t) in rows]
        res = MixtureResult(field=self.source_field, sources=sources)
        if sources and toks:
            res.top_source, res.top_share = sources[0].source, sources[0].token_share
            smallest = min(s.tokens for s in sources)
            res.imbalance_max_min = sources[0].tokens / smallest if smallest else None
            if len(sources) > 1:
                h = -sum(s.token_share * math.log(s.token_share) for s in sources if s.token_share > 0)
                res.normalized_entropy = h / math.log(len(sources))
            else:
                res.normalized_entropy = None
        return res


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def score_mixture(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    sources = [s for s in (sec.get("sources") or []) if isinstance(s, dict)]
    if len(sources) < 2:
        what = f"one source only ('{sources[0].get('source')}')" if sources else "no sources"
        return sk.not_measured(f"{what}; give --source-field to measure the mixture",
                             {"top_source_share": t.top_source_share, "source_entropy": t.source_entropy}), []
    sources = sorted(sources, key=lambda s: (-(sk.number(s.get("token_share")) or 0.0), str(s.get("source"))))
    top = sources[0]
    top_share = sk.number(sec.get("top_share"))
    if top_share is None:
        top_share = sk.number(top.get("token_share")) or 0.0
    top_name = str(sec.get("top_source") or top.get("source"))
    # With two sources the larger always holds at least half (50/50 is the balanced mix): there the
    # entropy alone judges the split (0.7 is about 81/19).
    criteria = [sk.Criterion("top_source_share", top_share, t.top_source_share, "share")] if len(sources) > 2 else []
    entropy = sk.number(sec.get("normalized_entropy"))
    if entropy is None:
        shares = [sk.number(s.get("token_share")) or 0.0 for s in sources]
        entropy = -sum(p * math.log(p) for p in shares if p > 0) / math.log(len(shares))
    criteria.append(sk.Criterion("source_normalized_entropy", entropy, t.source_entropy, "below"))
    runner = sources[1]
    summary = (f"source '{top_name}' holds {sk.pct(top_share)} of tokens; next '{runner.get('source')}' "
               f"{sk.pct(sk.number(runner.get('token_share')) or 0.0)}; normalised entropy {entropy:.2f} over "
               f"{len(sources)} sources")
    dim = sk.dimension(criteria, summary)
    findings = []
    score = dim["score"]
    if score >= sk.LOW:
        docs = top.get("documents")
        msg = (f"source '{top_name}' holds {sk.pct(top_share)} of tokens"
               + (f" ({docs} documents)" if docs is not None else "")
               + f", {len(sources) - 1} other sources share the rest (normalised entropy {entropy:.2f})")
        findings.append(sk.finding("mixture", score, msg, top_name, value=top_share, threshold=t.top_source_share,
                                 normalized_entropy=entropy))
    return dim, findings


def render_mixture(sec: dict, ctx: hk.RenderContext) -> str:
    top_share = sec.get("top_share")
    out = [hk.tiles([
        ("source field", str(sec.get("field")) if sec.get("field") is not None else hk.DASH),
        ("sources", hk.num(len(hk.as_list(sec.get("sources"))))),
        ("top source", f"{hk.clean(str(sec.get('top_source')))} ({hk.pct(top_share)})" if sec.get("top_source") is not None else hk.DASH),
        ("largest / smallest", hk.ratio(sec.get("imbalance_max_min"))),
        ("normalized entropy", hk.num(sec.get("normalized_entropy"))),
    ])]
    sources = [s for s in hk.as_list(sec.get("sources")) if isinstance(s, dict)]
    if not sources:
        return "".join(out) + '<p class="note">no sources</p>'
    top = sources[:hk.MAX_BARS]
    out.append(ctx.plot(
        lambda: plots.grouped_bar_svg([s.get("source") for s in top],
                                      {"documents": [s.get("document_share") for s in top],
                                       "tokens": [s.get("token_share") for s in top]},
                                      title="Share per source", xlabel="share", percent=True),
        "Documents and tokens per source, as shares of the corpus."
        + (f" Showing {len(top)} of {len(sources)} sources." if len(sources) > len(top) else "")))
    rows = [[hk.code(s.get("source")), hk.cell(s.get("documents")), hk.cell(s.get("document_share"), hk.pct),
             hk.cell(s.get("tokens")), hk.cell(s.get("token_share"), hk.pct)] for s in sources[:hk.MAX_ROWS]]
    out.append(hk.table(["source", "documents", "document share", "tokens", "token share"], rows, total=len(sources)))
    return "".join(out)


register(MeasureSpec(name="mixture", title="Source mixture", position=40, debt_position=30,
                     build=lambda cfg: MixtureMeasure(cfg.reader.source_field), score=score_mixture, render=render_mixture))
