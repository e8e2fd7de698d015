"""curadebt inside a datatrove pipeline (``pip install datatrove``).

:class:`CuradebtAudit` is a pipeline step that passes every document on unchanged and feeds it to
the audit's measures; at the end of its task it saves the measures' state (mergeable summaries, not
the documents) to ``states_folder/rank-00003.pkl``. :func:`merge_audit` (or the one-task step
:class:`CuradebtAuditMerge`, run after the first pipeline as datatrove's stats mergers are) merges the
states of every rank in rank order and writes one report, the same numbers as ``curadebt audit`` on
the same documents read rank after rank::

    LocalPipelineExecutor([JsonlReader("data/"), CuradebtAudit("states/", source_field="source"),
                           JsonlWriter("out/")], tasks=8).run()
    merge_audit("states/", "report/")

Documents are numbered ``rank * 2**40 + position in the rank`` (their reading order across ranks);
the training-order measure needs one pass in the final order and is not measured here.

:class:`CuradebtLedgerFilter` applies a curate ledger in a pipeline: a document kept x k is passed on
k times (copies ``j >= 1`` as ``<id>#<j>``, with ``curadebt_copy_of``), a dropped one is left out
and counted under its op in the step's stats.
"""
from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

from datatrove.data import Document as DTDocument
from datatrove.pipeline.base import PipelineStep

RANK_STRIDE = 1 << 40


def _audit_config(options: dict[str, Any]):
    from curadebt.measures.runner import AuditConfig

    from curadebt.core.config import build

    return build(AuditConfig, **options)


class CuradebtAudit(PipelineStep):
    """Audit the documents that flow through (see the module docstring). ``options`` are
    :class:`~curadebt.measures.runner.AuditConfig` fields (``source_field``, ``probes``, ...)."""

    name = "curadebt audit"
    type = "📊 - STATS"

    def __init__(self, states_folder: str | Path, batch_size: int = 1000, **options: Any):
        super().__init__()
        self.states_folder = Path(states_folder)
        self.batch_size = batch_size
        self.options = options
        _audit_config(options)  # fail now on an unknown option

    def run(self, data, rank: int = 0, world_size: int = 1):
        from curadebt.corpus.batch import Batch
        from curadebt.corpus.quarantine import Quarantine
        from curadebt.corpus.records import RecordBuilder, ReadStats
        from curadebt.measures.runner import build_measures
        from curadebt.text.entities import get_extractor
        from curadebt.text.tokenize import get_tokenizer

        cfg = _audit_config(self.options)
        measures = build_measures(cfg)
        states = {m.name: m.empty() for m in measures}
        stats, quarantine = ReadStats(), Quarantine()
        builder = RecordBuilder(cfg.reader, quarantine, stats)
        builder.ordinal = rank * RANK_STRIDE
        tok, ext = get_tokenizer(cfg.tokenizer), get_extractor(cfg.entity_extractor)
        buf = []

        def flush() -> None:
            if buf:
                batch = Batch(list(buf), tok, ext)
                for m in measures:
                    states[m.name] = m.accumulate(states[m.name], batch)
                buf.clear()

        for i, doc in enumerate(data):
            with self.track_time():
                rec = {**(doc.metadata or {}), cfg.reader.id_field or "id": doc.id, cfg.reader.text_field: doc.text}
                d = builder.from_record(rec, f"rank{rank}:{i + 1}", check_surrogates=True)
                if d is not None:
                    buf.append(d)
                    if len(buf) >= self.batch_size:
                        flush()
                else:
                    self.stat_update("quarantined")
            yield doc
        flush()
        self.states_folder.mkdir(parents=True, exist_ok=True)
        part = {"rank": rank, "world_size": world_size, "options": self.options, "states": states,
                "stats": stats, "quarantine": dict(quarantine.counts)}
        tmp = self.states_folder / f".rank-{rank:05d}.pkl.tmp"
        tmp.write_bytes(pickle.dumps(part, protocol=5))
        tmp.replace(self.states_folder / f"rank-{rank:05d}.pkl")


