"""``lab lock-in``: when a corpus states a fact one way early and another way late, which wins?

Per seed, one conflict world (:mod:`curadebt.worlds.conflict`: for n in 4, 16, 64, 32 invented
people each said to live in city A n times in the first 30% of the training order and in city B n
times in the last 30%, the cities mirrored across facts), one tokenizer, one initialisation, and
one pass over the corpus for each learning-rate schedule (constant, cosine, warmup-stable-decay).
Primacy (the first answer locks in) predicts A; power-law forgetting (Chang et al. 2024, arXiv
2406.11813) predicts B; a schedule that decays while B is being stated may weaken B.

Scored per fact, on the 4 held-out phrasings and on the 8 training ones: log P(A) - log P(B) after
the prompt (the log odds between the two answers), the share of phrasings where A beats B, and
P(A), P(B); at the end of the early window (A learned, B not yet seen) and at the end.
CIs: two-level bootstrap over seeds and facts. Jobs (seed x schedule) are resumable and can run
in parallel (:mod:`curadebt.lab.jobs`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.core.stats import mean_of_group_means, two_level_bootstrap_ci
from curadebt.lab.experiment import Experiment
from curadebt.lab.jobs import run_jobs, settings_key
from curadebt.lab.scratch import ScratchLM, TrainConfig, encode, pack, steps_per_epoch, train, train_tokenizer
from curadebt.lab.zipf_eval import city_logprobs
from curadebt.training.schedules import SCHEDULES
from curadebt.worlds.conflict import ConflictWorld, ConflictWorldConfig, generate_conflict
from curadebt.worlds.zipf import CITIES, HELDOUT_TEMPLATES, TRAIN_TEMPLATES, invented_names, prompt

PHRASINGS = {"heldout": HELDOUT_TEMPLATES, "train": TRAIN_TEMPLATES}


@dataclass
class LockinConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), help="Seeds; each is a new world, tokenizer and initialisation.")
    schedules: tuple[str, ...] = setting(SCHEDULES, help="Learning-rate schedules, comma-separated: constant, "
                                                         "cosine (to 0.1 x), wsd (decay over the last 20%).")
    workers: int = setting(1, help="Jobs (seed x schedule) run in parallel processes.")
    world: ConflictWorldConfig = nested(ConflictWorldConfig)
    train: TrainConfig = nested(TrainConfig)

    def validate(self) -> "LockinConfig":
        if not self.seeds or not self.schedules or self.workers < 1:
            raise ValueError("need seeds, schedules and workers >= 1")
        bad = [s for s in self.schedules if s not in SCHEDULES]
        if bad:
            raise ValueError(f"unknown schedule(s) {bad}; choose from {list(SCHEDULES)}")
        self.world.validate()
        self.train.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def control_names(world: ConflictWorld) -> list[str]:
    """One invented name per fact that the corpus never mentions: the same prompts about nobody."""
    import random

    taken = {f.person for f in world.facts}
    names = [n for n in invented_names(3 * len(world.facts), random.Random(world.config.seed + 99_991)) if n not in taken]
    return names[:len(world.facts)]


def _pair_logprobs(lm: ScratchLM, names: list[str], templates, a: np.ndarray, b: np.ndarray):
    """log P(A), log P(B) among the 32 cities after each name's prompts: [facts, phrasings] each."""
    prompts = [prompt(t, name) for name in names for t in templates]
    lp = city_logprobs(lm, prompts).reshape(len(names), len(templates), len(CITIES))
    lp = lp - np.logaddexp.reduce(lp, axis=2, keepdims=True)   # renormalised over the cities
    return (np.take_along_axis(lp, a[:, None, None], axis=2)[:, :, 0],
            np.take_along_axis(lp, b[:, None, None], axis=2)[:, :, 0])


def answer_scores(lm: ScratchLM, world: ConflictWorld) -> dict[str, dict[str, list[float]]]:
    """Per phrasing set, per fact: the mean log odds A vs B after the person's prompts, the same after
    a never-seen name's (how much the cities' own recency alone gives B), their difference (what
    the model holds about this person), the share of phrasings where A beats B, and P(A), P(B)
    among the 32 cities."""
    out = {}
    a = np.array([CITIES.index(f.early) for f in world.facts])
    b = np.array([CITIES.index(f.late) for f in world.facts])
    ctrl = control_names(world)
    for name, templates in PHRASINGS.items():
        la, lb = _pair_logprobs(lm, [f.person for f in world.facts], templates, a, b)
        ca, cb = _pair_logprobs(lm, ctrl, templates, a, b)
        odds, control = (la - lb).mean(axis=1), (ca - cb).mean(axis=1)
        out[name] = {"log_odds": odds.tolist(), "control_log_odds": control.tolist(),
                     "specific_log_odds": (odds - control).tolist(), "a_wins": (la > lb).mean(axis=1).tolist(),
                     "p_a": np.exp(la).mean(axis=1).tolist(), "p_b": np.exp(lb).mean(axis=1).tolist()}
    return out


