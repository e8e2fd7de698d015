"""``curadebt lab inertia | salience | curate-vs-correct | cost``: experiments on tiny models trained
from scratch on a synthetic world whose fact frequencies are set exactly (registered on the lab app
by :func:`register`)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from curadebt.report.console import console, err



def _numbers(text: str, what: str, kind: type, kind_name: str) -> tuple:
    try:
        vals = tuple(kind(x) for x in _words(text))
    except ValueError:
        raise typer.BadParameter(f"{what} must be {kind_name} separated by commas, got {text!r}")
    if not vals:
        raise typer.BadParameter(f"{what}: give at least one value")
    return vals


def _ints(text: str, what: str) -> tuple[int, ...]:
    return _numbers(text, what, int, "integers")


def _floats(text: str, what: str) -> tuple[float, ...]:
    return _numbers(text, what, float, "numbers")


def _words(text: str) -> tuple[str, ...]:
    return tuple(x for x in re.split(r"[,\s]+", text.strip()) if x)


def _seeds(n: int) -> tuple[int, ...]:
    if n < 1:
        raise typer.BadParameter("--seeds must be >= 1")
    return tuple(range(n))


def _setup(threads: int) -> None:
    from curadebt.lab.scratch import set_threads

    set_threads(threads)


def _logger(quiet: bool):
    return (lambda m: None) if quiet else (lambda m: console.log(m))


def inertia(
    seeds: int = typer.Option(5, help="Number of seeds (0..n-1); each seed is a new world, tokenizer and model."),
    sizes: str = typer.Option("s", help="Model sizes, comma-separated: xs (~0.1M), s (~0.2M), m (~1M parameters)."),
    tiers: str = typer.Option("1,4,16,64,256,1024", help="Exposure tiers (documents stating a fact)."),
    facts_per_tier: int = typer.Option(4, "--facts-per-tier", help="Facts per tier."),
    placements: str = typer.Option("spread", help="Where a fact's documents go in training order: early, late, "
                                                  "spread (cycled over the facts of a tier)."),
    filler_docs: int = typer.Option(8000, "--filler-docs", help="Filler documents in the world."),
    depths: str = typer.Option("0.25,0.5,1", help="Correct from checkpoints at these fractions of the epoch."),
    max_counter: int = typer.Option(64, "--max-counter", help="Most counter-examples per fact."),
    ce_per_step: int = typer.Option(1, "--ce-per-step", help="Counter-examples per fact in one optimiser step."),
    lr: float = typer.Option(1e-4, "--correction-lr", help="AdamW learning rate of the correction."),
    pretrain_lr: float = typer.Option(3e-3, "--pretrain-lr", help="AdamW learning rate of pretraining."),
    batch_size: int = typer.Option(16, "--batch-size", help="Pretraining rows per step."),
    rebound_depth: float = typer.Option(0.5, "--rebound-depth",
                                        help="Depth whose correction is followed by the rest of pretraining "
                                             "(rebound); 0 to skip."),
    out: Path = typer.Option(Path("lab-out/inertia"), "--out", "-o", help="Output folder."),
    checkpoints: bool = typer.Option(True, "--checkpoints/--no-checkpoints", help="Save model checkpoints."),
    threads: int = typer.Option(1, help="torch threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Pretrain tiny GPTs from scratch, then correct facts with counter-examples: r50 against exposure, gamma with CI.

    Example: curadebt lab inertia --seeds 5 --out lab-out/inertia
    """
    from curadebt.lab.inertia import EXPERIMENT, InertiaConfig
    from curadebt.lab.scratch import ScratchError, TrainConfig
    from curadebt.worlds.facts import WorldConfig, WorldError

    _setup(threads)
    try:
        cfg = InertiaConfig(
            seeds=_seeds(seeds), sizes=_words(sizes), depths=_floats(depths, "--depths"), max_counter=max_counter,
            ce_per_step=ce_per_step, correction_lr=lr, rebound_depth=rebound_depth or None,
            world=WorldConfig(tiers=_ints(tiers, "--tiers"), facts_per_tier=facts_per_tier,
                              placements=_words(placements), filler_docs=filler_docs),
            train=TrainConfig(batch_size=batch_size, lr=pretrain_lr), save_checkpoints=checkpoints).validate()
    except (ValueError, WorldError, ScratchError) as e:
        raise typer.BadParameter(str(e))
    _finish(EXPERIMENT, cfg, out, quiet)


def _finish(experiment, cfg, out: Path, quiet: bool) -> None:
    """Run an experiment and write its files (:class:`curadebt.lab.experiment.Experiment`)."""
    result = experiment(cfg, out, _logger(quiet))
    paths = experiment.write(result, out)
    console.print(paths["markdown"].read_text(encoding="utf-8"))
    t = result["timing"]
    console.print(f"wrote {out}/" + ", ".join(p.name for k, p in paths.items() if k != "timing")
                  + f" ({t.get('wall_seconds', 0):.0f} s wall, {t['cpu_seconds']:.0f} s CPU)")


