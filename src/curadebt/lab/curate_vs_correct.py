"""``lab curate-vs-correct``: curate the data first, or fix the model later, at matched compute?

Per seed: one Zipf fact world (:mod:`curadebt.worlds.zipf`: ~1,000 invented people, each living in
one of 32 cities, the rank-r person stated in max(1, round(512 / r)) documents, 8 training phrasings,
4 held-out phrasings that share no word pair with them, as many filler documents as fact
documents), one tokenizer, one initialisation, and the arms of :mod:`curadebt.lab.cvc_arms`, each a
tiny GPT trained from scratch for the same ``S`` optimiser steps (``epochs`` passes over the raw
corpus; compute is 6 N D, N the non-embedding parameters, D the tokens trained on).

The fix arms branch off the raw run: at ``fix_start`` x S the model is asked the two probe
phrasings (never scored); the facts it gets wrong (no probe right) get the corpus's own documents
naming the person (found by the name, as a user would: no ground truth beyond the corpus),
repeated, mixed 1:1 with raw rows, for the rest of the S steps (``raw+fix``: matched compute); or
after all S steps, for ``fix_extra`` x S steps more (``raw+fix-extra``: extra compute, reported as such).

Every model is scored per fact on its training phrasings and on the held-out ones (32-way choice of
the city, :mod:`curadebt.lab.zipf_eval`), and on the loss of held-out filler documents (no facts).
The analysis (:mod:`curadebt.lab.cvc_analysis`) pairs arms with the raw run of the same seed.

Each (seed, job) result is written to ``partial/`` as it finishes; a rerun with the same settings
reuses them (a killed run loses at most the jobs in flight). ``workers`` > 1 runs jobs in parallel
processes; the result is the same bytes either way.
"""
from __future__ import annotations

import copy
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.lab.cvc_arms import ARMS, ArmPlan, Phase, docs_naming, fact_counts
from curadebt.lab.experiment import Experiment
from curadebt.lab.jobs import run_jobs, settings_key
from curadebt.lab.scratch import (ScratchLM, TrainConfig, TrainLog, encode, flops, make_optimizer, mean_nll, pack,
                                  steps_per_epoch, train, train_tokenizer)
from curadebt.lab.zipf_eval import city_choice
from curadebt.worlds.zipf import HELDOUT_TEMPLATES, PROBE_TEMPLATES, TRAIN_TEMPLATES, ZipfWorld, ZipfWorldConfig, \
    generate_zipf

ARM_NAMES = tuple(ARMS)
ARMS_HELP = "Arms to run, comma-separated (raw always runs: the others are paired with it): " + "; ".join(
    f"{a.name}: {a.help}" for a in ARMS.values())


