"""``lab inertia``: how the cost of correcting a fact grows with its pretraining exposure.

Protocol, per seed (the seed sets the world, the tokenizer's corpus and the model's initialisation):

1. Generate a world (:mod:`curadebt.worlds.facts`) with facts at exposure tiers, train a BPE tokenizer
   and a tiny GPT-2 from scratch for one epoch over it (corpus order = training order), saving
   checkpoints at the ``depths`` (fractions of the epoch).
2. From each checkpoint, correct every fact at once: each optimiser step holds ``ce_per_step``
   counter-examples per fact ("The capital of COUNTRY is NEW." in the training phrasings). After
   each dose (counter-examples per fact so far) measure efficacy (share of prompts with
   P(new) > P(old)) on the held-out paraphrases and on the training phrasings.
3. r50 of a fact is the dose where efficacy first reaches 0.5 (:func:`curadebt.lab.metrics.r50`,
   interpolated in log dose). Only facts the checkpoint *knows* (efficacy < 0.5 before any
   counter-example) count. The fit ``log r50 = log a + gamma log exposure`` runs per seed over the
   known facts, with ``exposure`` the number of documents stating the fact that the checkpoint has
   seen; gamma's 95% CI is a percentile bootstrap over seeds.
4. Rebound: from the ``rebound_depth`` checkpoint, after the correction, pretraining resumes on the
   rest of the epoch; we measure how many corrected facts fall back to the old answer.

Censoring: a fact already flipped by the first dose has r50 <= 1 (counted as 1); one never flipped
within ``max_counter`` has r50 > max_counter (counted as max_counter). Both are reported.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.lab import metrics
from curadebt.lab.fact_eval import PROMPT_SETS, pair_scores
from curadebt.lab.scratch import (EOS, PAD, SIZES, ScratchLM, TrainConfig, encode, make_optimizer, pack,
                                  fit, steps_per_epoch, train, train_tokenizer)
from curadebt.worlds.facts import TRAIN_TEMPLATES, Fact, World, WorldConfig, fact_statement, generate
from curadebt.lab import scratch_report as SR
from curadebt.lab.experiment import Experiment

DOSE_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
REFERENCE_EXPOSURE = 64  # sizes are compared at this exposure and the pooled median margin


@dataclass
class InertiaConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), help="Seeds; each is a new world, tokenizer and model.")
    sizes: tuple[str, ...] = setting(("s",), help="Model sizes, comma-separated: xs (~0.1M), s (~0.2M), m (~1M).")
    depths: tuple[float, ...] = setting((0.25, 0.5, 1.0), help="Correct from checkpoints at these fractions of the "
                                                               "epoch.")
    max_counter: int = setting(64, help="Most counter-examples per fact.")
    ce_per_step: int = setting(1, help="Counter-examples per fact in one optimiser step.")
    correction_lr: float = setting(1e-4, help="AdamW learning rate of the correction.")
    rebound_depth: float | None = setting(0.5, help="Depth whose correction is followed by the rest of pretraining "
                                                    "(rebound); 0 to skip.")
    world: WorldConfig = nested(WorldConfig, lambda: WorldConfig(filler_docs=8000, placements=("spread",)))
    train: TrainConfig = nested(TrainConfig, lambda: TrainConfig(batch_size=16))
    save_checkpoints: bool = setting(True, help="Save model checkpoints.")
    tokens_per_param: float | None = setting(None, help="Scale each size's world (its filler) so one epoch is about "
                                                        "this many tokens per non-embedding parameter (e.g. 20).")
    width_lr: bool = setting(False, flag="--width-lr/--no-width-lr",
                             help="Scale the pretraining and correction learning rates by 64 / width (the rates "
                                  "given are those of width 64, size s), as muP's hidden-layer rule.")

    def validate(self) -> "InertiaConfig":
        if not self.seeds or not self.sizes or not self.depths:
            raise ValueError("need at least one seed, size and depth")
        if any(not 0 < d <= 1 for d in self.depths):
            raise ValueError(f"depths must be in (0, 1], got {self.depths}")
        if self.rebound_depth is not None and self.rebound_depth not in self.depths:
            raise ValueError(f"rebound_depth {self.rebound_depth} must be one of the depths {self.depths}")
        if self.rebound_depth == 1.0:
            raise ValueError("rebound_depth must be < 1 (pretraining has to have data left to resume)")
        if self.max_counter < 1 or self.ce_per_step < 1:
            raise ValueError("max_counter and ce_per_step must be >= 1")
        if self.tokens_per_param is not None and self.tokens_per_param <= 0:
            raise ValueError("tokens_per_param must be > 0")
        for s in self.sizes:
            replace(self.train, size=s).validate()
        self.world.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lr_scale(self, size: str) -> float:
        """The learning-rate multiplier of ``size`` (1 unless ``width_lr``)."""
        return 64 / SIZES[size]["n_embd"] if self.width_lr else 1.0


def world_for(cfg: InertiaConfig, seed: int, size: str) -> tuple[World, Any, Any]:
    """The seed's world, tokenizer and packed rows; with ``tokens_per_param`` the filler is scaled so
    one epoch is about that many tokens per non-embedding parameter of ``size``."""
    wcfg = replace(cfg.world, seed=seed)
    world = generate(wcfg)
    tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
    packed = pack(encode(tok, world.texts()), cfg.train.ctx)
    if cfg.tokens_per_param is None:
        return world, tok, packed
    target = cfg.tokens_per_param * ScratchLM(tok, replace(cfg.train, size=size)).n_nonembedding_params()
    filler_tokens = sum(len(x) + 1 for d, x in zip(world.docs, encode(tok, world.texts())) if d["source"] == "filler")
    fixed = packed.tokens() - filler_tokens
    per_filler = filler_tokens / max(1, wcfg.filler_docs)
    need = max(0, round((target - fixed) / per_filler)) if per_filler else wcfg.filler_docs
    world = generate(replace(wcfg, filler_docs=need))
    tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
    return world, tok, pack(encode(tok, world.texts()), cfg.train.ctx)


def fit_power(exposure: Sequence[float], r: Sequence[float]) -> tuple[float, float]:
    """OLS fit of log r = log a + gamma log exposure; returns (gamma, a). NaN without two distinct exposures."""
    x = np.log(np.asarray(exposure, dtype=float))
    y = np.log(np.asarray(r, dtype=float))
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    gamma, intercept = np.polyfit(x, y, 1)
    return float(gamma), float(math.exp(intercept))


def doses(max_counter: int, ce_per_step: int) -> list[int]:
    """Dose grid (counter-examples per fact) reachable with ``ce_per_step`` per step."""
    grid = [d for d in DOSE_GRID if d <= max_counter and d % ce_per_step == 0]
    if not grid or grid[-1] != max_counter:
        grid.append(max_counter - max_counter % ce_per_step or ce_per_step)
    return sorted(set(grid))


def counter_batch(facts: Sequence[Fact], tok, per_fact: int, rng: random.Random) -> np.ndarray:
    """One step of counter-examples: ``per_fact`` statements of each fact's new answer, one a row."""
    texts = [fact_statement(TRAIN_TEMPLATES[rng.randrange(len(TRAIN_TEMPLATES))], f.country, f.new)
             for f in facts for _ in range(per_fact)]
    ids = encode(tok, texts)
    L = max(len(x) for x in ids) + 2
    arr = np.full((len(ids), L), PAD, dtype=np.int64)
    for r, x in enumerate(ids):
        arr[r, :len(x) + 2] = [EOS] + x + [EOS]
    return arr


