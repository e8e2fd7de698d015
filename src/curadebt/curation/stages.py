"""The four stages of a curate run, each a function returning a typed result (see
:mod:`curadebt.curation.runner` for how they are strung together and what the folder holds).

- :func:`look`: the input audit (every measure, so the debt is known) with the scan riding along;
- :func:`decide`: the recipe's ops over the per-document features, then the output order (no I/O);
- :func:`apply`: the writer's pass (each kept copy to its shard), then the ledger;
- :func:`check`: the audit of the output and the books: read = kept + dropped + quarantined.
"""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from curadebt.core.config import replace as config_replace
from curadebt.corpus.outdir import file_checksum
from curadebt.curation.context import OpContext
from curadebt.curation.ledger import LEDGER_FILE, read_quarantine, write_ledger
from curadebt.curation.ops.order import order as output_order, ordered_items
from curadebt.curation.plan import Plan
from curadebt.curation.recipe import Recipe
from curadebt.curation.scan import DocTable, ScanMeasure
from curadebt.curation.writer import ShardPlan, plan_shards, write_output
from curadebt.measures.config import AuditConfig
from curadebt.measures.runner import WORKER_PRELOAD, audit_into, build_measures, write_report_html

WORK_DIR = ".curadebt-work"
#: a thread that waits on a worker drawing the input report's page while this process decides
_BACKGROUND = ThreadPoolExecutor(1, thread_name_prefix="curadebt-curate")
#: characters of text shown per dropped document in the report and the summary
PREVIEW_CHARS = 160
#: dropped documents shown per op
EXAMPLES_PER_OP = 5


@dataclass
class Looked:
    """What the input audit found: its report (dict), the per-document table, the probes, and
    ``before/report.html`` being drawn in the background (:meth:`finish`)."""

    audit_config: AuditConfig
    before: dict[str, Any]
    table: DocTable
    assignments: Any              # the duplicates measure's cluster assignments (None without it)
    probes: list
    html: Any = None              # a Future: before/report.html

    def finish(self) -> None:
        """Wait for ``before/report.html`` (raises what drawing it raised)."""
        if self.html is not None:
            self.html.result()
            self.html = None

    def release(self) -> None:
        """Let go of the per-document features once the output is written: the output's audit
        then has their memory (on 10M short documents, over a GB)."""
        self.table = self.assignments = None


@dataclass
class Decided:
    """Every decision (the plan) and where each output copy goes (:meth:`release`: all but the
    counts, once the output is written)."""

    plan: Plan
    order: np.ndarray             # ordinal of each output item, in output order
    positions: np.ndarray         # per document, by copy index: output positions (see ``offsets``)
    copy_index: np.ndarray
    offsets: np.ndarray           # document d's copies are positions[offsets[d]:offsets[d + 1]]
    shards: ShardPlan

    def release(self) -> None:
        self.plan.release()
        self.order = self.positions = self.copy_index = self.offsets = None


@dataclass
class Applied:
    """What the writer wrote: per-shard checksums and counts, the ledger's rows, dropped examples."""

    wrote: dict[str, Any]
    ledger_rows: int              # ledger.parquet: one row per input record
    examples: list[dict[str, Any]]


@dataclass
class Checked:
    """The audit of the output and the books."""

    after: dict[str, Any]
    reconciliation: dict[str, Any]
    #: the output report's measure sections drawn by the workers (name -> (section, HTML)), if they were
    drawn: dict[str, tuple] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.reconciliation["ok"])


def look(paths, out: Path, acfg: AuditConfig, progress: bool, session=None) -> Looked:
    """The input audit into ``out/before`` with the :class:`ScanMeasure` riding along (on the
    engine's ``session``, whose workers the later passes reuse)."""
    probes = []
    if acfg.probes:
        from curadebt.measures.probe_files import load_probes

        probes = load_probes(acfg.probes)
    scan = ScanMeasure(probes)
    rep = audit_into(paths, out / "before", acfg, progress=progress, measures=build_measures(acfg) + [scan],
                     session=session, html=False)
    dup = rep.sections.get("duplicates")
    # the page's plots take seconds: drawn by a worker while this process decides
    ex = session.executor if session is not None else None
    html = None
    if ex is not None:
        html = _BACKGROUND.submit(lambda: ex.get(ex.map(write_report_html, [(rep.to_json(), str(out / "before"))])))
    else:  # one process: drawing it beside the decisions would only share the same core
        rep.write_html(out / "before")
    return Looked(audit_config=acfg, before=rep.to_json(), table=rep.sections[scan.name],
                  assignments=getattr(dup, "assignments", None), probes=probes, html=html)