def run_job(job: tuple[int, str], cfg: LockinConfig) -> dict[str, Any]:
    seed, schedule = job
    world = generate_conflict(replace(cfg.world, seed=seed))
    tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
    rows = pack(encode(tok, world.texts()), cfg.train.ctx).rows
    steps = steps_per_epoch(rows, cfg.train.batch_size)
    window_end = round(cfg.world.window * steps)
    lm = ScratchLM(tok, cfg.train, seed=seed)
    at_window: dict[str, Any] = {}
    log = train(lm, rows, steps, schedule=schedule, checkpoints=[window_end],
                on_checkpoint=lambda k, model: at_window.update(answer_scores(model, world)))
    return {"seed": seed, "schedule": schedule, "steps": steps, "window_end_step": window_end,
            "final_loss": float(np.mean(log.losses[-20:])), "at_window_end": at_window, "final": answer_scores(lm, world)}


def _describe(r: dict[str, Any]) -> str:
    return f"specific log odds A:B (training phrasings) {np.mean(r['final']['train']['specific_log_odds']):+.2f}"


def summarize(runs: list[dict[str, Any]], cfg: LockinConfig) -> dict[str, Any]:
    ns = [int(n) for n in cfg.world.ns]
    n_of = np.repeat(ns, cfg.world.facts_per_n)
    out: dict[str, Any] = {}
    for schedule in cfg.schedules:
        rs = [r for r in runs if r["schedule"] == schedule]
        for n in ns:
            sel = n_of == n
            for phr in PHRASINGS:
                row = {}
                for when in ("final", "at_window_end"):
                    for metric in ("log_odds", "control_log_odds", "specific_log_odds", "a_wins", "p_a", "p_b"):
                        groups = [np.asarray(r[when][phr][metric])[sel] for r in rs]
                        row[f"{when}_{metric}"] = two_level_bootstrap_ci(groups, mean_of_group_means).to_dict()
                out[f"{schedule}|{n}|{phr}"] = row
    return out


def run_lockin(cfg: LockinConfig, out: Path, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    cfg.validate()
    todo = [(s, sch) for s in cfg.seeds for sch in cfg.schedules]
    key = settings_key(cfg.to_dict(), ignore=("seeds", "schedules", "workers"))
    results, seconds = run_jobs(todo, run_job, (cfg,), out=Path(out), key=key, name=lambda j: f"seed{j[0]}-{j[1]}",
                                workers=cfg.workers, log=log,
                                describe=_describe)
    runs = [results[j] for j in todo]
    return {"experiment": "lock_in", "config": cfg.to_dict(), "runs": runs, "summary": summarize(runs, cfg),
            "timing": {"seconds_per_job": seconds}}


def lockin_markdown(result: dict[str, Any]) -> str:
    from curadebt.lab.cvc_report import signed

    cfg = result["config"]
    lines = [f"{len(cfg['seeds'])} seed(s), {cfg['world']['facts_per_n']} facts per n; A stated n times in the first "
             f"{cfg['world']['window']:.0%} of one pass, B n times in the last. Log odds = log P(A) - log P(B) among "
             "the 32 cities after the person's prompt (> 0: the early answer wins); control: the same after a name the "
             "corpus never mentions (the cities' own recency); specific = log odds - control. Means over facts "
             "[two-level bootstrap 95% CI over seeds and facts].", "",
             "| schedule | n | specific log odds, held-out | specific, training phrasings | log odds / control, "
             "training | A beats B, training | P(A) / P(B) at the end, training | P(A) / P(B) at the window's end |",
             "|---|---|---|---|---|---|---|---|"]
    for key, v in result["summary"].items():
        schedule, n, phr = key.split("|")
        if phr != "heldout":
            continue
        t = result["summary"][f"{schedule}|{n}|train"]
        lines.append(f"| {schedule} | {n} | {signed(v['final_specific_log_odds'], 2)} | "
                     f"{signed(t['final_specific_log_odds'], 2)} | {t['final_log_odds']['mean']:+.2f} / "
                     f"{t['final_control_log_odds']['mean']:+.2f} | {t['final_a_wins']['mean']:.2f} | "
                     f"{t['final_p_a']['mean']:.3f} / {t['final_p_b']['mean']:.3f} | "
                     f"{t['at_window_end_p_a']['mean']:.3f} / {t['at_window_end_p_b']['mean']:.3f} |")
    return "\n".join(lines) + "\n"


def lockin_plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from curadebt.lab.io import save_figure

    cfg = result["config"]
    ns = [int(n) for n in cfg["world"]["ns"]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, phr in zip(axes, PHRASINGS):
        for i, schedule in enumerate(cfg["schedules"]):
            v = [result["summary"][f"{schedule}|{n}|{phr}"]["final_specific_log_odds"] for n in ns]
            x = np.arange(len(ns)) + (i - 1) * 0.25
            m = np.array([c["mean"] for c in v])
            ax.bar(x, m, width=0.25, yerr=[m - [c["low"] for c in v], [c["high"] for c in v] - m], capsize=3,
                   label=schedule)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(np.arange(len(ns)), [f"n = {n}" for n in ns])
        ax.set_ylabel("log P(early A) - log P(late B), minus control")
        ax.set_title(f"{phr} phrasings (> 0: the early answer wins)", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle("Lock-in: A stated n times early, B n times late (95% CIs)", fontsize=10)
    fig.tight_layout()
    p = save_figure(fig, path)
    plt.close(fig)
    return p


EXPERIMENT = Experiment(name="lock_in", title="Lock-in with conflicting facts", config=LockinConfig,
                        run=lambda cfg, out, log: run_lockin(cfg, Path(out), log=log),
                        markdown=lockin_markdown, plot=lockin_plot)
