"""Source mixture: documents and tokens per value of the source field, and how imbalanced they are."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch

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
