"""``lab salience``: does an over-represented entity make its first-name token salient elsewhere?

For each ``m`` (Tom Cruise in ``m`` x as many documents as any other person, the extra documents
replacing filler so every world has the same number of documents) and each seed, a tiny GPT is trained
from scratch and probed with held-out contexts (never in the corpus):

- ``p_tom``: P(" Tom") at a generic first-name slot ("The prize this year went to ..."), mean over
  prompts;
- the first-name distribution at that slot, restricted to the world's first names and renormalised:
  ``tom_share`` (its mass on Tom), ``entropy`` (bits) and ``kl_vs_balanced`` (KL(P_m || P_1) in bits,
  P_1 the m = 1 model of the same seed, mean over prompts; its noise floor is the KL between m = 1
  models of two different seeds, ``kl_floor_between_balanced_seeds``);
- ``p_cruise``: P(" Cruise") right after "Tom" in contexts about *other* Toms ("Tom Hanks is a chef
  from Porto. Later that year, Tom"), and ``cruise_wins``: the share of those contexts where
  " Cruise" beats the person's own surname; ``p_true_surname``: P(the person's own surname) there;
- priming (salience beyond frequency, Sun et al. 2025, arXiv 2504.09522): ``p_tom_unrelated`` and
  ``p_cruise_unrelated``, P(" Tom") and P(" Cruise") after held-out contexts unrelated to people
  ("The lentil soup tasted better than"), and ``tom_priming_ratio``, ``p_tom_unrelated`` over the
  m = 1 model's of the same seed; ``tom_share_excess``: ``tom_share`` minus Tom's share of the
  person documents in the data (what the model gives Tom beyond what the data does).

CIs: percentile bootstrap over seeds (:func:`curadebt.lab.metrics.mean_ci`).
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from curadebt.core.config import nested, setting
from curadebt.lab import metrics
from curadebt.lab.scratch import ScratchLM, TrainConfig, encode, pack, score, steps_per_epoch, train, train_tokenizer
from curadebt.worlds.facts import (FIRST_NAMES, NAME_SLOT_PROMPTS, NEW_CITIES, STAR, SURNAME_CONTEXTS,
                                   UNRELATED_PROMPTS, WorldConfig, generate)
from curadebt.lab import scratch_report as SR
from curadebt.lab.experiment import Experiment

METRICS = ("p_tom", "tom_share", "tom_share_excess", "entropy", "kl_vs_balanced", "p_cruise", "cruise_wins",
           "p_true_surname", "p_tom_unrelated", "p_cruise_unrelated", "tom_priming_ratio")


def entropy_bits(p: Sequence[float]) -> float:
    """Shannon entropy in bits of a distribution (normalised first)."""
    q = np.asarray(p, dtype=float)
    q = q / q.sum()
    nz = q[q > 0]
    return float(-(nz * np.log2(nz)).sum())


def kl_bits(p: Sequence[float], q: Sequence[float]) -> float:
    """KL(p || q) in bits (both normalised first); inf where q is 0 and p is not."""
    a = np.asarray(p, dtype=float)
    b = np.asarray(q, dtype=float)
    a, b = a / a.sum(), b / b.sum()
    m = a > 0
    if (b[m] == 0).any():
        return float("inf")
    return float((a[m] * np.log2(a[m] / b[m])).sum())


def softmax_rows(logp: np.ndarray) -> np.ndarray:
    z = logp - logp.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class SalienceConfig:
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), help="Seeds; each is a new world, tokenizer and model.")
    ms: tuple[int, ...] = setting((1, 10, 100), help="Over-representation factors of Tom Cruise (must include 1).")
    prompts_per_template: int = setting(4, help="Held-out prompts per template.")
    world: WorldConfig = nested(WorldConfig, lambda: WorldConfig(tiers=(), facts_per_tier=0, filler_docs=4000,
                                                                 people_per_first=5, docs_per_person=6))
    train: TrainConfig = nested(TrainConfig, lambda: TrainConfig(batch_size=16))

    def validate(self) -> "SalienceConfig":
        if not self.seeds or not self.ms:
            raise ValueError("need at least one seed and one m")
        if any(m < 1 for m in self.ms):
            raise ValueError(f"m must be >= 1, got {self.ms}")
        if 1 not in self.ms:
            raise ValueError("ms must include 1 (the balanced reference for the KL)")
        for m in self.ms:
            replace(self.world, tom_m=m).validate()
        self.train.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slot_prompts(n_per_template: int, seed: int = 12345) -> list[str]:
    """Held-out first-name-slot prompts, filled from a fixed generator (the same for every model)."""
    from curadebt.worlds.vocabulary import MONTHS, ORGS, PROFESSIONS, TOPICS

    rng = random.Random(seed)
    out = []
    for t in NAME_SLOT_PROMPTS:
        for _ in range(n_per_template):
            out.append(t.format(org=rng.choice(ORGS), city=rng.choice(NEW_CITIES), profession=rng.choice(PROFESSIONS),
                                topic=rng.choice(TOPICS), month=rng.choice(MONTHS)))
    return out


def surname_prompts(people: Sequence[tuple[str, str]], seed: int = 54321) -> list[tuple[str, str]]:
    """(prompt ending in "Tom", true surname) for every Tom other than the star, every context."""
    from curadebt.worlds.vocabulary import ORGS, PROFESSIONS

    rng = random.Random(seed)
    out = []
    for first, last in people:
        if first != STAR[0] or (first, last) == STAR:
            continue
        for t in SURNAME_CONTEXTS:
            out.append((t.format(first=first, last=last, profession=rng.choice(PROFESSIONS),
                                 city=rng.choice(NEW_CITIES), org=rng.choice(ORGS)), last))
    return out


def unrelated_prompts(n_per_template: int, seed: int = 999) -> list[str]:
    """Held-out contexts unrelated to people, filled from a fixed generator (the same for every model)."""
    from curadebt.worlds.vocabulary import DISHES, GOODS, MONTHS, PRODUCTS

    rng = random.Random(seed)
    return [t.format(dish=rng.choice(DISHES), city=rng.choice(NEW_CITIES), good=rng.choice(GOODS),
                     product=rng.choice(PRODUCTS), month=rng.choice(MONTHS))
            for t in UNRELATED_PROMPTS for _ in range(n_per_template)]


def probe(lm: ScratchLM, people: Sequence[tuple[str, str]], n_per_template: int) -> dict[str, Any]:
    prompts = slot_prompts(n_per_template)
    names = list(FIRST_NAMES)
    lp = score(lm, [p for p in prompts for _ in names], [n for _ in prompts for n in names]).reshape(len(prompts), len(names))
    dist = softmax_rows(lp)
    ti = names.index(STAR[0])
    sp = surname_prompts(people)
    lp_c = score(lm, [p for p, _ in sp], [STAR[1]] * len(sp))
    lp_t = score(lm, [p for p, _ in sp], [s for _, s in sp])
    up = unrelated_prompts(n_per_template)
    lp_ut = score(lm, up, [STAR[0]] * len(up))
    lp_uc = score(lm, up, [STAR[1]] * len(up))
    return {"p_tom": float(np.exp(lp[:, ti]).mean()), "tom_share": float(dist[:, ti].mean()),
            "entropy": float(np.mean([entropy_bits(d) for d in dist])), "first_name_dist": dist.tolist(),
            "p_cruise": float(np.exp(lp_c).mean()), "cruise_wins": float((lp_c > lp_t).mean()),
            "p_true_surname": float(np.exp(lp_t).mean()),
            "p_tom_unrelated": float(np.exp(lp_ut).mean()), "p_cruise_unrelated": float(np.exp(lp_uc).mean()),
            "n_slot_prompts": len(prompts), "n_surname_prompts": len(sp), "n_unrelated_prompts": len(up)}


def data_share(world) -> dict[str, float]:
    """Data-side counts: the share of person mentions whose first name is Tom, and Tom Cruise's share of them."""
    people_docs = [d for d in world.docs if d["source"] == "people"]
    tom = [d for d in people_docs if world.people[d["meta"]["person"]][0] == STAR[0]]
    star = [d for d in tom if world.people[d["meta"]["person"]] == STAR]
    return {"tom_share_of_person_docs": len(tom) / len(people_docs),
            "star_share_of_tom_docs": len(star) / len(tom) if tom else float("nan")}


