"""``curadebt decontaminate``: which training documents hold text of an evaluation set."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curadebt.cli.kit import config_options, data
from curadebt.corpus.records import ReaderConfig
from curadebt.report.console import console
from curadebt.trace.decontam import DecontamConfig


@config_options(ReaderConfig, DecontamConfig)
def decontaminate(
    corpus: list[str] = typer.Argument(..., help="The training corpus: JSONL (.gz/.zst), JSON, CSV/TSV, Parquet, Arrow or text files, folders, saved HF datasets, or quoted globs."),
    eval_sets: list[Path] = typer.Option(..., "--eval", "-e", help="An evaluation set (JSONL, JSON, CSV, TSV, Parquet or a saved datasets folder); repeatable."),
    out: Path = typer.Option(Path("decontaminated"), "--out", "-o", help="Folder for report.json, report.html, contaminated.jsonl (and index/ when it is built)."),
    index: Optional[Path] = typer.Option(None, "--index", "-i", help="An index of the corpus (`curadebt index build`); default: build one into OUT/index."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out that curadebt did not write (its files are kept)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    *,
    configs: tuple,
):
    """Find the evaluation items whose text occurs in the training corpus (n-gram overlap, 13 tokens by default).

    Every item (its question, prompt, context and answer fields joined) is checked against the
    corpus's suffix-array index; a run of --n tokens in common is an overlap. Writes report.json and
    report.html (per evaluation set: items checked, contaminated, their spans and documents) and
    contaminated.jsonl, which the curate op `decontaminate` reads to drop those documents:
    `curadebt curate CORPUS --recipe r.yaml` with `- decontaminate: {documents: OUT/contaminated.jsonl}`.
    """
    from curadebt.inputs import path_inputs
    from curadebt.trace.decontam import run_decontaminate

    reader, cfg = configs
    with path_inputs(list(corpus)) as inputs:
        result = run_decontaminate(inputs, list(eval_sets), out, cfg, reader=reader, index=index, force=force,
                                   progress=not quiet)
    for rep in result.reports:
        console.print(f"{data(rep.name)}: {rep.contaminated:,} of {rep.checked:,} items contaminated "
                      f"({rep.share:.1%}; {rep.too_short:,} too short to check)", highlight=False)
    console.print(f"{len(result.documents):,} training documents hold evaluation text; wrote {data(out)}/report.json, "
                  f"report.html, contaminated.jsonl", highlight=False)
