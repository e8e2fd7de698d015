"""The typed answers of token-index queries (each with ``to_json()``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class DocHit:
    index: int  # global document number (reading order)
    id: str
    source: str | None
    count: int  # occurrences of the query in this document
    position: int  # token offset of the first occurrence within the document
    snippet: str
    match_start: int  # the first occurrence inside ``snippet`` (character offsets)
    match_end: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class DocumentsResult:
    query: list[int]
    count: int
    n_documents: int
    documents: list[DocHit]

    def to_json(self) -> dict:
        return {"query": self.query, "count": self.count, "n_documents": self.n_documents,
                "documents": [d.to_json() for d in self.documents]}


@dataclass
class NextToken:
    id: int
    token: str
    count: int
    prob: float


@dataclass
class NextTokens:
    context: list[int]
    count: int  # occurrences of the context
    end_of_document: int  # occurrences followed by the end of their document
    candidates: list[NextToken]

    def to_json(self) -> dict:
        return {"context": self.context, "count": self.count, "end_of_document": self.end_of_document,
                "candidates": [asdict(c) for c in self.candidates]}

    def as_dict(self) -> dict[int, int]:
        return {c.id: c.count for c in self.candidates}


@dataclass
class Span:
    start: int  # token positions in the traced text, end exclusive
    end: int
    char_start: int
    char_end: int
    text: str
    count: int
    n_documents: int
    log10_unigram_prob: float
    documents: list[DocHit] = field(default_factory=list)
    in_prompt: bool = False
    reason: str | None = None  # why a span was filtered out (None for kept spans)

    @property
    def length(self) -> int:
        return self.end - self.start

    def to_json(self) -> dict:
        d = asdict(self)
        d["length"] = self.length
        d["documents"] = [x.to_json() for x in self.documents]
        return d


@dataclass
class SpansResult:
    text: str
    n_tokens: int
    params: dict
    spans: list[Span]  # kept: maximal, long enough, unlikely enough
    filtered: list[Span]  # maximal spans dropped by a filter, with the reason (so thresholds can move later)

    def to_json(self) -> dict:
        return {"text": self.text, "n_tokens": self.n_tokens, "params": self.params,
                "spans": [s.to_json() for s in self.spans], "filtered": [s.to_json() for s in self.filtered]}