def _efficacies(lm: ScratchLM, facts: Sequence[Fact]) -> dict[str, dict[str, list[float]]]:
    out = {}
    for name, tpls in PROMPT_SETS.items():
        ps = pair_scores(lm, facts, tpls)
        out[name] = {"efficacy": ps.efficacy().tolist(), "margin": ps.margin().tolist()}
    return out


def correct(lm: ScratchLM, facts: Sequence[Fact], cfg: InertiaConfig, seed: int) -> dict[str, Any]:
    """Counter-example dose-response of every fact (mutates ``lm``). Returns curves and r50 per fact."""
    grid = doses(cfg.max_counter, cfg.ce_per_step)
    rng = random.Random(seed * 7919 + 17)
    opt = make_optimizer(lm, cfg.correction_lr, cfg.train.weight_decay)
    curves: dict[str, list[list[float]]] = {name: [] for name in PROMPT_SETS}
    prior = _efficacies(lm, facts)
    given = 0
    for d in grid:
        n_steps = max(0, -(-(d - given) // cfg.ce_per_step))  # ce_per_step counter-examples a step, up to d
        fit(lm, opt, (counter_batch(facts, lm.tok, cfg.ce_per_step, rng) for _ in range(n_steps)),
            cfg.correction_lr, cfg.train.clip)
        given += n_steps * cfg.ce_per_step
        eff = _efficacies(lm, facts)
        for name in PROMPT_SETS:
            curves[name].append(eff[name]["efficacy"])
    per_fact = []
    for i, f in enumerate(facts):
        rec: dict[str, Any] = {"country": f.country, "tier": f.tier, "placement": f.placement}
        for name in PROMPT_SETS:
            ys = [curves[name][k][i] for k in range(len(grid))]
            r = metrics.r50(grid, ys)
            value = r.value if r.status == "interpolated" else (1.0 if r.status == "below_range" else float(cfg.max_counter))
            rec[name] = {"prior_efficacy": prior[name]["efficacy"][i], "prior_margin": prior[name]["margin"][i],
                         "known": prior[name]["efficacy"][i] < 0.5, "curve": ys, "r50": value, "r50_status": r.status,
                         "final_efficacy": ys[-1]}
        per_fact.append(rec)
    return {"doses": grid, "facts": per_fact}


def exposures_seen(world: World, row_of_doc: np.ndarray, rows_seen: int) -> list[int]:
    """Per fact: documents stating it that lie in the first ``rows_seen`` training rows."""
    return [int(sum(1 for p in f.positions if row_of_doc[p] < rows_seen)) for f in world.facts]


def _gamma_for(facts: list[dict], name: str) -> dict[str, Any]:
    known = [r for r in facts if r[name]["known"] and r["exposure"] > 0]
    g, a = fit_power([r["exposure"] for r in known], [r[name]["r50"] for r in known])
    statuses = [r[name]["r50_status"] for r in known]
    return {"gamma": g, "a": a, "n_known": len(known), "n_facts": len(facts),
            "censored_low": statuses.count("below_range"), "censored_high": statuses.count("above_range")}


def run_seed(seed: int, size: str, cfg: InertiaConfig, out: Path | None,
             log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    t0 = time.perf_counter()
    world, tok, packed = world_for(cfg, seed, size)
    tcfg = replace(cfg.train, size=size, lr=cfg.train.lr * cfg.lr_scale(size))
    lm = ScratchLM(tok, tcfg, seed=seed)
    per_epoch = steps_per_epoch(packed.rows, tcfg.batch_size)
    marks = {d: max(1, round(d * per_epoch)) for d in cfg.depths}
    snaps: dict[int, ScratchLM] = {}

    def on_ckpt(step: int, model: ScratchLM) -> None:
        snaps[step] = model.clone()
        if out is not None and cfg.save_checkpoints:
            model.save(out / "checkpoints" / f"seed{seed}-{size}" / f"step{step}")

    tlog = train(lm, packed.rows, per_epoch, checkpoints=sorted(marks.values()), on_checkpoint=on_ckpt)
    log(f"seed {seed} size {size}: pretrained {per_epoch} steps ({tlog.tokens} tokens, "
        f"{lm.n_params() / 1e6:.2f}M params) in {time.perf_counter() - t0:.0f} s, final loss {np.mean(tlog.losses[-20:]):.3f}")
    res: dict[str, Any] = {"seed": seed, "size": size, "n_params": lm.n_params(),
                           "n_nonembedding_params": lm.n_nonembedding_params(), "steps_per_epoch": per_epoch,
                           "tokens_per_epoch": packed.tokens(), "final_loss": float(np.mean(tlog.losses[-20:])),
                           "tokens_per_param": packed.tokens() / lm.n_nonembedding_params(), "lr": tcfg.lr,
                           "correction_lr": cfg.correction_lr * cfg.lr_scale(size), "filler_docs": world.config.filler_docs,
                           "depths": []}
    for depth in sorted(cfg.depths):
        step = marks[depth]
        seen = exposures_seen(world, packed.row_of_doc, step * tcfg.batch_size)
        model = snaps[step].clone()
        corr = correct(model, world.facts, replace(cfg, correction_lr=cfg.correction_lr * cfg.lr_scale(size)), seed)
        for rec, e in zip(corr["facts"], seen):
            rec["exposure"] = e
        entry = {"depth": depth, "step": step, "doses": corr["doses"], "facts": corr["facts"],
                 "fit": {name: _gamma_for(corr["facts"], name) for name in PROMPT_SETS}}
        if cfg.rebound_depth is not None and depth == cfg.rebound_depth:
            entry["rebound"] = rebound(model, world, packed, step, tcfg, corr["facts"])
        res["depths"].append(entry)
        log(f"seed {seed} size {size} depth {depth}: gamma heldout {entry['fit']['heldout']['gamma']:.2f} "
            f"(n={entry['fit']['heldout']['n_known']}), train {entry['fit']['train']['gamma']:.2f} "
            f"(n={entry['fit']['train']['n_known']})")
    res["seconds"] = time.perf_counter() - t0
    return res


def rebound(model: ScratchLM, world: World, packed, step: int, tcfg: TrainConfig,
            corrected: list[dict]) -> dict[str, Any]:
    """Resume pretraining on the rest of the epoch after the correction; who falls back to the old answer."""
    start = step * tcfg.batch_size
    rest = packed.rows[start:]
    before = _efficacies(model, world.facts)
    train(model, rest, steps_per_epoch(rest, tcfg.batch_size))
    after = _efficacies(model, world.facts)
    total_seen = exposures_seen(world, packed.row_of_doc, packed.n_rows)
    seen_now = exposures_seen(world, packed.row_of_doc, start)
    out = []
    for i, f in enumerate(world.facts):
        rec = {"country": f.country, "tier": f.tier, "resumed_exposures": total_seen[i] - seen_now[i]}
        for name in PROMPT_SETS:
            b, a = before[name]["efficacy"][i], after[name]["efficacy"][i]
            rec[name] = {"before": b, "after": a, "flipped": b >= 0.5, "reverted": b >= 0.5 and a < 0.5,
                         "known": corrected[i][name]["known"]}
        out.append(rec)
    return {"resumed_steps": steps_per_epoch(rest, tcfg.batch_size), "facts": out}


def _by_placement(entries: list[dict], tier: int, name: str) -> dict[str, Any]:
    """Per placement: geometric-mean r50 of the known facts of ``tier`` (CI over seeds) and the share known."""
    out = {}
    for pl in sorted({f["placement"] for e in entries for f in e["facts"]}):
        per_seed, known = [], []
        for e in entries:
            fs = [f for f in e["facts"] if f["tier"] == tier and f["placement"] == pl]
            kn = [f for f in fs if f[name]["known"]]
            if fs:
                known.append(len(kn) / len(fs))
            if kn:
                per_seed.append(float(np.exp(np.mean([math.log(f[name]["r50"]) for f in kn]))))
        out[pl] = {"r50_geomean": metrics.mean_ci(per_seed, method="bootstrap").to_dict(),
                   "known_share": metrics.mean_ci(known, method="bootstrap").to_dict()}
    return out


def summarize(runs: list[dict[str, Any]], cfg: InertiaConfig) -> dict[str, Any]:
    """Gamma with bootstrap CIs over seeds, r50 per tier, depth and size effects, rebound per tier."""
    def ci(vals):
        return metrics.mean_ci([v for v in vals if v is not None and math.isfinite(v)], method="bootstrap").to_dict()

    from curadebt.lab.censored import compare

    summary: dict[str, Any] = {"gamma": {}, "censored": {}, "r50_by_tier": {}, "rebound_by_tier": {}}
    tiers = sorted(set(cfg.world.tiers))
    # the margin at which sizes are compared: the median prior margin of the known facts, all sizes pooled
    ref_margin = {(depth, name): float(np.median([f[name]["prior_margin"] for r in runs for d in r["depths"]
                                                  if d["depth"] == depth for f in d["facts"] if f[name]["known"]] or [0.0]))
                  for depth in cfg.depths for name in PROMPT_SETS}
    for size in cfg.sizes:
        for depth in sorted(cfg.depths):
            entries = [d for r in runs if r["size"] == size for d in r["depths"] if d["depth"] == depth]
            key = f"{size}@{depth:g}"
            summary["gamma"][key] = {}
            summary["censored"][key] = {}
            summary["r50_by_tier"][key] = {}
            for name in PROMPT_SETS:
                groups = [[{"exposure": f["exposure"], "r50": f[name]["r50"], "r50_status": f[name]["r50_status"],
                            "prior_margin": f[name]["prior_margin"]}
                           for f in e["facts"] if f[name]["known"] and f["exposure"] > 0] for e in entries]
                summary["censored"][key][name] = compare(groups, lo=1.0, hi=float(cfg.max_counter),
                                                         at=(REFERENCE_EXPOSURE, ref_margin[(depth, name)]))
                gs = [e["fit"][name]["gamma"] for e in entries]
                summary["gamma"][key][name] = {**ci(gs), "per_seed": gs,
                                               "n_known": [e["fit"][name]["n_known"] for e in entries],
                                               "censored_low": sum(e["fit"][name]["censored_low"] for e in entries),
                                               "censored_high": sum(e["fit"][name]["censored_high"] for e in entries)}
                by_tier = {}
                for t in tiers:
                    per_seed = []
                    known_share = []
                    for e in entries:
                        fs = [f for f in e["facts"] if f["tier"] == t]
                        kn = [f for f in fs if f[name]["known"]]
                        known_share.append(len(kn) / len(fs) if fs else float("nan"))
                        if kn:
                            per_seed.append(float(np.exp(np.mean([math.log(f[name]["r50"]) for f in kn]))))
                    by_tier[str(t)] = {"r50_geomean": ci(per_seed), "known_share": ci(known_share)}
                    if len(set(cfg.world.placements)) > 1:
                        by_tier[str(t)]["by_placement"] = _by_placement(entries, t, name)
                summary["r50_by_tier"][key][name] = by_tier
            reb = [e["rebound"] for e in entries if "rebound" in e]
            if reb:
                summary["rebound_by_tier"][key] = {}
                for name in PROMPT_SETS:
                    by_tier = {}
                    for t in tiers:
                        shares = []
                        for rb in reb:
                            fl = [f for f in rb["facts"] if f["tier"] == t and f[name]["flipped"]]
                            if fl:
                                shares.append(sum(f[name]["reverted"] for f in fl) / len(fl))
                        by_tier[str(t)] = {"reverted_share": ci(shares)}
                    summary["rebound_by_tier"][key][name] = by_tier
    summary["scale"] = {size: {"tokens_per_param": ci([r["tokens_per_param"] for r in runs if r["size"] == size
                                                        and "tokens_per_param" in r]),
                               "lr": next((r["lr"] for r in runs if r["size"] == size and "lr" in r), None),
                               "n_nonembedding_params": next(r["n_nonembedding_params"] for r in runs if r["size"] == size)}
                        for size in cfg.sizes}
    return summary


def run_inertia(cfg: InertiaConfig, out: Path | None = None, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    cfg.validate()
    runs = []
    for seed in cfg.seeds:
        for size in cfg.sizes:
            runs.append(run_seed(seed, size, cfg, out, log))
    timing = {"seconds_per_run": [r.pop("seconds") for r in runs]}
    return {"experiment": "inertia", "config": cfg.to_dict(), "runs": runs, "summary": summarize(runs, cfg),
            "timing": timing}


EXPERIMENT = Experiment(name="inertia", title="Inertia: cost of correcting a fact against its exposure",
                        config=InertiaConfig, run=run_inertia, markdown=SR.inertia_markdown, plot=SR.inertia_plot)