@dataclass
class CvcConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2), help="Seeds; each is a new world, tokenizer and initialisation.")
    arms: tuple[str, ...] = setting(ARM_NAMES, help=ARMS_HELP)
    epochs: float = setting(16.0, help="Steps per arm, in passes over the raw corpus.")
    cap: int = setting(32, help="cap arm: documents kept per fact.")
    warmup_share: float = setting(0.3, help="raw-then-normalized (and the reverse): share of the steps in the first phase.")
    normalize_alpha: float = setting(0.5, help="normalize arms: the op's alpha.")
    normalize_min: int = setting(4, help="normalize arms: the op's min_exposure.")
    fix_start: float = setting(0.9, help="raw+fix: share of the steps trained raw before the fix.")
    fix_extra: float = setting(0.25, help="raw+fix-extra: fix steps after the full raw run, as a share of the steps.")
    fix_replay: float = setting(1.0, help="Fix arms: raw replay rows per fix row.")
    head_min: int = setting(32, help="Facts with at least this many raw documents are the head.")
    tail_max: int = setting(2, help="Facts with at most this many raw documents are the tail.")
    workers: int = setting(1, help="Jobs (seed x arm) run in parallel processes (one torch thread each).")
    world: ZipfWorldConfig = nested(ZipfWorldConfig)
    train: TrainConfig = nested(TrainConfig)

    def validate(self) -> "CvcConfig":
        if not self.seeds:
            raise ValueError("need at least one seed")
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ValueError(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
        if self.epochs <= 0 or self.cap < 1 or self.workers < 1:
            raise ValueError("epochs must be > 0, cap and workers >= 1")
        for name in ("warmup_share", "fix_start"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1)")
        if self.fix_extra <= 0 or self.fix_replay < 0 or not 0 <= self.normalize_alpha <= 1 or self.normalize_min < 1:
            raise ValueError("fix_extra must be > 0, fix_replay >= 0, normalize_alpha in [0, 1], normalize_min >= 1")
        if self.tail_max >= self.head_min:
            raise ValueError("tail_max must be below head_min")
        self.world.validate()
        self.train.validate()
        return self

    def selected(self) -> tuple[str, ...]:
        """The arms to run, in registry order, raw first."""
        return tuple(a for a in ARMS if a == "raw" or a in self.arms)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """What a job's result depends on (not the seeds, the arms chosen or the worker count)."""
        return settings_key(self.to_dict(), ignore=("seeds", "arms", "workers"))


@dataclass
class Seeded:
    """What every job of a seed shares: the world, its tokenizer, the raw rows and the step budget."""

    seed: int
    world: ZipfWorld
    tok: Any
    raw_rows: np.ndarray
    held_rows: np.ndarray
    steps: int


def seeded(seed: int, cfg: CvcConfig) -> Seeded:
    world = generate_zipf(replace(cfg.world, seed=seed))
    tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
    raw = pack(encode(tok, world.texts()), cfg.train.ctx).rows
    held = pack(encode(tok, world.heldout_filler), cfg.train.ctx).rows
    return Seeded(seed, world, tok, raw, held, max(1, round(cfg.epochs * steps_per_epoch(raw, cfg.train.batch_size))))


def evaluate(lm: ScratchLM, s: Seeded) -> dict[str, Any]:
    facts = s.world.facts
    return {"train": city_choice(lm, facts, TRAIN_TEMPLATES).tolist(),
            "heldout": city_choice(lm, facts, HELDOUT_TEMPLATES).tolist(),
            "filler_loss": mean_nll(lm, s.held_rows)}


class Run:
    """A model, its optimiser and its log, trained phase by phase (a branch copies all three)."""

    def __init__(self, s: Seeded, cfg: CvcConfig):
        self.s, self.cfg = s, cfg
        self.lm = ScratchLM(s.tok, cfg.train, seed=s.seed)
        self.opt = make_optimizer(self.lm, cfg.train.lr, cfg.train.weight_decay)
        self.log = TrainLog()

    def branch(self) -> "Run":
        other = copy.copy(self)
        other.lm = self.lm.clone()
        other.opt = make_optimizer(other.lm, self.cfg.train.lr, self.cfg.train.weight_decay)
        other.opt.load_state_dict(copy.deepcopy(self.opt.state_dict()))
        other.log = copy.deepcopy(self.log)
        return other

    def step(self, rows: np.ndarray, steps: int, new_phase: bool = True) -> None:
        """``steps`` steps over ``rows``: a new phase starts at its first row; else the cycle goes on
        where the log is (the raw run, trained in pieces between its scored points)."""
        if steps > 0:
            train(self.lm, rows, steps, opt=self.opt, log=self.log, from_first_row=new_phase)

    def point(self, arm: str, **extra: Any) -> dict[str, Any]:
        n = self.lm.n_nonembedding_params()
        return {"arm": arm, "step": self.log.steps, "tokens": self.log.tokens, "flops": flops(n, self.log.tokens),
                **extra, **evaluate(self.lm, self.s)}


def phase_steps(plan: ArmPlan, total: int) -> list[int]:
    out = [round(p.share * total) for p in plan.phases[:-1]]
    return out + [total - sum(out)]


def arm_corpus(plan: ArmPlan, s: Seeded, cfg: CvcConfig) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Each phase's rows, and the corpus the arm trains on: documents and tokens per phase, and per
    fact the expected number of times its documents are seen over the arm's steps."""
    rows, phases = [], []
    seen = np.zeros(len(s.world.facts))
    for p, n in zip(plan.phases, phase_steps(plan, s.steps)):
        r = pack(encode(s.tok, p.texts), cfg.train.ctx).rows
        rows.append(r)
        epochs = n / steps_per_epoch(r, cfg.train.batch_size)
        seen += np.asarray(fact_counts(p.texts, s.world), dtype=float) * epochs
        phases.append({"documents": len(p.texts), "rows": int(r.shape[0]), "steps": n, "epochs": epochs})
    return rows, {"phases": phases, "exposure_seen": np.round(seen, 3).tolist(), "curate": plan.curate}


def fix_rows(run: Run, steps: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The fix's rows for ``steps`` steps: the corpus's documents naming the persons the model gets
    wrong on every probe phrasing, repeated, with ``fix_replay`` raw rows per fix row."""
    s, cfg = run.s, run.cfg
    wrong = {i for i, a in enumerate(city_choice(run.lm, s.world.facts, PROBE_TEMPLATES)) if a == 0}
    docs = docs_naming(s.world.texts(), s.world, wrong)
    rng = random.Random(s.seed * 31 + run.log.steps)
    rng.shuffle(docs)
    n_rows = steps * cfg.train.batch_size
    raw = s.raw_rows
    if not docs:
        return raw[[rng.randrange(raw.shape[0]) for _ in range(n_rows)]], {"fixed_facts": 0, "fix_documents": 0}
    fix = pack(encode(s.tok, docs), cfg.train.ctx).rows
    n_fix = round(n_rows / (1 + cfg.fix_replay))
    chosen = np.concatenate([fix[np.arange(n_fix) % fix.shape[0]],
                             raw[[rng.randrange(raw.shape[0]) for _ in range(n_rows - n_fix)]]])
    order = list(range(n_rows))
    rng.shuffle(order)
    return chosen[order], {"fixed_facts": len(wrong), "fix_documents": len(docs),
                           "fix_repeats": n_fix / fix.shape[0]}


def run_raw_job(s: Seeded, cfg: CvcConfig, arms: tuple[str, ...]) -> dict[str, Any]:
    """raw, with points at half, ``fix_start`` and all of the steps, and the fix branches."""
    run = Run(s, cfg)
    _, corpus = arm_corpus(ArmPlan([Phase(s.world.texts(), 1.0)]), s, cfg)
    half, start = round(0.5 * s.steps), round(cfg.fix_start * s.steps)
    points = []
    run.step(s.raw_rows, half)
    points.append(run.point("raw"))
    run.step(s.raw_rows, start - half, new_phase=False)
    points.append(run.point("raw"))
    if "raw+fix" in arms:
        fixed = run.branch()
        rows, info = fix_rows(fixed, s.steps - start)
        fixed.step(rows, s.steps - start)
        points.append(fixed.point("raw+fix", **info))
    run.step(s.raw_rows, s.steps - start, new_phase=False)
    points.append(run.point("raw"))
    if "raw+fix-extra" in arms:
        extra = round(cfg.fix_extra * s.steps)
        rows, info = fix_rows(run, extra)
        run.step(rows, extra)
        points.append(run.point("raw+fix-extra", **info))
    return {"points": points, "corpus": corpus}


def run_arm_job(s: Seeded, cfg: CvcConfig, arm: str, workdir: Path) -> dict[str, Any]:
    plan = ARMS[arm].build(s.world, cfg, workdir)
    rows, corpus = arm_corpus(plan, s, cfg)
    run = Run(s, cfg)
    for r, n in zip(rows, phase_steps(plan, s.steps)):
        run.step(r, n)
    return {"points": [run.point(arm)], "corpus": corpus}


def jobs(cfg: CvcConfig) -> list[tuple[int, str]]:
    """(seed, job) pairs: one ``raw`` job per seed (it also makes the fix arms) and one per other arm."""
    return [(seed, arm) for seed in cfg.seeds for arm in cfg.selected() if ARMS[arm].kind != "fix"]


def run_job(job: tuple[int, str], cfg: CvcConfig, workdir: Path) -> dict[str, Any]:
    """One (seed, job): the raw job (with the fix branches) or another arm's."""
    seed, name = job
    s = seeded(seed, cfg)
    out = run_raw_job(s, cfg, cfg.selected()) if name == "raw" else run_arm_job(s, cfg, name, Path(workdir) / f"seed{seed}")
    out.update(seed=seed, job=name, steps=s.steps, n_nonembedding_params=ScratchLM(s.tok, cfg.train).n_nonembedding_params())
    return out


def _describe(result: dict[str, Any]) -> str:
    last = result["points"][-1]
    return f"held-out accuracy {np.mean(last['heldout']):.3f}, filler loss {last['filler_loss']:.3f}"


def run_cvc(cfg: CvcConfig, out: Path, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    from curadebt.lab.cvc_analysis import summarize

    cfg.validate()
    todo = jobs(cfg)
    results, seconds = run_jobs(todo, run_job, (cfg, Path(out) / "work"), out=Path(out), key=cfg.key(),
                                name=lambda j: f"seed{j[0]}-{j[1]}", workers=cfg.workers, log=log, describe=_describe)
    runs = []
    for seed in cfg.seeds:
        world = generate_zipf(replace(cfg.world, seed=seed))
        per_job = {job: results[(seed, job)] for s_, job in todo if s_ == seed}
        runs.append({"seed": seed, "steps": per_job["raw"]["steps"],
                     "n_nonembedding_params": per_job["raw"]["n_nonembedding_params"],
                     "exposures": [f.exposures for f in world.facts], "cities": [f.city for f in world.facts],
                     "points": [p for j in per_job.values() for p in j["points"]],
                     "corpora": {job: j["corpus"] for job, j in per_job.items()}})
    return {"experiment": "curate_vs_correct", "config": cfg.to_dict(), "arms": list(cfg.selected()),
            "runs": runs, "summary": summarize(runs, cfg),
            "timing": {"seconds_per_job": seconds}}


def _markdown(result):
    from curadebt.lab.cvc_report import cvc_markdown

    return cvc_markdown(result)


def _plot(result, path):
    from curadebt.lab.cvc_report import cvc_plot

    return cvc_plot(result, path)


EXPERIMENT = Experiment(name="curate_vs_correct", title="Curate first vs fix later", config=CvcConfig,
                        run=lambda cfg, out, log: run_cvc(cfg, Path(out), log=log), markdown=_markdown, plot=_plot)
