"""The ``curadebt curate`` and ``curadebt explain`` commands (plain Typer command functions; the
main app mounts them). Every command is a thin call into :mod:`curadebt.curation.runner`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curadebt.cli.kit import config_options, data
from curadebt.curation.flags import RecipeFlags
from curadebt.curation.config import CurateConfig
from curadebt.report.console import console, err
from curadebt.core.errors import EXIT_CHECK_FAILED


@config_options(CurateConfig, RecipeFlags)
def curate(
    corpus: list[str] = typer.Argument(..., help="JSONL (.gz/.zst), JSON arrays, CSV/TSV, Parquet, Arrow or text files, folders of them, saved HF datasets (DatasetDict too), or quoted globs."),
    out: Path = typer.Option(Path("curated"), "--out", "-o", help="Folder for data/ shards, ledger.parquet, report.json/html and before/."),
    recipe: Optional[Path] = typer.Option(None, help="Recipe YAML/JSON (default: the built-in recipe; see --print-recipe and docs/curate.md). The flags below change it."),
    print_recipe: bool = typer.Option(False, "--print-recipe", help="Print the effective recipe (recipe + flags) as JSON and exit."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out that curadebt did not write "
                                                      "(its files are kept, never deleted or overwritten)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    *,
    configs: tuple,
):
    """Pay the debt down: dedup, caps, rebalancing, fact balancing and diversity-first order.

    Decides in one pass over the corpus (with the input audit), applies the decisions in a second
    pass, audits the result and writes: data/ (the curated corpus), ledger.parquet (one decision per
    input record; see `curadebt explain`), report.json + report.html (before -> after) and
    manifest.json. Checks read = kept + dropped + quarantined. The input is never written: --out may
    not overlap it, and the folder changes in one step at the end (a killed run leaves it as it was).
    Same arguments, same bytes.

    Without --recipe the default recipe runs (curation/default_recipe.yaml): exact and near dedup
    always; mixture, entity caps and fact balancing only where the input audit flags that debt;
    diversity-first order always. Flags change that recipe; every option can also come from a
    --config YAML file. Exit codes: see `curadebt --help`. Reference: docs/curate.md.
    """
    import json

    from curadebt.curation.recipe import default_recipe, load_recipe
    from curadebt.curation.runner import curate as run_curate
    from curadebt.inputs import path_inputs

    cfg, flags = configs
    rec = flags.apply(load_recipe(recipe) if recipe else default_recipe())
    if print_recipe:
        console.print_json(json.dumps(rec.to_json()))
        raise typer.Exit()
    with path_inputs(list(corpus)) as inputs:  # remote URLs are copied for the run
        result = run_curate(inputs, out, rec, cfg, progress=not quiet, force=force)
    r = result.reconciliation
    if quiet:
        console.print(f"read {r['read']} = kept {r['kept']} + dropped {r['dropped']} + quarantined {r['quarantined']}",
                      highlight=False)
    else:
        from curadebt.report.summary import print_curate_summary

        print_curate_summary(result)


def explain(
    doc_id: str = typer.Argument(..., help="Document id (input id; an output id '<id>#<k>' works too)."),
    ledger: Path = typer.Option(Path("curated/ledger.parquet"), "--ledger", "-l", help="ledger.parquet, or the curate output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the ledger row(s) as JSON."),
):
    """Print one document's history from a curate ledger (kept x k or dropped, by which op and why).

    Shows every op that touched the document, the document it duplicates, its cluster, and where
    its copies went in the output (shard:line)."""
    import json

    from curadebt.curation.ledger import LedgerLookupError, explain_text, lookup

    try:
        rows = lookup(ledger, doc_id)
    except LedgerLookupError:
        err.print(f"[red]not in the ledger:[/] {data(repr(doc_id))} ({data(ledger)})")
        raise typer.Exit(EXIT_CHECK_FAILED)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(explain_text(rows))