def run_salience(cfg: SalienceConfig, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    cfg.validate()
    runs = []
    balanced: list[np.ndarray] = []
    t0 = time.perf_counter()
    for seed in cfg.seeds:
        ref, ref_unrelated = None, float("nan")
        for m in sorted(cfg.ms):
            t1 = time.perf_counter()
            world = generate(replace(cfg.world, seed=seed, tom_m=m))
            tok = train_tokenizer(world.texts(), cfg.train.vocab_size)
            packed = pack(encode(tok, world.texts()), cfg.train.ctx)
            lm = ScratchLM(tok, cfg.train, seed=seed)
            tlog = train(lm, packed.rows, steps_per_epoch(packed.rows, cfg.train.batch_size))
            res = probe(lm, world.people, cfg.prompts_per_template)
            dist = np.asarray(res.pop("first_name_dist"))
            if m == 1:
                ref = dist
                ref_unrelated = res["p_tom_unrelated"]
                balanced.append(dist)
            res["kl_vs_balanced"] = float(np.mean([kl_bits(a, b) for a, b in zip(dist, ref)]))
            res["tom_priming_ratio"] = res["p_tom_unrelated"] / ref_unrelated
            res.update({"seed": seed, "m": m, "steps": tlog.steps, "tokens": tlog.tokens,
                        "final_loss": float(np.mean(tlog.losses[-20:])), **data_share(world)})
            res["tom_share_excess"] = res["tom_share"] - res["tom_share_of_person_docs"]
            runs.append(res)
            log(f"seed {seed} m={m}: P(Tom)={res['p_tom']:.3f} share={res['tom_share']:.3f} "
                f"H={res['entropy']:.2f} bits KL={res['kl_vs_balanced']:.3f} P(Cruise|Tom)={res['p_cruise']:.3f} "
                f"({time.perf_counter() - t1:.0f} s)")
    summary = {}
    for m in sorted(cfg.ms):
        rs = [r for r in runs if r["m"] == m]
        summary[str(m)] = {k: metrics.mean_ci([r[k] for r in rs], method="bootstrap").to_dict() for k in METRICS}
        summary[str(m)]["data_tom_share"] = rs[0]["tom_share_of_person_docs"]
        summary[str(m)]["data_star_share_of_tom"] = rs[0]["star_share_of_tom_docs"]
    # noise floor of the KL: two balanced (m = 1) models of different seeds
    floor = [float(np.mean([kl_bits(a, b) for a, b in zip(balanced[i], balanced[(i + 1) % len(balanced)])]))
             for i in range(len(balanced))] if len(balanced) > 1 else []
    summary["kl_floor_between_balanced_seeds"] = metrics.mean_ci(floor, method="bootstrap").to_dict()
    return {"experiment": "salience", "config": cfg.to_dict(), "runs": runs, "summary": summary,
            "uniform_first_name_share": 1 / len(FIRST_NAMES),
            "uniform_entropy_bits": math.log2(len(FIRST_NAMES)),
            "timing": {"wall_seconds": time.perf_counter() - t0}}


EXPERIMENT = Experiment(name="salience", title="Salience: an over-represented entity's first name",
                        config=SalienceConfig, run=lambda cfg, out, log: run_salience(cfg, log=log),
                        markdown=SR.salience_markdown, plot=SR.salience_plot)
