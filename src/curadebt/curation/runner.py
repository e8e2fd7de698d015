"""``curate()``: pay the debt down. Decide in one pass, apply in a second, audit the result (the four
stages, each returning a typed result, are in :mod:`curadebt.curation.stages`).

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

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curadebt import engine
from curadebt.core.config import flat_dict, replace as config_replace
from curadebt.core.memory import release_free_memory
from curadebt.corpus.outdir import staged_output
from curadebt.curation import stages
from curadebt.curation.config import CurateConfig
from curadebt.curation.ledger import LEDGER_FILE
from curadebt.curation.plan import OpSummary
from curadebt.curation.recipe import Recipe, default_recipe, load_recipe
from curadebt.curation.report import curate_html, curate_section
from curadebt.measures.runner import WORKER_PRELOAD, ReconciliationError, input_paths, still_drawn

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
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    acfg = cfg.audit_config(recipe)
    looked = None
    try:
        # one set of workers for every pass and task
        with engine.get(acfg).session(preload=WORKER_PRELOAD) as session:
            looked = stages.look(paths, out, acfg, progress, session)
            seconds["look"] = time.perf_counter() - t0
            _pause("looked")
            t = time.perf_counter()
            decided = stages.decide(looked, recipe, paths, progress)
            release_free_memory()
            seconds["decide"] = time.perf_counter() - t
            _pause("decided")
            t = time.perf_counter()
            applied = stages.apply(paths, out, looked, decided, recipe, checkpoint=_pause, session=session)
            seconds["apply"] = time.perf_counter() - t
            looked.release()
            decided.release()
            release_free_memory()
            _pause("applied")
            t = time.perf_counter()
            checked = stages.check(out, looked, decided, applied, progress, session)
        looked.finish()
    finally:  # the page is drawn into ``out``: it is done before anyone removes or commits ``out``
        if looked is not None:
            with contextlib.suppress(Exception):
                looked.finish()
    _pause("checked")
    report = _write_report(out, recipe, cfg, looked, decided, applied, checked)
    _pause("reported")
    seconds["check"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return CurateResult(out=out, recipe=recipe, reconciliation=checked.reconciliation,
                        operations=decided.plan.summaries, before=looked.before, after=checked.after, report=report,
                        files=_files(decided, recipe), seconds=seconds)


def _files(decided: stages.Decided, recipe: Recipe) -> dict[str, Any]:
    return {"shards": decided.shards.names, "ledger": LEDGER_FILE, "report": "report.json", "html": "report.html",
            "before": "before/report.json", "quarantine": "before/quarantine.jsonl",
            "manifest": "manifest.json", "format": recipe.output.format}


def _write_report(out: Path, recipe: Recipe, cfg: CurateConfig, looked: stages.Looked, decided: stages.Decided,
                  applied: stages.Applied, checked: stages.Checked) -> dict[str, Any]:
    """report.json (the output's audit plus the ``curate`` section) and report.html."""
    from curadebt.core.atomic import write_json_atomic, write_text_atomic
    from curadebt.measures.registry import render_report

    section = curate_section(looked.before, checked.after, recipe.to_json(), _config_json(cfg),
                             checked.reconciliation, decided.plan.summaries, _files(decided, recipe))
    section["dropped_examples"] = [{k: v for k, v in e.items() if k != "ordinal"} for e in applied.examples]
    report = dict(checked.after)
    report["curate"] = section
    write_json_atomic(out / "report.json", report)
    write_text_atomic(out / "report.html", render_report(
        report, title="curadebt curate: the curated corpus", skip=("curate",),
        extra_sections=[("Curation: before \u2192 after", curate_html(section))],
        drawn=still_drawn(report, checked.drawn)))
    return report


def _config_json(cfg: CurateConfig) -> dict[str, Any]:
    d = flat_dict(cfg)
    if d.get("probes"):
        d["probes"] = os.path.basename(str(d["probes"]))
    return d