def merge_audit(states_folder: str | Path, out: str | Path | None = None, force: bool = False):
    """Merge the rank states of :class:`CuradebtAudit` (rank order) into one
    :class:`~curadebt.measures.runner.AuditReport`; with ``out``, write report.json/html there."""
    from collections import Counter

    from curadebt.corpus.quarantine import Quarantine
    from curadebt.corpus.records import ReadStats
    from curadebt.engine.local import merge_states
    from curadebt.measures.debt import compute_debt
    from curadebt.measures.runner import AuditReport, build_measures, corpus_section, total_tokens

    files = sorted(Path(states_folder).glob("rank-*.pkl"))
    if not files:
        raise FileNotFoundError(f"{states_folder}: no rank-*.pkl states (run the CuradebtAudit step first)")
    parts = [pickle.loads(f.read_bytes()) for f in files]
    world = {p["world_size"] for p in parts}
    if len(world) != 1 or len(parts) != next(iter(world)):
        raise ValueError(f"{states_folder}: {len(parts)} rank states of a world of {sorted(world)}: a task is missing")
    cfg = _audit_config(parts[0]["options"])
    measures = build_measures(cfg)
    merged = merge_states(measures, [p["states"] for p in parts])
    sections = {m.name: m.finalize(merged[m.name]) for m in measures}
    stats = ReadStats()
    reasons: Counter = Counter()
    for p in parts:
        s = p["stats"]
        stats.documents_read += s.documents_read
        stats.documents_ok += s.documents_ok
        stats.documents_quarantined += s.documents_quarantined
        reasons.update(p["quarantine"])
    stats.files = [f.name for f in files]
    quarantine = Quarantine()
    quarantine.counts.update(reasons)
    report = AuditReport(dataclasses.replace(cfg), corpus_section(stats, quarantine, total_tokens(sections), cfg),
                         sections)
    report.debt = compute_debt(report.to_json())
    if out is not None:
        from curadebt.corpus.outdir import staged_output

        with staged_output(out, kind="audit", force=force) as stage:
            report.write(stage.dir)
            stage.commit()
    return report


class CuradebtAuditMerge(PipelineStep):
    """Merge the states of a finished :class:`CuradebtAudit` pipeline into one report (run it with
    one task, after the first pipeline: ``depends=`` in datatrove)."""

    name = "curadebt audit merge"
    type = "📊 - STATS"

    def __init__(self, states_folder: str | Path, out: str | Path, force: bool = False):
        super().__init__()
        self.states_folder, self.out, self.force = Path(states_folder), Path(out), force

    def run(self, data, rank: int = 0, world_size: int = 1):
        if rank == 0:
            merge_audit(self.states_folder, self.out, self.force)
        if data:
            yield from data


class CuradebtLedgerFilter(PipelineStep):
    """Apply a curate ledger (``ledger.parquet`` or its folder) to the documents that flow through."""

    name = "curadebt ledger"
    type = "🔻 - FILTER"

    def __init__(self, ledger: str | Path, id_key: str = "id"):
        super().__init__()
        path = Path(ledger)
        self.ledger = path / "ledger.parquet" if path.is_dir() else path
        self.id_key = id_key
        self._decisions: dict[str, list[tuple[int, str]]] | None = None

    def _load(self) -> dict[str, list[tuple[int, str]]]:
        """id -> its decisions in ledger order (an id that occurs twice in the input has two rows; the
        n-th document with that id gets the n-th)."""
        if self._decisions is None:
            import pyarrow.parquet as pq

            t = pq.read_table(self.ledger, columns=["id", "copies", "op", "decision"]).to_pylist()
            self._decisions = {}
            for r in t:
                if r["decision"] != "quarantined":
                    self._decisions.setdefault(r["id"], []).append((int(r["copies"]), r["op"] or ""))
        return self._decisions

    def run(self, data, rank: int = 0, world_size: int = 1):
        from collections import Counter

        from curadebt.curation.writer import COPY_OF_FIELD, output_id

        decisions, seen = self._load(), Counter()
        for doc in data:
            rows = decisions.get(doc.id) or []
            k = seen[doc.id]
            seen[doc.id] += 1
            copies, op = rows[k] if k < len(rows) else (None, "")
            if copies is None:
                self.stat_update("not_in_ledger")
                continue
            if copies == 0:
                self.stat_update(f"dropped_by_{op}")
                continue
            self.stat_update("kept")
            yield doc
            for j in range(1, copies):
                self.stat_update("copies")
                yield DTDocument(text=doc.text, id=output_id(doc.id, j),
                                 metadata={**(doc.metadata or {}), COPY_OF_FIELD: doc.id})