def salience(
    seeds: int = typer.Option(5, help="Number of seeds (0..n-1)."),
    ms: str = typer.Option("1,10,100", help="Over-representation factors of Tom Cruise (must include 1)."),
    size: str = typer.Option("s", help="Model size: xs, s or m."),
    filler_docs: int = typer.Option(4000, "--filler-docs", help="Filler documents in each world."),
    docs_per_person: int = typer.Option(6, "--docs-per-person", help="Documents per (non-star) person."),
    people_per_first: int = typer.Option(5, "--people-per-first", help="People per first name (Tom X for X ...)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Rows per step."),
    out: Path = typer.Option(Path("lab-out/salience"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(1, help="torch threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Train tiny GPTs on worlds where Tom Cruise is m x over-represented; P(Tom), P(Cruise|other Tom), entropy, KL.

    Example: curadebt lab salience --ms 1,10,100 --seeds 5
    """
    from curadebt.lab.salience import EXPERIMENT, SalienceConfig
    from curadebt.lab.scratch import ScratchError, TrainConfig
    from curadebt.worlds.facts import WorldConfig, WorldError

    _setup(threads)
    try:
        cfg = SalienceConfig(seeds=_seeds(seeds), ms=_ints(ms, "--ms"),
                             world=WorldConfig(tiers=(), facts_per_tier=0, filler_docs=filler_docs,
                                               people_per_first=people_per_first, docs_per_person=docs_per_person),
                             train=TrainConfig(size=size, batch_size=batch_size)).validate()
    except (ValueError, WorldError, ScratchError) as e:
        raise typer.BadParameter(str(e))
    _finish(EXPERIMENT, cfg, out, quiet)



def curate_vs_correct(
    seeds: int = typer.Option(5, help="Number of seeds (0..n-1)."),
    fractions: str = typer.Option("0.25,0.5,0.75,1", help="Checkpoints (fractions of the raw epoch) on each curve."),
    size: str = typer.Option("s", help="Model size: xs, s or m."),
    filler_docs: int = typer.Option(4000, "--filler-docs", help="Filler documents in each world."),
    fix_statements: int = typer.Option(16, "--fix-statements", help="True statements per wrong fact in the fix."),
    fix_lr: float = typer.Option(1e-3, "--fix-lr", help="AdamW learning rate of the fix."),
    batch_size: int = typer.Option(16, "--batch-size", help="Rows per step."),
    out: Path = typer.Option(Path("lab-out/curate-vs-correct"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(1, help="torch threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Raw corpus vs curated corpus (curadebt curate, default recipe) vs raw + fine-tuned fix, at matched compute.

    Example: curadebt lab curate-vs-correct --seeds 5
    """
    from curadebt.lab.curate_vs_correct import EXPERIMENT, CvcConfig
    from curadebt.lab.scratch import ScratchError, TrainConfig
    from curadebt.worlds.facts import WorldConfig, WorldError

    _setup(threads)
    try:
        cfg = CvcConfig(seeds=_seeds(seeds), fractions=_floats(fractions, "--fractions"), fix_statements=fix_statements,
                        fix_lr=fix_lr, world=WorldConfig(filler_docs=filler_docs, placements=("spread",)),
                        train=TrainConfig(size=size, batch_size=batch_size)).validate()
    except (ValueError, WorldError, ScratchError) as e:
        raise typer.BadParameter(str(e))
    _finish(EXPERIMENT, cfg, out, quiet)



def cost(
    inertia_json: Path = typer.Option(Path("lab-out/inertia/inertia.json"), "--inertia",
                                      help="inertia.json from `curadebt lab inertia`."),
    cvc_json: Optional[Path] = typer.Option(None, "--cvc", help="curate_vs_correct.json (optional: accuracy per arm)."),
    exposures: str = typer.Option("1024x4,256x4,64x4", help="Facts to correct: EXPOSURE or EXPOSURExCOUNT, comma-separated."),
    n_params: Optional[int] = typer.Option(None, "--n-params", help="N for 6ND (default: the inertia model's non-embedding parameters)."),
    corpus_tokens: Optional[int] = typer.Option(None, "--corpus-tokens", help="Tokens of one retrain (default: the inertia corpus)."),
    tokens_per_counter: float = typer.Option(12.0, "--tokens-per-counter", help="Tokens per counter-example."),
    replay: float = typer.Option(0.0, help="Replayed generic tokens per counter-example token."),
    depth: float = typer.Option(1.0, help="Which inertia depth's fits to use."),
    prompts: str = typer.Option("train", help="Which efficacy the fits used: train or heldout."),
    out: Path = typer.Option(Path("lab-out/cost"), "--out", "-o", help="Output folder."),
):
    """Estimate the compute to correct facts by fine-tuning (measured inertia law) vs retraining on a fixed corpus.

    Example: curadebt lab cost --inertia lab-out/inertia/inertia.json --exposures 1024x10,64x100
    """
    from curadebt.lab import cost as C
    from curadebt.lab.io import atomic_write, write_json

    if prompts not in ("train", "heldout"):
        raise typer.BadParameter("--prompts must be train or heldout")
    try:
        ex = C.parse_exposures(exposures)
        inertia_res = C.load(inertia_json)
        cvc_res = C.load(cvc_json) if cvc_json else None
        est = C.estimate(inertia_res, ex, n_params=n_params, corpus_tokens=corpus_tokens,
                         tokens_per_counter=tokens_per_counter, replay=replay, depth=depth, prompts=prompts, cvc=cvc_res)
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
    app.command("cost")(cost)
