"""``curate()``: pay the debt down. Decide in one pass, apply in a second, audit the result.

1. **Look** (one streaming pass): the input audit (every measure, so the debt is known) with the
   :class:`~curadebt.curation.scan.ScanMeasure` riding along; written to ``OUT/before/``.
2. **Decide** (no I/O): the recipe's ops in order over the per-document features; every decision is
   recorded (:class:`~curadebt.curation.plan.Plan`); then the output order.
3. **Apply** (a second streaming pass): the writer spills each kept copy to its shard and finishes
   the shards atomically (:mod:`curadebt.curation.writer`); then ``ledger.parquet``.
4. **Check**: audit the output with the same settings; ``read = kept + dropped + quarantined`` and
   the output count (copies) against what the audit of the output read; a mismatch raises
   :class:`~curadebt.measures.runner.ReconciliationError`. Then ``report.json`` (the output's audit plus
   a ``curate`` key with before -> after) and ``report.html``.

Output folder::

    OUT/data/part-00000.jsonl ...   the curated corpus (or .parquet)
    OUT/ledger.parquet              one decision per input record
    OUT/report.json, report.html    audit of the output + before/after (``curate`` key)
    OUT/before/                     audit of the input (report.json, report.html, quarantine.jsonl)

    OUT/manifest.json               every file above with its size and checksum (written last)

The whole folder is written beside ``OUT`` and swapped in at the end as one change
(:mod:`curadebt.corpus.outdir`): a reader sees the previous run's complete set or this one's, never
a mix, and a run killed at any point leaves ``OUT`` as it was. ``OUT`` may not overlap the input,
and a folder curadebt did not write is refused unless ``force`` (which never deletes a file
curadebt did not write). ``ok`` is true only when the books balance, the output read back matches
the plan, and every shard on disk has the checksum of the bytes the writer produced. Every byte is
a function of (input, recipe, seed, settings): the same arguments give identical files, also after
a killed run. Wall-clock timings are returned, never written.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curadebt import engine
from curadebt.core.config import flat_dict, replace as config_replace
from curadebt.curation.config import CurateConfig
from curadebt.measures.runner import ReconciliationError, audit_into, build_measures, input_paths
from curadebt.corpus.outdir import file_checksum, staged_output
from curadebt.curation.context import OpContext
from curadebt.curation.ledger import LEDGER_FILE, build_ledger, read_quarantine, write_ledger
from curadebt.curation.plan import OpSummary, Plan
from curadebt.curation.ops.order import order as output_order, ordered_items
from curadebt.curation.recipe import Recipe, default_recipe, load_recipe
from curadebt.curation.report import curate_html, curate_section
from curadebt.curation.scan import ScanMeasure
from curadebt.curation.writer import plan_shards, write_output

WORK_DIR = ".curadebt-work"
PAUSE_ENV = "CURADEBT_CURATE_PAUSE_AT"   # test hook: pause (sleep) at a named checkpoint

@dataclass
class CurateResult:
    out: Path
    recipe: Recipe
    reconciliation: dict[str, Any]
    operations: list[OpSummary]
    before: dict[str, Any]
    after: dict[str, Any]
    report: dict[str, Any]
    files: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def comparison(self) -> dict[str, Any]:
        """Every debt dimension before -> after (the report's ``curate.debt``)."""
        return self.report["curate"]["debt"]

    @property
    def ledger(self):
        """The ledger (one row per input record) as a pyarrow Table."""
        import pyarrow.parquet as pq

        return pq.read_table(self.out / LEDGER_FILE)

    @property
    def kept(self) -> list[str]:
        """Ids of the kept documents, in input order."""
        t = self.ledger.select(["id", "decision"]).to_pylist()
        return [r["id"] for r in t if r["decision"] == "kept"]

    def dropped(self, op: str | None = None) -> list[dict[str, Any]]:
        """The dropped documents (all, or those of one op): id, op, reason, duplicate_of, tokens."""
        cols = ["id", "decision", "op", "reason", "duplicate_of", "tokens"]
        return [{k: r[k] for k in cols if k != "decision"} for r in self.ledger.select(cols).to_pylist()
                if r["decision"] == "dropped" and (op is None or r["op"] == op)]

    def explain(self, doc_id: str) -> str:
        """One document's history (as ``curadebt explain``)."""
        from curadebt.curation.ledger import explain_text, lookup

        return explain_text(lookup(self.out, doc_id))


def _pause(name: str) -> None:
    if os.environ.get(PAUSE_ENV) == name:
        print(f"CURADEBT-PAUSED {name}", flush=True)
        time.sleep(3600)


def curate(paths, out: str | Path, recipe: Recipe | str | Path | None = None, config: CurateConfig | None = None,
           *, progress: bool = False, force: bool = False, **overrides) -> CurateResult:
    """Curate a corpus (file, folder, or list of them) into ``out`` with ``recipe`` (a
    :class:`Recipe`, a YAML/JSON path, or None for :func:`default_recipe`). Keyword overrides set
    :class:`CurateConfig` fields. ``force`` writes into a non-empty folder curadebt did not write
    (its files are kept, never overwritten). Nothing in ``out`` changes unless the run succeeds."""
    cfg = config_replace(config or CurateConfig(), **overrides)
    if recipe is None:
        recipe = default_recipe()
    elif not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    recipe.validate()
    engine.get(cfg.audit_config(recipe))  # fail before any work on a bad engine choice
    for op in recipe.ops:  # a missing model or source field fails now, not after the passes
        op.preflight(cfg)
    with staged_output(out, kind="curate", inputs=input_paths(paths), force=force) as stage:
        result = _curate_into(paths, stage.dir, recipe, cfg, progress)
        result.out = Path(out)
        recon = result.reconciliation
        if not recon["ok"]:  # nothing is committed: OUT keeps its previous state
            raise ReconciliationError(
                f"read {recon['read']} != kept {recon['kept']} + dropped {recon['dropped']} + quarantined "
                f"{recon['quarantined']}, or output {recon['output_documents']} copies != "
                f"{recon['records_written']} written != {recon['output_read_back']} read back (ledger rows "
                f"{recon['ledger_rows']}), or a shard on disk differs from what was written "
                f"(verified: {recon['shards_verified']}); {out} was left as it was")
        stage.commit(checkpoint=_pause)
    return result


def _curate_into(paths, out: Path, recipe: Recipe, cfg: CurateConfig, progress: bool) -> CurateResult:
    """Look, decide, apply and check, writing every file into ``out`` (a fresh staging folder)."""
    work = out / WORK_DIR
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    # 1. look: the input audit with the scan riding along --------------------------------
    acfg = cfg.audit_config(recipe)
    probes = []
    if cfg.probes:
        from curadebt.measures.probe_files import load_probes

        probes = load_probes(cfg.probes)
    scan = ScanMeasure(probes)
    before_rep = audit_into(paths, out / "before", acfg, progress=progress, measures=build_measures(acfg) + [scan])
    table = before_rep.sections[scan.name]
    dup = before_rep.sections.get("duplicates")
    before = before_rep.to_json()
    seconds["look"] = time.perf_counter() - t0
    _pause("looked")

    # 2. decide ----------------------------------------------------------------------------
    t1 = time.perf_counter()
    plan = Plan(table, recipe.seed)
    ctx = OpContext(table=table, plan=plan, before=before, assignments=getattr(dup, "assignments", None),
                    probes=probes, paths=paths, reader=acfg.reader, progress=progress)
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
    # per document: output positions of its copies (by copy index)
    by_doc = np.lexsort((cidx, ords))
    positions = by_doc.astype(np.int64)
    copy_index = cidx[by_doc]
    positions_off = np.concatenate([[0], np.cumsum(plan.copies.astype(np.int64))])
    shards = plan_shards(table.nbytes[ords], recipe.output.shard_bytes, recipe.output.format)
    seconds["decide"] = time.perf_counter() - t1
    _pause("decided")

    # 3. apply -----------------------------------------------------------------------------
    t2 = time.perf_counter()
    id_key = cfg.reader.id_field or "id"
    reader = acfg.reader
    read = int(before["corpus"]["documents_read"])
    examples = dropped_examples(plan)
    wanted = {e["ordinal"]: e for e in examples}

    def preview(doc) -> None:
        if doc.ordinal in wanted:
            wanted[doc.ordinal]["preview"] = " ".join(doc.text[:PREVIEW_CHARS * 2].split())[:PREVIEW_CHARS]

    wrote = write_output(paths, reader, table.ids, positions_off, positions, copy_index, shards, out, work,
                         recipe.output.format, id_key, read, on_doc=preview, checkpoint=_pause)
    locs_flat = shards.locations(positions)
    locations = [locs_flat[positions_off[d]:positions_off[d + 1]] for d in range(table.n)]
    quarantined = read_quarantine(out / "before" / "quarantine.jsonl")
    ledger = build_ledger(table, plan, locations, quarantined)
    write_ledger(out / LEDGER_FILE, ledger)
    shutil.rmtree(work, ignore_errors=True)
    seconds["apply"] = time.perf_counter() - t2
    _pause("applied")

    # 4. check -----------------------------------------------------------------------------
    t3 = time.perf_counter()
    kept = int((plan.copies > 0).sum())
    dropped = int((plan.copies == 0).sum())
    q = int(before["corpus"]["documents_quarantined"])
    shard_paths = [str(out / n) for n in shards.names]
    # the output is JSONL/Parquet shards: read by extension; a text file's source was written as "source"
    rd = acfg.reader
    after_cfg = config_replace(acfg, id_field=id_key, format=None, split=None, source_from=None,
                               source_field=rd.source_field or ("source" if rd.source_from else None))
    after_rep = audit_into(shard_paths, None, after_cfg, progress=progress, require_documents=False)
    after = after_rep.to_json()
    verified = all(file_checksum(out / n) == wrote["checksums"][n] for n in shards.names)
    recon = {
        "read": read, "kept": kept, "dropped": dropped, "quarantined": q,
        "ledger_rows": int(ledger.num_rows),
        "output_documents": int(plan.copies.sum()), "records_written": int(wrote["records_written"]),
        "output_read_back": int(after["corpus"]["documents_read"]),
        "tokens_before": int(before["corpus"]["tokens"]), "tokens_after": int(after["corpus"]["tokens"]),
        "shards_verified": verified,
    }
    recon["ok"] = (read == kept + dropped + q and recon["ledger_rows"] == read
                   and recon["records_written"] == recon["output_documents"] == recon["output_read_back"]
                   and after["corpus"]["documents_quarantined"] == 0 and verified)
    _pause("checked")
    files = {"shards": shards.names, "ledger": LEDGER_FILE, "report": "report.json", "html": "report.html",
             "before": "before/report.json", "quarantine": "before/quarantine.jsonl",
             "manifest": "manifest.json", "format": recipe.output.format}
    section = curate_section(before, after, recipe.to_json(), _config_json(cfg), recon, plan.summaries, files)
    section["dropped_examples"] = [{k: v for k, v in e.items() if k != "ordinal"} for e in examples]
    report = dict(after)
    report["curate"] = section
    from curadebt.measures.registry import render_report
    from curadebt.core.atomic import write_json_atomic, write_text_atomic

    write_json_atomic(out / "report.json", report)
    write_text_atomic(out / "report.html", render_report(
        report, title="curadebt curate: the curated corpus", skip=("curate",),
        extra_sections=[("Curation: before \u2192 after", curate_html(section))]))
    _pause("reported")
    seconds["check"] = time.perf_counter() - t3
    seconds["total"] = time.perf_counter() - t0
    return CurateResult(out=out, recipe=recipe, reconciliation=recon, operations=plan.summaries, before=before,
                        after=after, report=report, files=files, seconds=seconds)


#: characters of text shown per dropped document in the report and the summary
PREVIEW_CHARS = 160
#: dropped documents shown per op
EXAMPLES_PER_OP = 5


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


def _config_json(cfg: CurateConfig) -> dict[str, Any]:
    d = flat_dict(cfg)
    if d.get("probes"):
        d["probes"] = os.path.basename(str(d["probes"]))
    return d
