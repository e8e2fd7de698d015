"""``curadebt lab ...``: measure curation debt on real models (mounted by curadebt.cli as ``lab``)."""
from __future__ import annotations

import json
import re
from dataclasses import replace
import time
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from curadebt.cli.kit import config_options
from curadebt.lab.overwrite import OverwriteConfig

from curadebt.report.console import console, err

lab_app = typer.Typer(
    name="lab",
    help="Measure curation debt on real models (fact overwrite dose-response, ...).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@lab_app.callback()
def _lab():
    """Measure curation debt on real models."""


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "x"


@lab_app.command("overwrite")
@config_options(OverwriteConfig, skip=("seeds",))
def overwrite(
    model: str = typer.Option("smollm2-135m", "--model", "-m",
                              help="smollm2-135m | gemma3-270m (offline) | a .gguf file | a HF model folder | a hub id."),
    subject: Optional[str] = typer.Option(None, help="Built-in capital fact: the country (e.g. France)."),
    old: Optional[str] = typer.Option(None, help="The answer the model knows (default: the capital from the countries table)."),
    new: Optional[str] = typer.Option(None, help="The counterfactual answer to write in (e.g. Barcelona)."),
    counterfact: Optional[str] = typer.Option(
        None, help="CounterFact records instead of a built-in fact: an EasyEdit JSON file, or 'default' for "
                   "../shared/data/counterfact/counterfact-edit.json."),
    n_facts: int = typer.Option(50, "--n-facts", help="CounterFact: number of usable records (file order)."),
    offset: int = typer.Option(0, help="CounterFact: skip this many records first."),
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (0..n-1; default: the config's, 3)."),
    probes_report: Optional[Path] = typer.Option(None, "--probes-report",
                                                 help="An audit report.json: show its data-side odds next to the model's prior."),
    corpus: Optional[list[Path]] = typer.Option(
        None, "--corpus", help="The corpus the model was trained on (JSONL/Parquet/text, repeatable): count the "
                               "data-side odds of old vs new in it and show them next to the model's prior."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default lab-out/overwrite-MODEL-FACT)."),
    threads: Optional[int] = typer.Option(None, help="torch threads (default: torch's choice)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write overwrite.png / overwrite.svg."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-run progress lines."),
    *,
    config: OverwriteConfig,
):
    """Fine-tune on r:1 new:old statements of a fact and measure how far the old answer gives way.

    Example: curadebt lab overwrite --model smollm2-135m --subject France --old Paris --new Barcelona
    """
    from curadebt.lab.models import ModelNotAvailable, load_model, resolve_model
    from curadebt.lab.overwrite import EXPERIMENT, OverwriteJob
    from curadebt.lab import results as R

    cfg = _checked_overwrite(config, seeds)
    facts, skipped, tag = _overwrite_facts(subject, old, new, counterfact, n_facts, offset)
    report = _read_json_report(probes_report) if probes_report else None
    missing = [str(p) for p in corpus or [] if not p.exists()]
    if missing:
        err.print(f"[red]--corpus: no such file or folder: {escape(', '.join(missing))}[/red]")
        raise typer.Exit(2)
    out_dir = out or Path("lab-out") / f"overwrite-{_slug(model if len(model) < 40 else Path(model).name)}-{_slug(tag)}"

    t0 = time.perf_counter()
    try:
        with console.status(f"loading {model} ..."):
            lm = load_model(resolve_model(model), threads=threads)
    except ModelNotAvailable as e:
        err.print(f"[red]model not available:[/red] {escape(str(e))}")
        raise typer.Exit(2)
    n_groups = -(-len(facts) // (cfg.edit_batch or len(facts)))
    console.print(f"loaded {lm.name} ({lm.n_params() / 1e6:.0f}M parameters) in {lm.load_seconds:.0f} s; "
                  f"{len(facts)} fact(s), {len(cfg.ratios)} ratios x {len(cfg.seeds)} seeds x {n_groups} group(s) = "
                  f"{len(cfg.ratios) * len(cfg.seeds) * n_groups} fine-tuning runs of {cfg.steps} steps")
    job = OverwriteJob(lm, facts, cfg, skipped)
    result = EXPERIMENT(job, out_dir, None if quiet else (lambda msg: console.log(msg)))
    _attach_data_odds(result, facts, corpus, report, probes_report)
    result.timing["wall_seconds"] = time.perf_counter() - t0  # with the model's loading
    paths = EXPERIMENT.write(result, out_dir, plot=plot, audit_report=report)
    console.print(R.rich_table(result))
    for line in R.summary_lines(result):
        console.print(line)
    if result.probes:
        console.print(R.rich_probes_table(result))
    if skipped:
        console.print(f"{len(skipped)} record(s) skipped (reasons in overwrite.json)")
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))


def _checked_overwrite(cfg, seeds: int | None):
    """The protocol's settings checked: ``--seeds N`` as seeds 0..N-1, ratios sorted and distinct."""
    if cfg.ci not in ("t", "bootstrap"):
        raise typer.BadParameter("--ci must be 't' or 'bootstrap'")
    if (seeds is not None and seeds < 1) or cfg.steps < 1 or cfg.batch_size < 1:
        raise typer.BadParameter("--seeds, --steps and --batch-size must be >= 1")
    if not cfg.ratios or any(r <= 0 for r in cfg.ratios):
        raise typer.BadParameter("ratios must be > 0")
    return replace(cfg, ratios=tuple(sorted(set(cfg.ratios))),
                   seeds=tuple(range(seeds)) if seeds is not None else cfg.seeds)


def _overwrite_facts(subject, old, new, counterfact, n_facts: int, offset: int) -> tuple[list, list[dict], str]:
    """The facts to overwrite (a built-in capital fact, or CounterFact records), the skipped
    records, and a tag for the output folder's name."""
    from curadebt.lab.facts import capital_fact, load_counterfact

    if counterfact:
        if subject or new:
            raise typer.BadParameter("use either --counterfact or --subject/--new, not both")
        try:
            load = load_counterfact(None if counterfact == "default" else counterfact, limit=n_facts, offset=offset)
        except FileNotFoundError as e:
            err.print(f"[red]{escape(str(e))}[/red]")
            raise typer.Exit(2)
        if not load.facts:
            err.print("[red]no usable CounterFact records[/red]")
            raise typer.Exit(2)
        return load.facts, load.skipped, f"counterfact{len(load.facts)}"
    if not subject or not new:
        raise typer.BadParameter("give --subject and --new (and optionally --old), or --counterfact")
    try:
        return [capital_fact(subject, new=new, old=old)], [], f"{subject}-{new}"
    except ValueError as e:
        raise typer.BadParameter(str(e))


def _read_json_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        err.print(f"[red]cannot read --probes-report {escape(str(path))}: {escape(str(e))}[/red]")
        raise typer.Exit(2)


def _attach_data_odds(result, facts, corpus, report, probes_report) -> None:
    """The data-side odds of old vs new (from --corpus, or an audit's --probes-report) on the result."""
    from curadebt.lab.overwrite_odds import corpus_probes_report, probe_odds

    odds_source = str(probes_report) if probes_report else None
    if corpus:
        with console.status("counting the data-side odds in the corpus ..."):
            corpus_report = corpus_probes_report(corpus, facts)
        result.probes = probe_odds(corpus_report, result)
        odds_source = "the corpus"
    elif report is not None:
        result.probes = probe_odds(report, result)
    if odds_source and not result.probes:
        err.print(f"[yellow]no probe in {odds_source} has both answers "
                  f"({escape(repr(facts[0].old))}, {escape(repr(facts[0].new))}) for a matching subject[/yellow]")


from curadebt.cli.lab_scratch import register as _register_scratch  # noqa: E402  (lab-scratch commands)

_register_scratch(lab_app)

from curadebt.cli.lab_sweep import register as _register_sweep  # noqa: E402  (overwrite-sweep)

_register_sweep(lab_app)
