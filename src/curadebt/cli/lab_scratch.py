"""``curadebt lab inertia | salience | curate-vs-correct | lock-in | depth | cost``: experiments on tiny models trained
from scratch on a synthetic world whose fact frequencies are set exactly (registered on the lab app
by :func:`register`)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from curadebt.cli.kit import config_options
from curadebt.lab.cost import CostConfig
from curadebt.lab.curate_vs_correct import CvcConfig
from curadebt.lab.depth import DepthConfig
from curadebt.lab.inertia import InertiaConfig
from curadebt.lab.lockin import LockinConfig
from curadebt.lab.salience import SalienceConfig
from curadebt.report.console import console, err



def _seeds(cfg, n: int | None):
    """``--seeds N`` means seeds 0..N-1 (a config file may list them instead)."""
    if n is None:
        return cfg
    if n < 1:
        raise typer.BadParameter("--seeds must be >= 1")
    return replace(cfg, seeds=tuple(range(n)))


def _checked(cfg):
    from curadebt.lab.scratch import ScratchError
    from curadebt.worlds.facts import WorldError

    try:
        return cfg.validate()
    except (ValueError, WorldError, ScratchError) as e:
        raise typer.BadParameter(str(e))


SEEDS_HELP = "Number of seeds (0..n-1; default: the config's, 5); each seed is a new world, tokenizer and model."


def _setup(threads: int) -> None:
    from curadebt.lab.scratch import set_threads

    set_threads(threads)


def _logger(quiet: bool):
    return (lambda m: None) if quiet else (lambda m: console.log(m))


@config_options(InertiaConfig, skip=("seeds", "size", "seed"),
                flags={"lr": "--pretrain-lr", "save_checkpoints": "--checkpoints/--no-checkpoints"})
def inertia(
    seeds: Optional[int] = typer.Option(None, help=SEEDS_HELP),
    out: Path = typer.Option(Path("lab-out/inertia"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(1, help="torch threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    *,
    config: InertiaConfig,
):
    """Pretrain tiny GPTs from scratch, then correct facts with counter-examples: r50 against exposure, gamma with CI.

    Example: curadebt lab inertia --seeds 5 --out lab-out/inertia (every option can also come from --config FILE)
    """
    from curadebt.lab.inertia import EXPERIMENT

    _setup(threads)
    cfg = _seeds(config, seeds)
    if cfg.rebound_depth == 0:
        cfg = replace(cfg, rebound_depth=None)
    _finish(EXPERIMENT, _checked(cfg), out, quiet)


def _finish(experiment, cfg, out: Path, quiet: bool) -> None:
    """Run an experiment and write its files (:class:`curadebt.lab.experiment.Experiment`)."""
    result = experiment(cfg, out, _logger(quiet))
    paths = experiment.write(result, out)
    console.print(paths["markdown"].read_text(encoding="utf-8"))
    t = result["timing"]
    console.print(f"wrote {out}/" + ", ".join(p.name for k, p in paths.items() if k != "timing")
                  + f" ({t.get('wall_seconds', 0):.0f} s wall, {t['cpu_seconds']:.0f} s CPU)")


@config_options(SalienceConfig, skip=("seeds", "seed", "tom_m"))
def salience(
    seeds: Optional[int] = typer.Option(None, help=SEEDS_HELP),
    out: Path = typer.Option(Path("lab-out/salience"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(1, help="torch threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    *,
    config: SalienceConfig,
):
    """Train tiny GPTs on worlds where Tom Cruise is m x over-represented; P(Tom), P(Cruise|other Tom), entropy, KL.

    Example: curadebt lab salience --ms 1,10,100 --seeds 5
    """
    from curadebt.lab.salience import EXPERIMENT

    _setup(threads)
    _finish(EXPERIMENT, _checked(_seeds(config, seeds)), out, quiet)


@config_options(CvcConfig, skip=("seeds", "seed"))
def curate_vs_correct(
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (0..n-1; default: the config's, 3); each seed is "
                                                   "a new world, tokenizer and initialisation, shared by its arms."),
    out: Path = typer.Option(Path("lab-out/curate-vs-correct"), "--out", "-o",
                             help="Output folder (partial/ keeps each finished job; a rerun reuses them)."),
    threads: int = typer.Option(1, help="torch threads (with --workers 1)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    *,
    config: CvcConfig,
):
    """Curate first or fix later? Arms trained from scratch at matched steps on a Zipf fact world, scored per fact
    on held-out phrasings by raw exposure (head / torso / tail), paired with raw.

    Example: curadebt lab curate-vs-correct --seeds 5 --workers 2 --arms raw,uniform,curate-default,raw+fix
    """
    from curadebt.lab.curate_vs_correct import EXPERIMENT

    _setup(threads)
    _finish(EXPERIMENT, _checked(_seeds(config, seeds)), out, quiet)


@config_options(LockinConfig, skip=("seeds", "seed"))
def lock_in(
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (0..n-1; default: the config's, 5); each seed is "
                                                   "a new world, tokenizer and initialisation, shared by its schedules."),
    out: Path = typer.Option(Path("lab-out/lock-in"), "--out", "-o",
                             help="Output folder (partial/ keeps each finished job; a rerun reuses them)."),
    threads: int = typer.Option(1, help="torch threads (with --workers 1)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    *,
    config: LockinConfig,
):
    """Lock-in: each fact stated with answer A n times early and answer B n times late (one pass); which wins,
    under constant, cosine and warmup-stable-decay learning rates? Log odds A:B against a never-seen name's.

    Example: curadebt lab lock-in --seeds 5 --workers 2
    """
    from curadebt.lab.lockin import EXPERIMENT

    _setup(threads)
    _finish(EXPERIMENT, _checked(_seeds(config, seeds)), out, quiet)


@config_options(DepthConfig, skip=("seeds",))
def depth(
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (0..n-1; default: the config's, 3); each seed is "
                                                   "a new set of people, tokenizer and model."),
    out: Path = typer.Option(Path("lab-out/depth"), "--out", "-o",
                             help="Output folder (partial/ keeps each finished seed; a rerun reuses them)."),
    threads: int = typer.Option(1, help="torch threads (with --workers 1)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    *,
    config: DepthConfig,
):
    """Depth without recency: pretrain once on real text, branch at several tokens per parameter, give every
    branch the same fact injection and decay, then the same correction: r50, collateral loss, weight-noise
    sensitivity per branch.

    Example: curadebt lab depth --seeds 3 --workers 2
    """
    from curadebt.lab.depth import EXPERIMENT

    _setup(threads)
    _finish(EXPERIMENT, _checked(_seeds(config, seeds)), out, quiet)


@config_options(CostConfig)
def cost(
    inertia_json: Path = typer.Option(Path("lab-out/inertia/inertia.json"), "--inertia",
                                      help="inertia.json from `curadebt lab inertia`."),
    cvc_json: Optional[Path] = typer.Option(None, "--cvc", help="curate_vs_correct.json (optional: accuracy per arm)."),
    out: Path = typer.Option(Path("lab-out/cost"), "--out", "-o", help="Output folder."),
    *,
    config: CostConfig,
):
    """Estimate the compute to correct facts by fine-tuning (measured inertia law) vs retraining on a fixed corpus.

    Example: curadebt lab cost --inertia lab-out/inertia/inertia.json --exposures 1024x10,64x100
    """
    from curadebt.lab import cost as C
    from curadebt.lab.io import atomic_write, write_json

    try:
        est = config.estimate(C.load(inertia_json), C.load(cvc_json) if cvc_json else None)
    except FileNotFoundError as e:
        err.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(2)
    except (ValueError, KeyError) as e:
        raise typer.BadParameter(str(e))
    md = C.markdown(est)
    write_json(out / "cost.json", est)
    atomic_write(out / "cost.md", md)
    console.print(md)
    console.print(f"wrote {out}/cost.json, cost.md")


def register(app: typer.Typer) -> None:
    """Add the from-scratch commands to the ``lab`` Typer app."""
    app.command("inertia")(inertia)
    app.command("salience")(salience)
    app.command("curate-vs-correct")(curate_vs_correct)
    app.command("lock-in")(lock_in)
    app.command("depth")(depth)
    app.command("cost")(cost)
