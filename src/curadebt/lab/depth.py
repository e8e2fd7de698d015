"""``lab depth``: does more pretraining make a fact harder to correct, with recency held fixed?

In ``lab inertia`` a checkpoint at 25% of the epoch has seen its head facts' exposures packed into
the last steps before it, so depth and recency move together. Here, per seed:

1. **Pretrain once** on real text (the mixed corpus of ``../shared/data`` by default, or ``--text``)
   at a constant rate, and **branch** at several tokens-per-parameter points (1.25, 5, 20 non-embedding
   tokens per parameter by default): the branches differ only in how long they were pretrained.
2. **The same injection** for every branch: a window of ``window_steps`` steps mixing real text with
   the facts' statements (invented people, one city each, stated ``tier`` times, in 6 of the Zipf
   world's training phrasings; the same rows in the same order for every branch), at the constant
   rate, then ``decay_steps`` of real text with the rate decaying linearly to 10%.
   A fact is *known* at the end of this when the model names its city first among the world's 32
   on at least half of a prompt set's phrasings (and prefers it to the new city).
3. **The same correction**: every fact at once, one counter-example per fact per step in the 2
   training phrasings the injection never used (so neither scored set is trained on), each step
   with as many generic real-text rows (1:1 replay), AdamW at ``correction_lr``; efficacy (share of
   prompts with P(new) > P(old)) after each dose up to ``max_counter`` on the 6 injection phrasings
   and on the 4 held-out phrasings; r50 as in ``lab inertia`` (facts known before the correction
   only; censored at 1 and ``max_counter``).
4. Per branch also: the **collateral** loss change on held-out real text (never trained on) from
   before to after the correction, and the **sensitivity to a weight perturbation** before it
   (Springer et al. 2025, arXiv 2503.19206): the held-out loss increase when every weight matrix
   gets Gaussian noise of ``perturb_sigma`` times its own standard deviation, mean of
   ``perturb_draws`` draws.

The schedule (:func:`branch_plan`) is checked by tests: the branches' pretraining lengths, and an
injection and decay that are the same steps on the same rows for every branch.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.core.stats import mean_ci
from curadebt.lab import metrics
from curadebt.lab.experiment import Experiment
from curadebt.lab.scratch import (EOS, PAD, ScratchLM, TrainConfig, encode, make_optimizer, mean_nll, pack, score,
                                  train_tokenizer)
from curadebt.lab.zipf_eval import city_choice
from curadebt.training.loop import train_loop
from curadebt.worlds.zipf import CITIES, HELDOUT_TEMPLATES, TRAIN_TEMPLATES, invented_names, prompt, statement

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
DEFAULT_TEXT = SHARED_DATA / "mixed" / "corpus.jsonl"
INJECT_TEMPLATES = TRAIN_TEMPLATES[:6]      # the facts' statements in the injection window
CORRECT_TEMPLATES = TRAIN_TEMPLATES[6:]     # counter-examples: never injected, never scored
PROMPT_SETS = {"injected": INJECT_TEMPLATES, "heldout": HELDOUT_TEMPLATES}
DOSES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass
class DepthConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2), help="Seeds; each a new set of people, tokenizer and model.")
    branch_tpp: tuple[float, ...] = setting((1.25, 5.0, 20.0), help="Branch after this many pretraining tokens "
                                                                     "per non-embedding parameter.")
    text: str | None = setting(None, help="Real text to pretrain on (.txt or .jsonl with 'text'; default: "
                                          "../shared/data/mixed/corpus.jsonl).")
    people: int = setting(16, help="Facts per exposure tier.")
    tiers: tuple[int, ...] = setting((16, 64, 256), help="Exposure tiers: statements of a fact in the injection window.")
    window_steps: int = setting(300, help="Steps of the injection window (facts mixed into real text).")
    decay_steps: int = setting(30, help="Steps of real text after it, the rate decaying linearly to 10%.")
    max_counter: int = setting(256, help="Most counter-examples per fact.")
    correction_lr: float = setting(1e-3, help="AdamW learning rate of the correction (constant).")
    perturb_sigma: float = setting(0.05, help="Weight-noise scale, as a share of each matrix's standard deviation.")
    perturb_draws: int = setting(3, help="Noise draws averaged per branch.")
    heldout_rows: int = setting(256, help="Held-out real-text rows (the collateral and perturbation loss).")
    replay_rows: int = setting(2048, help="Real-text rows set aside for the correction's 1:1 replay.")
    workers: int = setting(1, help="Seeds run in parallel processes (one torch thread each).")
    # size s: xs (25k parameters) knows under 10% of the facts after the window even at 512 statements
    train: TrainConfig = nested(TrainConfig, lambda: TrainConfig(size="s", batch_size=16))

    def validate(self) -> "DepthConfig":
        if not self.seeds or not self.branch_tpp or any(t <= 0 for t in self.branch_tpp):
            raise ValueError("need seeds and positive branch_tpp values")
        if not self.tiers or any(t < 1 for t in self.tiers) or self.people < 1:
            raise ValueError("tiers and people must be >= 1")
        if self.window_steps < 1 or self.decay_steps < 0 or self.max_counter < 1:
            raise ValueError("window_steps and max_counter must be >= 1, decay_steps >= 0")
        self.train.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BranchPlan:
    """Where each branch leaves the shared pretraining run, and the steps every branch then takes."""

    branch_steps: tuple[int, ...]      # pretraining steps before each branch (increasing)
    window_steps: int                  # injection steps (facts + real text), constant rate
    decay_steps: int                   # real text, rate decaying linearly to ``floor`` x rate

    def lr_after_branch(self, lr: float, floor: float = 0.1) -> Callable[[int], float]:
        """The rate of step k (0-based) after the branch point: the same function for every branch."""
        def lr_at(k: int) -> float:
            if k < self.window_steps:
                return lr
            j = k - self.window_steps + 1
            return lr * (1.0 - (1.0 - floor) * min(1.0, j / max(1, self.decay_steps)))
        return lr_at


def branch_plan(n_params: int, tokens_per_step: int, tpps: Sequence[float], window_steps: int,
                decay_steps: int) -> BranchPlan:
    """Branch steps at ``tpp x n_params`` pretraining tokens (at least one step each, distinct)."""
    steps = sorted({max(1, round(t * n_params / tokens_per_step)) for t in tpps})
    if len(steps) != len(tpps):
        raise ValueError(f"branch points {tpps} fall on the same step for {n_params} parameters")
    return BranchPlan(tuple(steps), window_steps, decay_steps)


# ---------------------------------------------------------------------------- data


def real_documents(path: str | Path) -> list[str]:
    """Documents of a .jsonl ('text') or .txt file (blank-line paragraphs), in file order."""
    p = Path(path)
    raw = p.read_text(encoding="utf-8", errors="replace")
    if p.suffix == ".jsonl":
        docs = [str(json.loads(line).get("text", "")) for line in raw.splitlines() if line.strip()]
    else:
        docs = [d for d in raw.split("\n\n")]
    return [" ".join(d.split()) for d in docs if len(d.split()) >= 8]


@dataclass
class PersonFact:
    person: str
    city: str
    new: str
    tier: int


def make_facts(cfg: DepthConfig, seed: int) -> list[PersonFact]:
    rng = random.Random(f"depth-facts:{seed}")
    names = invented_names(cfg.people * len(cfg.tiers), rng)
    facts = []
    for i, name in enumerate(names):
        city = CITIES[rng.randrange(len(CITIES))]
        new = rng.choice([c for c in CITIES if c != city])
        facts.append(PersonFact(name, city, new, cfg.tiers[i // cfg.people]))
    return facts


def injection_statements(facts: Sequence[PersonFact]) -> list[str]:
    """Each fact ``tier`` times, cycling through the injection phrasings."""
    return [statement(INJECT_TEMPLATES[k % len(INJECT_TEMPLATES)], f.person, f.city) for f in facts for k in range(f.tier)]


def _rows_of(tok, texts: Sequence[str], ctx: int) -> np.ndarray:
    """Short documents packed whole into rows (the facts' statements)."""
    return pack(encode(tok, list(texts)), ctx).rows


def _stream_rows(tok, docs: Sequence[str], ctx: int) -> np.ndarray:
    """Long documents as one token stream (EOS between documents) cut into rows of ``ctx`` tokens."""
    stream: list[int] = []
    for ids in encode(tok, list(docs)):
        stream += [EOS] + ids
    n = len(stream) // ctx
    return np.asarray(stream[:n * ctx], dtype=np.int64).reshape(n, ctx)


@dataclass
class SeedData:
    tok: Any
    pretrain: np.ndarray     # real-text rows, cycled by the shared pretraining run
    window: np.ndarray       # injection rows (fact rows shuffled among real-text rows), the same for every branch
    decay: np.ndarray        # real-text rows after the window
    replay: np.ndarray       # real-text rows replayed 1:1 during the correction
    heldout: np.ndarray      # real-text rows never trained on
    fact_rows: int


def seed_data(cfg: DepthConfig, facts: Sequence[PersonFact], seed: int) -> SeedData:
    docs = real_documents(cfg.text or DEFAULT_TEXT)
    statements = injection_statements(facts)
    corrections = [statement(t, f.person, f.new) for f in facts for t in CORRECT_TEMPLATES]
    tok = train_tokenizer(docs + statements + corrections, cfg.train.vocab_size)
    rows = _stream_rows(tok, docs, cfg.train.ctx)
    order = np.random.default_rng(seed).permutation(rows.shape[0])
    rows = rows[order]
    b = cfg.train.batch_size
    fact_rows = _rows_of(tok, random.Random(seed).sample(statements, len(statements)), cfg.train.ctx)
    n_window_text = max(0, cfg.window_steps * b - fact_rows.shape[0])
    sizes = [cfg.heldout_rows, n_window_text, cfg.decay_steps * b, cfg.replay_rows]
    if sum(sizes) >= rows.shape[0]:
        raise ValueError(f"the real text has {rows.shape[0]} rows; the held-out, window, decay and replay "
                         f"slices need {sum(sizes)} and pretraining some more")
    cuts = np.cumsum(sizes)
    heldout, window_text, decay, replay, pretrain = np.split(rows, cuts)
    window = np.concatenate([fact_rows, window_text])
    window = window[np.random.default_rng(seed + 1).permutation(window.shape[0])]
    return SeedData(tok, pretrain, window, decay, replay, heldout, int(fact_rows.shape[0]))


# ---------------------------------------------------------------------------- training and scoring


def _steps(lm: ScratchLM, opt, batches, lr_at: Callable[[int], float]) -> None:
    from curadebt.lab.scratch import _lm_loss

    train_loop(batches, lambda x: _lm_loss(lm, x), opt, clip=lm.cfg.clip, clip_params=list(lm.model.parameters()),
               lr_at=lr_at)


def _cycle(rows: np.ndarray, batch: int, start: int, n: int):
    per = max(1, math.ceil(rows.shape[0] / batch))
    for k in range(start, start + n):
        j = k % per
        yield rows[j * batch:(j + 1) * batch]


def efficacies(lm: ScratchLM, facts: Sequence[PersonFact]) -> dict[str, np.ndarray]:
    """Per prompt set: per fact, the share of prompts with P(new) > P(old); and the margin."""
    out = {}
    for name, tpls in PROMPT_SETS.items():
        prompts = [prompt(t, f.person) for f in facts for t in tpls]
        old = [f.city for f in facts for _ in tpls]
        new = [f.new for f in facts for _ in tpls]
        lp = score(lm, prompts + prompts, old + new)
        n = len(prompts)
        lo, ln = lp[:n].reshape(len(facts), -1), lp[n:].reshape(len(facts), -1)
        out[name] = np.array([metrics.efficacy(a, b) for a, b in zip(ln, lo)])
        out[name + "_margin"] = (lo - ln).mean(axis=1)
    return out


def perturbation_sensitivity(lm: ScratchLM, heldout: np.ndarray, sigma: float, draws: int, seed: int) -> float:
    """Mean held-out loss increase when every weight matrix gets N(0, (sigma * std(W))^2) noise."""
    import torch

    base = mean_nll(lm, heldout)
    state = {k: v.clone() for k, v in lm.model.state_dict().items()}
    gen = torch.Generator().manual_seed(seed)
    deltas = []
    for _ in range(draws):
        with torch.no_grad():
            for p in lm.model.parameters():
                if p.dim() >= 2:
                    p.add_(torch.randn(p.shape, generator=gen) * (sigma * float(p.std())))
        deltas.append(mean_nll(lm, heldout) - base)
        lm.model.load_state_dict(state)
    return float(np.mean(deltas))


def counter_rows(tok, facts: Sequence[PersonFact], ctx: int, rng: random.Random) -> np.ndarray:
    """One counter-example a fact, one a row, in a correction phrasing."""
    ids = encode(tok, [statement(CORRECT_TEMPLATES[rng.randrange(len(CORRECT_TEMPLATES))], f.person, f.new)
                       for f in facts])
    arr = np.full((len(ids), min(ctx, max(len(x) for x in ids) + 2)), PAD, dtype=np.int64)
    for r, x in enumerate(ids):
        seq = ([EOS] + x + [EOS])[:arr.shape[1]]
        arr[r, :len(seq)] = seq
    return arr


def correct(lm: ScratchLM, facts: Sequence[PersonFact], data: SeedData, cfg: DepthConfig, seed: int) -> dict:
    """Counter-examples with 1:1 generic replay, every fact at once; efficacy after each dose."""
    grid = [d for d in DOSES if d < cfg.max_counter] + [cfg.max_counter]
    rng = random.Random(f"depth-correct:{seed}")
    opt = make_optimizer(lm, cfg.correction_lr, cfg.train.weight_decay)
    prior = efficacies(lm, facts)
    # known: the model names the fact's own city first among the 32 on at least half the prompts
    # (P(old) > P(new) alone would count a model that merely prefers the old city everywhere)
    choice = {name: city_choice(lm, facts, tpls) for name, tpls in PROMPT_SETS.items()}
    curves = {name: [] for name in PROMPT_SETS}
    given, replay_at = 0, 0
    for d in grid:
        batches = []
        for _ in range(d - given):
            ce = counter_rows(data.tok, facts, cfg.train.ctx, rng)
            rep = next(_cycle(data.replay, ce.shape[0], replay_at, 1))
            replay_at += 1
            width = max(ce.shape[1], rep.shape[1])
            both = np.full((ce.shape[0] + rep.shape[0], width), PAD, dtype=np.int64)
            both[:ce.shape[0], :ce.shape[1]] = ce
            both[ce.shape[0]:, :rep.shape[1]] = rep
            batches.append(both)
        _steps(lm, opt, iter(batches), lambda k: cfg.correction_lr)
        given = d
        eff = efficacies(lm, facts)
        for name in PROMPT_SETS:
            curves[name].append(eff[name])
    per_fact = []
    for i, f in enumerate(facts):
        rec = {"person": f.person, "tier": f.tier}
        for name in PROMPT_SETS:
            ys = [float(c[i]) for c in curves[name]]
            r = metrics.r50(grid, ys)
            value = r.value if r.status == "interpolated" else (1.0 if r.status == "below_range" else float(cfg.max_counter))
            rec[name] = {"known": bool(choice[name][i] >= 0.5 and prior[name][i] < 0.5),
                         "prior_accuracy": float(choice[name][i]), "prior_margin": float(prior[name + "_margin"][i]),
                         "r50": float(value), "r50_status": r.status, "final_efficacy": ys[-1]}
        per_fact.append(rec)
    return {"doses": grid, "facts": per_fact}


def run_seed(seed: int, cfg: DepthConfig, log: Callable[[str], None]) -> dict:
    t0 = time.perf_counter()
    facts = make_facts(cfg, seed)
    data = seed_data(cfg, facts, seed)
    lm = ScratchLM(data.tok, cfg.train, seed=seed)
    b, n_params = cfg.train.batch_size, lm.n_nonembedding_params()
    plan = branch_plan(n_params, b * cfg.train.ctx, cfg.branch_tpp, cfg.window_steps, cfg.decay_steps)
    opt = make_optimizer(lm, cfg.train.lr, cfg.train.weight_decay)
    warm = lambda k: cfg.train.lr * min(1.0, (k + 1) / max(1, cfg.train.warmup))  # noqa: E731
    branches, done = [], 0
    for tpp, step in zip(sorted(cfg.branch_tpp), plan.branch_steps):
        _steps(lm, opt, _cycle(data.pretrain, b, done, step - done), lambda k, d=done: warm(d + k))
        done = step
        at_branch = mean_nll(lm, data.heldout)
        model = lm.clone()
        bopt = make_optimizer(model, cfg.train.lr, cfg.train.weight_decay)
        bopt.load_state_dict(copy.deepcopy(opt.state_dict()))  # the branch continues the run's optimiser state
        _steps(model, bopt, _cycle(data.window, b, 0, plan.window_steps), plan.lr_after_branch(cfg.train.lr))
        _steps(model, bopt, _cycle(data.decay, b, 0, plan.decay_steps),
               lambda k: plan.lr_after_branch(cfg.train.lr)(plan.window_steps + k))
        before = mean_nll(model, data.heldout)
        sens = perturbation_sensitivity(model, data.heldout, cfg.perturb_sigma, cfg.perturb_draws, seed)
        corr = correct(model, facts, data, cfg, seed)
        after = mean_nll(model, data.heldout)
        branches.append({"tokens_per_param": tpp, "pretrain_steps": step, "pretrain_tokens": step * b * cfg.train.ctx,
                         "heldout_loss_at_branch": at_branch, "heldout_loss_before_correction": before,
                         "heldout_loss_after_correction": after, "collateral": after - before,
                         "perturbation_sensitivity": sens, **corr})
        known = sum(r["injected"]["known"] for r in corr["facts"])
        log(f"seed {seed}: branch at {tpp:g} tokens/param ({step} steps): held-out loss {before:.3f}, "
            f"{known}/{len(facts)} facts known, collateral {after - before:+.3f}, perturbation {sens:+.4f}")
    return {"seed": seed, "n_nonembedding_params": n_params, "fact_rows": data.fact_rows,
            "window_rows": int(data.window.shape[0]), "branches": branches, "seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------------------- summary


def pooled_r50(per_seed: Sequence[Sequence[float]], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Geometric mean r50 over the known facts of every seed pooled, with a 95% cluster bootstrap
    (seeds resampled with their facts): r50 is a count of counter-examples, skewed and positive, so
    the interval is taken on the log scale (a t-interval on raw means went below 0 with 3 seeds)."""
    logs = [np.log(np.asarray(v, dtype=float)) for v in per_seed if len(v)]
    n = sum(len(v) for v in logs)
    if not n:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0, "facts": 0}
    point = float(np.exp(np.mean(np.concatenate(logs))))
    if len(logs) < 2:
        return {"mean": point, "low": point, "high": point, "n": 1, "facts": n}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(logs), size=len(logs))
        draws.append(np.mean(np.concatenate([logs[i] for i in pick])))
    lo, hi = np.exp(np.percentile(draws, [2.5, 97.5]))
    return {"mean": point, "low": float(lo), "high": float(hi), "n": len(logs), "facts": n}


def summarize(runs: Sequence[dict], cfg: DepthConfig) -> list[dict]:
    rows = []
    for i, tpp in enumerate(sorted(cfg.branch_tpp)):
        bs = [r["branches"][i] for r in runs]
        row: dict[str, Any] = {"tokens_per_param": tpp, "pretrain_steps": bs[0]["pretrain_steps"]}
        for key in ("heldout_loss_before_correction", "collateral", "perturbation_sensitivity"):
            row[key] = mean_ci([b[key] for b in bs]).to_dict()
        for name in PROMPT_SETS:
            row[f"known_{name}"] = mean_ci([np.mean([f[name]["known"] for f in b["facts"]]) for b in bs],
                                           bounds=(0, 1)).to_dict()
            for tier in cfg.tiers:
                row[f"r50_{name}_tier{tier}"] = pooled_r50(
                    [[f[name]["r50"] for f in b["facts"] if f["tier"] == tier and f[name]["known"]] for b in bs])
            row[f"censored_high_{name}"] = sum(f[name]["known"] and f[name]["r50_status"] == "above_range"
                                               for b in bs for f in b["facts"])
        rows.append(row)
    return rows


def seed_job(seed: int, cfg: DepthConfig) -> dict:
    """One seed, as a resumable job (module level: it is pickled into worker processes)."""
    return run_seed(seed, cfg, lambda m: None)


def run_depth(cfg: DepthConfig, out: Path, log: Callable[[str], None] = lambda m: None) -> dict:
    """Every seed (``out/partial`` holds each finished one; a rerun with the same settings reuses it)."""
    from curadebt.lab.jobs import run_jobs, settings_key

    cfg = cfg.validate()
    parallel = cfg.workers > 1  # worker processes get no log (one line per finished seed instead)
    results, _ = run_jobs(cfg.seeds, seed_job if parallel else run_seed, (cfg,) if parallel else (cfg, log),
                          out=Path(out), key=settings_key(cfg.to_dict(), ignore=("workers",)),
                          name=lambda s: f"seed{s}", workers=cfg.workers, log=log)
    runs = [dict(results[s]) for s in cfg.seeds]
    seconds = {str(r["seed"]): r.pop("seconds") for r in runs}
    return {"schema": "curadebt.lab.depth/1", "config": {k: v for k, v in cfg.to_dict().items() if k != "workers"},
            "rows": summarize(runs, cfg), "runs": runs, "timing": {"seed_seconds": seconds}}


def depth_markdown(result: dict) -> str:
    from curadebt.lab.scratch_report import fmt_ci

    cfg = result["config"]
    tiers = cfg["tiers"]
    lines = [f"{len(cfg['seeds'])} seed(s), model {cfg['train']['size']}; branches pretrained on real text, then the "
             f"same {cfg['window_steps']}-step injection and {cfg['decay_steps']}-step decay; correction with 1:1 "
             "replay. Mean over seeds [95% t-CI]; r50: geometric mean over the known facts of all seeds "
             "[95% seed bootstrap], with the facts it rests on.", "",
             "| tokens per param | pretraining steps | held-out loss | known (injected) | known (held-out) | "
             + " | ".join(f"r50 tier {t} (injected)" for t in tiers) + " | never flipped | collateral loss | "
             "perturbation Δloss |", "|---|---|---|---|---|" + "---|" * len(tiers) + "---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['tokens_per_param']:g} | {r['pretrain_steps']} | {fmt_ci(r['heldout_loss_before_correction'], 3)} | "
                     f"{fmt_ci(r['known_injected'])} | {fmt_ci(r['known_heldout'])} | "
                     + " | ".join(f"{fmt_ci(r[f'r50_injected_tier{t}'], 1)} ({r[f'r50_injected_tier{t}']['facts']})"
                                  for t in tiers)
                     + f" | {r['censored_high_injected']} | {fmt_ci(r['collateral'], 3)} | "
                     f"{fmt_ci(r['perturbation_sensitivity'], 2, significant=True)} |")
    return "\n".join(lines) + "\n"


def depth_plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, tiers = result["rows"], result["config"]["tiers"]
    x = [r["tokens_per_param"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for t in tiers:
        ci = [r[f"r50_injected_tier{t}"] for r in rows]
        axes[0].errorbar(x, [c["mean"] for c in ci], yerr=[[c["mean"] - c["low"] for c in ci], [c["high"] - c["mean"] for c in ci]],
                         marker="o", capsize=3, label=f"tier {t}")
    axes[0].set_ylabel("r50 (counter-examples), injected phrasings")
    axes[0].legend(fontsize=7)
    for ax, key, label in ((axes[1], "collateral", "held-out loss change by the correction"),
                           (axes[2], "perturbation_sensitivity", "held-out loss increase under weight noise")):
        ci = [r[key] for r in rows]
        ax.errorbar(x, [c["mean"] for c in ci], yerr=[[c["mean"] - c["low"] for c in ci], [c["high"] - c["mean"] for c in ci]],
                    marker="o", capsize=3)
        ax.set_ylabel(label, fontsize=8)
    axes[0].set_yscale("log")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
        ax.set_xlabel("pretraining tokens per parameter at the branch")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


EXPERIMENT = Experiment(name="depth", title="Depth without recency: branched pretraining", config=DepthConfig,
                        run=lambda cfg, out, log: run_depth(cfg, out, log), markdown=depth_markdown, plot=depth_plot)
