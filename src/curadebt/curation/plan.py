"""The decision state of a curate run: copies per document and every operation's decisions.

Operations never touch text. Each one looks at the :class:`~curadebt.curation.scan.DocTable` and the
audit, then records decisions here with :meth:`Plan.record`: for a set of documents, the number of
copies after the op (0 = dropped, 1 = kept, k > 1 = kept x k), an action, a reason and optionally a
reference document (the one it duplicates). The ledger is built from these records; the writer
applies the final copies.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from curadebt.curation.scan import DocTable

_M64 = (1 << 64) - 1

# actions (stable strings, written to the ledger's history)
KEEP = "keep"
DROP = "drop"
UPSAMPLE = "upsample"
DOWNSAMPLE = "downsample"


@dataclass
class Event:
    op: str
    ordinals: np.ndarray      # int64
    copies: np.ndarray        # int32, copies after the op
    actions: list[str]
    reasons: list[str]
    refs: np.ndarray          # int64 ordinal of the referenced document, -1 for none


@dataclass
class OpSummary:
    """What one op did (a row of the report's operations table)."""

    op: str
    ran: bool
    note: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    documents_in: int = 0       # kept documents (x copies) before the op
    documents_out: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    dropped: int = 0            # documents whose copies went to 0 in this op
    upsampled: int = 0          # documents whose copies went up
    downsampled: int = 0        # documents whose copies went down but not to 0
    details: dict[str, Any] = field(default_factory=dict)


class Plan:
    def __init__(self, table: DocTable, seed: int = 0):
        self.table = table
        self.n = len(table)
        self.seed = int(seed)
        self.copies = np.ones(self.n, dtype=np.int32)
        self.events: list[Event] = []
        self.cluster = np.full(self.n, -1, dtype=np.int64)       # dedup cluster (representative ordinal)
        self.cluster_kind: list[str] = [""] * self.n                    # unique/representative/exact/near
        self.summaries: list[OpSummary] = []
        #: a training schedule (``normalize`` with ``schedule``): per document, how many of its copies
        #: belong to the first phase of the output order; None = one phase
        self.first_phase: np.ndarray | None = None

    def release(self) -> None:
        """Drop the per-document decisions, keeping ``copies`` and the op summaries (what the books
        and the report need once the ledger is written)."""
        self.events, self.table = [], None
        self.cluster = self.cluster_kind = self.first_phase = None

    # -- randomness ------------------------------------------------------------------------
    def rng(self, op_index: int, name: str, salt: str = "") -> np.random.Generator:
        """A generator that depends only on (seed, op position, op name, salt)."""
        return np.random.default_rng([self.seed & _M64, op_index, zlib.crc32(name.encode()), zlib.crc32(salt.encode())])

    # -- state -----------------------------------------------------------------------------
    @property
    def kept(self) -> np.ndarray:
        return self.copies > 0

    def output_documents(self) -> int:
        return int(self.copies.sum())

    def output_tokens(self) -> int:
        return int((self.copies.astype(np.int64) * self.table.tokens).sum())

    def record(self, op: str, ordinals: Sequence[int] | np.ndarray, copies: Sequence[int] | np.ndarray | int,
               actions: Sequence[str] | str, reasons: Sequence[str] | str,
               refs: Sequence[int] | np.ndarray | int = -1) -> None:
        ords = np.asarray(ordinals, dtype=np.int64)
        m = len(ords)
        if m == 0:
            return
        cps = np.broadcast_to(np.asarray(copies, dtype=np.int32), (m,)).copy()
        if (cps < 0).any():
            raise ValueError(f"{op}: negative copies")
        acts = [actions] * m if isinstance(actions, str) else list(actions)
        rs = [reasons] * m if isinstance(reasons, str) else list(reasons)
        rf = np.broadcast_to(np.asarray(refs, dtype=np.int64), (m,)).copy()
        if len(acts) != m or len(rs) != m:
            raise ValueError(f"{op}: actions/reasons do not match the documents")
        self.events.append(Event(op, ords, cps, acts, rs, rf))
        self.copies[ords] = cps

    def begin(self, op: str, params: dict[str, Any]) -> OpSummary:
        s = OpSummary(op=op, ran=True, params=params, documents_in=self.output_documents(),
                      tokens_in=self.output_tokens())
        self._before = self.copies.copy()
        return s

    def end(self, s: OpSummary) -> OpSummary:
        before, after = self._before, self.copies
        s.documents_out = self.output_documents()
        s.tokens_out = self.output_tokens()
        s.dropped = int(((before > 0) & (after == 0)).sum())
        s.upsampled = int((after > before).sum())
        s.downsampled = int(((after < before) & (after > 0)).sum())
        self.summaries.append(s)
        return s

    def skip(self, op: str, params: dict[str, Any], note: str) -> OpSummary:
        s = OpSummary(op=op, ran=False, note=note, params=params, documents_in=self.output_documents(),
                      documents_out=self.output_documents(), tokens_in=self.output_tokens(),
                      tokens_out=self.output_tokens())
        self.summaries.append(s)
        return s

    # -- final decision per document -------------------------------------------------------
    def final(self) -> dict[str, Any]:
        """Per document: the op, action, reason and reference behind its final copies (the last event
        that changed its copies; documents no op changed are ``keep``/``none``)."""
        n = self.n
        op = ["" for _ in range(n)]
        reason = ["" for _ in range(n)]
        ref = np.full(n, -1, dtype=np.int64)
        current = np.ones(n, dtype=np.int32)
        for ev in self.events:
            for i, o in enumerate(ev.ordinals.tolist()):
                c = int(ev.copies[i])
                if c != current[o] or (c == 0 and not op[o]):
                    op[o] = ev.op
                    reason[o] = ev.reasons[i]
                    ref[o] = int(ev.refs[i])
                current[o] = c
        return {"op": op, "reason": reason, "ref": ref}

    def history(self) -> list[list[tuple[str, str, int, str, int]]]:
        """Per document: every event (op, action, copies after, reason, ref ordinal), in op order."""
        hist: list[list[tuple[str, str, int, str, int]]] = [[] for _ in range(self.n)]
        for ev in self.events:
            for i, o in enumerate(ev.ordinals.tolist()):
                hist[o].append((ev.op, ev.actions[i], int(ev.copies[i]), ev.reasons[i], int(ev.refs[i])))
        return hist
