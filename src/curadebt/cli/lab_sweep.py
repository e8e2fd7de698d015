"""``curadebt lab overwrite-sweep``: the overwrite ratio against learning rate, steps and locality
replay on a real pretrained model (registered on the lab app by :func:`register`)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from curadebt.cli.kit import config_options
from curadebt.lab.overwrite_sweep import SweepConfig
from curadebt.report.console import console, err


@config_options(SweepConfig, skip=("seeds",))
def overwrite_sweep(
    model: str = typer.Option("smollm2-135m", "--model", "-m",
                              help="smollm2-135m | gemma3-270m (offline) | a .gguf file | a HF model folder."),
    subject: Optional[str] = typer.Option(None, help="Built-in capital fact: the country (e.g. France)."),
    old: Optional[str] = typer.Option(None, help="The answer the model knows (default: from the countries table)."),
    new: Optional[str] = typer.Option(None, help="The counterfactual answer (e.g. Barcelona)."),
    counterfact: Optional[str] = typer.Option(
        None, help="CounterFact records instead: an EasyEdit JSON file, or 'default' (../shared/data)."),
    n_facts: int = typer.Option(50, "--n-facts", help="CounterFact: usable records edited at once (file order)."),
    n_replay: int = typer.Option(32, "--n-replay", help="Unrelated facts the locality replay draws from."),
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (0..n-1; default: the config's, 3)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default lab-out/overwrite-sweep-MODEL-FACT)."),
    threads: Optional[int] = typer.Option(None, help="torch threads (default: torch's choice)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-trajectory progress lines."),
    *,
    config: SweepConfig,
):
    """Sweep learning rate x steps x locality replay at 1:1 and 4:1: for which budgets is "1:1 a coin
    flip" and does "4:1 leave the old answer"? One constant-rate trajectory per (rate, replay, ratio,
    seed), scored at every --steps checkpoint; partial results in OUT/partial (a rerun resumes).

    Example: curadebt lab overwrite-sweep --subject France --new Barcelona --seeds 10 --lrs 1e-6,3e-6,1e-5,3e-5
    """
    from curadebt.cli.lab import _overwrite_facts, _slug
    from curadebt.lab.facts import capital_replay_facts, load_counterfact, unrelated_facts
    from curadebt.lab.models import ModelNotAvailable, load_model, resolve_model
    from curadebt.lab.overwrite_sweep import EXPERIMENT, SweepJob

    cfg = replace(config, seeds=tuple(range(seeds))) if seeds is not None else config
    if seeds is not None and seeds < 1:
        raise typer.BadParameter("--seeds must be >= 1")
    facts, _, tag = _overwrite_facts(subject, old, new, counterfact, n_facts, 0)
    if counterfact:
        path = None if counterfact == "default" else counterfact
        first = load_counterfact(path, limit=n_facts)
        more = load_counterfact(path, limit=n_replay * 4, offset=first.next_offset)
        replay = unrelated_facts(facts, more.facts, n_replay)
    else:
        replay = capital_replay_facts(facts[0], n_replay)
    out_dir = out or Path("lab-out") / f"overwrite-sweep-{_slug(Path(model).name)}-{_slug(tag)}"
    try:
        with console.status(f"loading {model} ..."):
            lm = load_model(resolve_model(model), threads=threads)
    except ModelNotAvailable as e:
        err.print(f"[red]model not available:[/red] {escape(str(e))}")
        raise typer.Exit(2)
    n = len(cfg.lrs) * len(cfg.replay) * len(cfg.ratios) * len(cfg.seeds)
    console.print(f"{lm.name}: {len(facts)} fact(s), {len(replay)} replay facts; {n} trajectories of "
                  f"{max(cfg.steps)} steps, scored at steps {', '.join(map(str, cfg.steps))}")
    label = f"{facts[0].subject}: {facts[0].old} -> {facts[0].new}" if len(facts) == 1 else f"{len(facts)} CounterFact records"
    job = SweepJob(lm, facts, replay, cfg, label=label)
    result = EXPERIMENT(job, out_dir, (lambda m: None) if quiet else (lambda m: console.log(m)))
    paths = EXPERIMENT.write(result, out_dir)
    console.print(EXPERIMENT.markdown(result))
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))


def register(app: typer.Typer) -> None:
    app.command("overwrite-sweep")(overwrite_sweep)