def decide(looked: Looked, recipe: Recipe, paths, progress: bool) -> Decided:
    """Run the recipe's ops in order (an op with ``when: debt`` only where the input audit flags its
    dimension), then fix the output order and the shards."""
    table = looked.table
    plan = Plan(table, recipe.seed)
    ctx = OpContext(table=table, plan=plan, before=looked.before, assignments=looked.assignments,
                    probes=looked.probes, paths=paths, reader=looked.audit_config.reader, progress=progress)
    for i, op in enumerate(recipe.ops):
        if op.when == "debt" and not ctx.is_debt(op.dimension):
            plan.skip(op.name, op.params(),
                      f"skipped: the input audit does not flag {op.dimension} as a debt{op.skip_note}")
            continue
        op.apply(ctx, i)
    if ctx.output_order is not None:
        ords, cidx = ctx.output_order
    elif any(op.terminal for op in recipe.ops):  # the order op was skipped: input order
        ords, cidx = ordered_items(ctx, "keep", None)
    else:
        ords, cidx, _ = output_order(ctx, None, len(recipe.ops))
    by_doc = np.lexsort((cidx, ords))  # per document: output positions of its copies, by copy index
    offsets = np.concatenate([[0], np.cumsum(plan.copies.astype(np.int64))])
    shards = plan_shards(table.nbytes[ords], recipe.output.shard_bytes, recipe.output.format)
    return Decided(plan=plan, order=ords, positions=by_doc.astype(np.int64), copy_index=cidx[by_doc],
                   offsets=offsets, shards=shards)


def apply(paths, out: Path, looked: Looked, decided: Decided, recipe: Recipe,
          checkpoint: Callable[[str], None], session=None) -> Applied:
    """Write every kept copy to its shard (atomically, checksummed), then ``ledger.parquet``."""
    from curadebt import engine
    from curadebt.engine.passes import PassInput

    if session is None:
        with engine.get(looked.audit_config).session(preload=WORKER_PRELOAD) as own:
            return apply(paths, out, looked, decided, recipe, checkpoint, own)
    work = out / WORK_DIR
    table, plan = looked.table, decided.plan
    id_key = looked.audit_config.reader.id_field or "id"
    read = int(looked.before["corpus"]["documents_read"])
    examples = dropped_examples(plan)
    wrote = write_output(session, PassInput(paths, looked.audit_config.reader), table.ids, decided.offsets,
                         decided.positions, decided.copy_index, decided.shards, out, work, recipe.output.format,
                         id_key, read, wanted={e["ordinal"] for e in examples}, checkpoint=checkpoint)
    for e in examples:
        text = wrote["previews"].get(e["ordinal"], "")
        e["preview"] = " ".join(text[:PREVIEW_CHARS * 2].split())[:PREVIEW_CHARS]
    off = decided.offsets

    def locate(lo: int, hi: int) -> list[list[str]]:  # where the copies of documents lo..hi-1 went
        flat = decided.shards.locations(decided.positions[off[lo]:off[hi]])
        return [flat[off[d] - off[lo]:off[d + 1] - off[lo]] for d in range(lo, hi)]

    rows = write_ledger(out / LEDGER_FILE, table, plan, locate, read_quarantine(out / "before" / "quarantine.jsonl"))
    shutil.rmtree(work, ignore_errors=True)
    return Applied(wrote=wrote, ledger_rows=rows, examples=examples)


def check(out: Path, looked: Looked, decided: Decided, applied: Applied, progress: bool, session=None) -> Checked:
    """Audit the output with the input's settings and balance the books; ``ok`` only when they
    balance, the output read back matches the plan and every shard has the checksum written."""
    before, plan, shards = looked.before, decided.plan, decided.shards
    acfg = looked.audit_config
    rd = acfg.reader
    # the output is JSONL/Parquet shards: read by extension; a text file's source was written as "source"
    after_cfg = config_replace(acfg, id_field=rd.id_field or "id", format=None, split=None, source_from=None,
                               source_field=rd.source_field or ("source" if rd.source_from else None))
    shard_paths = [str(out / n) for n in shards.names]
    audit = audit_into(shard_paths, None, after_cfg, progress=progress, require_documents=False,
                       session=session, draw=True)
    after = audit.to_json()
    verified = all(file_checksum(out / n) == applied.wrote["checksums"][n] for n in shards.names)
    read = int(before["corpus"]["documents_read"])
    kept, dropped = int((plan.copies > 0).sum()), int((plan.copies == 0).sum())
    recon = {
        "read": read, "kept": kept, "dropped": dropped, "quarantined": int(before["corpus"]["documents_quarantined"]),
        "ledger_rows": int(applied.ledger_rows),
        "output_documents": int(plan.copies.sum()), "records_written": int(applied.wrote["records_written"]),
        "output_read_back": int(after["corpus"]["documents_read"]),
        "tokens_before": int(before["corpus"]["tokens"]), "tokens_after": int(after["corpus"]["tokens"]),
        "shards_verified": verified,
    }
    recon["ok"] = (read == kept + dropped + recon["quarantined"] and recon["ledger_rows"] == read
                   and recon["records_written"] == recon["output_documents"] == recon["output_read_back"]
                   and after["corpus"]["documents_quarantined"] == 0 and verified)
    return Checked(after=after, reconciliation=recon, drawn=audit.drawn)


def dropped_examples(plan: Plan) -> list[dict[str, Any]]:
    """The first few documents each op dropped (their final decision), for the report: op, id,
    tokens, reason (the text preview is filled in by the writer's pass)."""
    fin = plan.final()
    per: dict[str, int] = {}
    out = []
    for d in np.flatnonzero(plan.copies == 0).tolist():
        op = fin["op"][d]
        if per.get(op, 0) >= EXAMPLES_PER_OP:
            continue
        per[op] = per.get(op, 0) + 1
        out.append({"ordinal": d, "op": op, "id": plan.table.ids[d], "tokens": int(plan.table.tokens[d]),
                    "reason": fin["reason"][d], "preview": ""})
    return sorted(out, key=lambda e: (e["op"], e["ordinal"]))
