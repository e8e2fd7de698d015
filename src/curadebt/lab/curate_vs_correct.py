"""``lab curate-vs-correct``: curate the data first, or fix the model later, at matched compute?

Per seed, one world (facts at exposure tiers, :mod:`curadebt.worlds.facts`) and three arms, all the same
tiny GPT trained from scratch for the same number of optimiser steps ``S`` (one epoch of the raw
corpus; the compute is 6 N D with N the non-embedding parameters and D the tokens trained on):

(a) ``raw``: the raw corpus in its order;
(b) ``curated``: the corpus after ``curadebt curate`` with the default recipe (the Python API
    :func:`curadebt.curate`), cycled until ``S`` steps;
(c) ``raw+fix``: the raw model, then fine-tuning on ``fix_statements`` true statements (training
    phrasings) of every fact it gets wrong on the probe phrasings, mixed 1:1 with raw rows
    (replay); its compute is the raw run's plus the fine-tuning's.

Checkpoints at ``fractions`` of ``S`` give each arm a curve. At every point: multiple-choice accuracy
(the true capital against every fact's capital) on held-out paraphrases, in head / torso / tail
bins of exposure tiers, and the held-out loss on documents of another world (another seed).
CIs: percentile bootstrap over seeds.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.lab import metrics
from curadebt.lab.fact_eval import choice_accuracy
from curadebt.lab.scratch import (EOS, PAD, ScratchLM, TrainConfig, encode, flops, make_optimizer, mean_nll, pack,
                                  fit, steps_per_epoch, train, train_tokenizer)
from curadebt.worlds.facts import EVAL_TEMPLATES, TRAIN_TEMPLATES, World, WorldConfig, fact_statement, generate
from curadebt.lab import scratch_report as SR
from curadebt.lab.experiment import Experiment

ARMS = ("raw", "curated", "raw+fix")


@dataclass
class CvcConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), help="Seeds; each is a new world, tokenizer and models.")
    fractions: tuple[float, ...] = setting((0.25, 0.5, 0.75, 1.0), help="Checkpoints (fractions of the raw epoch) "
                                                                        "on each curve.")
    head: tuple[int, ...] = setting((256, 1024), help="Exposure tiers of the head facts.")
    tail: tuple[int, ...] = setting((1, 4), help="Exposure tiers of the tail facts.")
    fix_statements: int = setting(16, help="True statements per wrong fact in the fix.")
    fix_lr: float = setting(1e-3, help="AdamW learning rate of the fix.")
    probe_templates: int = setting(4, help="The first k training phrasings find the facts to fix.")
    heldout_docs: int = setting(1500, help="Held-out documents for the loss.")
    world: WorldConfig = nested(WorldConfig, lambda: WorldConfig(filler_docs=4000, placements=("spread",)))
    train: TrainConfig = nested(TrainConfig, lambda: TrainConfig(batch_size=16))

    def validate(self) -> "CvcConfig":
        if not self.seeds or not self.fractions or any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError("need seeds and fractions in (0, 1]")
        if self.fix_statements < 1 or self.fix_lr <= 0:
            raise ValueError("fix_statements must be >= 1 and fix_lr > 0")
        if not 1 <= self.probe_templates <= len(TRAIN_TEMPLATES):
            raise ValueError(f"probe_templates must be in [1, {len(TRAIN_TEMPLATES)}]")
        self.world.validate()
        self.train.validate()
        return self

    def bin_of(self, tier: int) -> str:
        return "head" if tier in self.head else "tail" if tier in self.tail else "torso"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def curate_world(world: World, workdir: Path) -> tuple[list[str], dict[str, Any]]:
    """Run ``curadebt curate`` (default recipe) on the world's corpus; returns the kept texts in output
    order and a summary (reconciliation, per-op counts, per-fact exposures after curation)."""
    import json

    from curadebt.curation.runner import curate

    path = world.write(workdir / "raw")
    res = curate(str(path), workdir / "curated", progress=False)
    texts = []
    for shard in res.files["shards"]:
        with open(workdir / "curated" / shard, encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    ops = [{"op": o.op, "ran": o.ran, "documents_in": o.documents_in, "documents_out": o.documents_out,
            "dropped": o.dropped} for o in res.operations]
    return texts, {"reconciliation": res.reconciliation, "ops": ops}


def statements_left(texts: list[str], world: World) -> list[int]:
    """Per fact: documents in ``texts`` stating it (with any training phrasing)."""
    stmts = [[fact_statement(t, f.country, f.capital) for t in TRAIN_TEMPLATES] for f in world.facts]
    out = [0] * len(world.facts)
    for x in texts:
        for i, ss in enumerate(stmts):
            if any(s in x for s in ss):
                out[i] += 1
    return out


def fix_rows(world: World, wrong: list[int], n: int, tok, raw_rows: np.ndarray, rng: random.Random) -> np.ndarray:
    """Fine-tuning rows: ``n`` true statements of each wrong fact plus as many raw rows (replay), shuffled."""
    texts = [fact_statement(TRAIN_TEMPLATES[rng.randrange(len(TRAIN_TEMPLATES))], world.facts[i].country,
                            world.facts[i].capital) for i in wrong for _ in range(n)]
    ids = encode(tok, texts)
    ctx = raw_rows.shape[1]
    rows = np.full((len(ids), ctx), PAD, dtype=np.int64)
    for r, x in enumerate(ids):
        rows[r, :len(x) + 2] = [EOS] + x + [EOS]
    replay = raw_rows[[rng.randrange(raw_rows.shape[0]) for _ in range(len(ids))]]
    allr = np.concatenate([rows, replay]) if len(ids) else rows
    order = list(range(allr.shape[0]))
    rng.shuffle(order)
    return allr[order]


def tokens_by_step(rows: np.ndarray, batch_size: int, steps: int) -> np.ndarray:
    """Cumulative non-padding tokens after each step (index = steps done) when cycling ``rows``."""
    per_epoch = steps_per_epoch(rows, batch_size)
    per_batch = [int((rows[i * batch_size:(i + 1) * batch_size] != PAD).sum()) for i in range(per_epoch)]
    return np.cumsum([0] + [per_batch[i % per_epoch] for i in range(steps)])


def evaluate(lm: ScratchLM, world: World, cfg: CvcConfig, heldout_rows: np.ndarray) -> dict[str, Any]:
    acc_h = choice_accuracy(lm, world.facts, EVAL_TEMPLATES)
    acc_t = choice_accuracy(lm, world.facts, TRAIN_TEMPLATES[:cfg.probe_templates])
    bins: dict[str, Any] = {}
    for b in ("head", "torso", "tail"):
        idx = [i for i, f in enumerate(world.facts) if cfg.bin_of(f.tier) == b]
        bins[b] = {"heldout": float(np.mean(acc_h[idx])) if idx else float("nan"),
                   "train": float(np.mean(acc_t[idx])) if idx else float("nan")}
    return {"accuracy": bins, "heldout_loss": mean_nll(lm, heldout_rows), "per_fact_heldout": acc_h.tolist(),
            "per_fact_train": acc_t.tolist()}


def run_seed(seed: int, cfg: CvcConfig, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    t0 = time.perf_counter()
    world = generate(replace(cfg.world, seed=seed))
    cur_texts, cur_info = curate_world(world, workdir / f"seed{seed}")
    tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
    raw = pack(encode(tok, world.texts()), cfg.train.ctx)
    cur = pack(encode(tok, cur_texts), cfg.train.ctx)
    hw = generate(replace(cfg.world, seed=seed + 10_000))
    rng = random.Random(seed)
    held_texts = [d["text"] for d in rng.sample(hw.docs, min(cfg.heldout_docs, len(hw.docs)))]
    held = pack(encode(tok, held_texts), cfg.train.ctx).rows
    S = steps_per_epoch(raw.rows, cfg.train.batch_size)
    marks = sorted({max(1, round(f * S)) for f in cfg.fractions})
    frac_of = {max(1, round(f * S)): f for f in sorted(cfg.fractions)}
    points: list[dict[str, Any]] = []
    left = statements_left(cur_texts, world)
    log(f"seed {seed}: curated {len(world.docs)} -> {len(cur_texts)} documents; raw {raw.n_rows} rows, "
        f"curated {cur.n_rows} rows; {S} steps per arm")

    n_params = None
    for arm, rows in (("raw", raw.rows), ("curated", cur.rows)):
        lm = ScratchLM(tok, cfg.train, seed=seed)
        n_params = lm.n_nonembedding_params()
        snaps: dict[int, ScratchLM] = {}
        tlog = train(lm, rows, S, checkpoints=marks,
                     on_checkpoint=lambda step, model, _s=snaps: _s.__setitem__(step, model.clone()))
        cum = tokens_by_step(rows, cfg.train.batch_size, S)
        for step in marks:
            model = snaps[step]
            tokens = int(cum[step])
            ev = evaluate(model, world, cfg, held)
            points.append({"arm": arm, "fraction": frac_of[step], "step": step, "tokens": tokens,
                           "flops": flops(n_params, tokens), **ev})
            if arm == "raw":
                # (c) fix later: fine-tune this checkpoint on the facts it gets wrong
                wrong = [i for i, a in enumerate(ev["per_fact_train"]) if a < 0.5]
                fixed = model.clone()
                frows = fix_rows(world, wrong, cfg.fix_statements, tok, raw.rows, random.Random(seed * 31 + step))
                ft_tokens = 0
                if frows.shape[0]:
                    opt = make_optimizer(fixed, cfg.fix_lr, cfg.train.weight_decay)
                    bs = cfg.train.batch_size
                    ft_tokens = fit(fixed, opt, (frows[b:b + bs] for b in range(0, frows.shape[0], bs)),
                                    cfg.fix_lr, cfg.train.clip).tokens
                ev2 = evaluate(fixed, world, cfg, held)
                points.append({"arm": "raw+fix", "fraction": frac_of[step], "step": step, "tokens": tokens + ft_tokens,
                               "flops": flops(n_params, tokens + ft_tokens), "fixed_facts": len(wrong),
                               "fix_tokens": ft_tokens, **ev2})
        log(f"seed {seed} {arm}: final loss {np.mean(tlog.losses[-20:]):.3f}")
    for p in points:
        p.pop("per_fact_train")
    return {"seed": seed, "steps": S, "n_nonembedding_params": n_params, "raw_docs": len(world.docs),
            "curated_docs": len(cur_texts), "raw_rows": raw.n_rows, "curated_rows": cur.n_rows,
            "curated_epochs": S / steps_per_epoch(cur.rows, cfg.train.batch_size),
            "exposures": [{"country": f.country, "tier": f.tier, "raw": f.exposures, "curated": n}
                          for f, n in zip(world.facts, left)],
            "curate": cur_info, "points": points, "seconds": time.perf_counter() - t0}


def summarize(runs: list[dict[str, Any]], cfg: CvcConfig) -> dict[str, Any]:
    def ci(vals):
        return metrics.mean_ci([v for v in vals if v is not None and math.isfinite(v)], method="bootstrap").to_dict()

    out: dict[str, Any] = {}
    for arm in ARMS:
        for frac in sorted(cfg.fractions):
            # seeds differ in steps per epoch by a few, so points are matched by fraction, not step
            pts = [p for r in runs for p in r["points"] if p["arm"] == arm and p["fraction"] == frac]
            if not pts:
                continue
            key = f"{arm}@{frac:g}"
            out[key] = {"flops": ci([p["flops"] for p in pts]), "heldout_loss": ci([p["heldout_loss"] for p in pts])}
            for b in ("head", "torso", "tail"):
                out[key][f"{b}_acc"] = ci([p["accuracy"][b]["heldout"] for p in pts])
                out[key][f"{b}_acc_train_phrasing"] = ci([p["accuracy"][b]["train"] for p in pts])
    tiers = sorted(set(cfg.world.tiers))
    kept = {}
    for t in tiers:
        vals = [e["curated"] / e["raw"] for r in runs for e in r["exposures"] if e["tier"] == t]
        kept[str(t)] = ci(vals)
    return {"points": out, "curated_exposure_share_by_tier": kept,
            "curated_docs_share": ci([r["curated_docs"] / r["raw_docs"] for r in runs]),
            "curated_epochs": ci([r["curated_epochs"] for r in runs])}


def run_cvc(cfg: CvcConfig, workdir: Path, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    cfg.validate()
    t0 = time.perf_counter()
    runs = [run_seed(s, cfg, Path(workdir), log) for s in cfg.seeds]
    timing = {"seconds_per_seed": [r.pop("seconds") for r in runs], "wall_seconds": time.perf_counter() - t0}
    return {"experiment": "curate_vs_correct", "config": cfg.to_dict(), "runs": runs, "summary": summarize(runs, cfg),
            "timing": timing}


EXPERIMENT = Experiment(name="curate_vs_correct", title="Curate first vs fix later", config=CvcConfig,
                        run=lambda cfg, out, log: run_cvc(cfg, Path(out) / "work", log=log),
                        markdown=SR.cvc_markdown, plot=SR.cvc_plot)
