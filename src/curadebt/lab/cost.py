"""``lab cost``: compute to correct a set of facts by fine-tuning vs by retraining on a fixed corpus.

From the measured inertia law (``inertia.json``: per seed, ``r50 = a * exposure ** gamma``
counter-examples, fitted on the facts the model knew) the fine-tuning compute for facts with exposures
``e_1..e_n`` is (6 N D with D the tokens of the counter-examples, ``t`` tokens each):

- ``sequential``: each fact gets its own counter-examples until it flips: ``6 N t sum_i r50(e_i)``;
- ``mass``: all facts at once, one counter-example per fact per step until the slowest flips (the
  protocol ``lab inertia`` measured): ``6 N t n max_i r50(e_i)``;

both times ``1 + replay`` when generic data is replayed alongside. Retraining from scratch on a
corpus where the facts are fixed (or curated) costs ``6 N D_corpus`` whatever the number of facts.
The break-even number of facts at exposure ``e`` is ``D_corpus / (t (1 + replay) r50(e))``.

Assumptions (stated in the output): r50 is the dose for 50% efficacy, not for certainty; the law is
extrapolated beyond the measured exposures only as far as the user asks; a correction that pretraining
later undoes (the measured rebound) must be paid again; the curated retrain's own accuracy comes from
``curate_vs_correct.json`` when given. CIs: percentile bootstrap over seeds.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from curadebt.core.config import setting
from curadebt.lab import metrics


@dataclass
class CostConfig:
    """What to price: the facts to correct and the assumptions of the 6ND arithmetic."""

    exposures: str = setting("1024x4,256x4,64x4", help="Facts to correct: EXPOSURE or EXPOSURExCOUNT, "
                                                       "comma-separated.")
    n_params: int | None = setting(None, help="N for 6ND (default: the inertia model's non-embedding parameters).")
    corpus_tokens: int | None = setting(None, help="Tokens of one retrain (default: the inertia corpus).")
    tokens_per_counter: float = setting(12.0, help="Tokens per counter-example.")
    replay: float = setting(0.0, help="Replayed generic tokens per counter-example token.")
    depth: float = setting(1.0, help="Which inertia depth's fits to use.")
    prompts: str = setting("train", help="Which efficacy the fits used: train or heldout.")

    def estimate(self, inertia: dict[str, Any], cvc: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.prompts not in ("train", "heldout"):
            raise ValueError("prompts must be train or heldout")
        return estimate(inertia, parse_exposures(self.exposures), n_params=self.n_params,
                        corpus_tokens=self.corpus_tokens, tokens_per_counter=self.tokens_per_counter,
                        replay=self.replay, depth=self.depth, prompts=self.prompts, cvc=cvc)


def parse_exposures(text: str) -> list[int]:
    """``"1024x10,256x20,64"`` -> ten 1024s, twenty 256s and one 64."""
    out: list[int] = []
    for part in [p for p in text.replace(" ", "").split(",") if p]:
        e, _, n = part.partition("x")
        try:
            ev, nv = int(e), int(n) if n else 1
        except ValueError:
            raise ValueError(f"bad exposure spec {part!r}: use EXPOSURE or EXPOSURExCOUNT, e.g. 1024x10")
        if ev < 1 or nv < 1:
            raise ValueError(f"exposures and counts must be >= 1, got {part!r}")
        out.extend([ev] * nv)
    if not out:
        raise ValueError("no exposures given")
    return out


def fits_from_inertia(result: dict[str, Any], depth: float = 1.0, prompts: str = "train",
                      size: str | None = None) -> list[tuple[float, float]]:
    """Per-seed (gamma, a) at ``depth`` (finite fits only)."""
    fits = []
    for r in result["runs"]:
        if size is not None and r["size"] != size:
            continue
        for d in r["depths"]:
            if abs(d["depth"] - depth) < 1e-9:
                f = d["fit"][prompts]
                if f["gamma"] is not None and f["a"] is not None and math.isfinite(f["gamma"]):
                    fits.append((float(f["gamma"]), float(f["a"])))
    return fits


def finetune_tokens(exposures: Sequence[int], gamma: float, a: float, tokens_per_counter: float,
                    replay: float = 0.0, mode: str = "sequential") -> float:
    r = a * np.asarray(exposures, dtype=float) ** gamma
    r = np.maximum(r, 1.0)   # at least one counter-example per fact
    if mode == "sequential":
        n_ce = float(r.sum())
    elif mode == "mass":
        n_ce = float(len(r) * r.max())
    else:
        raise ValueError(f"mode must be 'sequential' or 'mass', got {mode!r}")
    return n_ce * tokens_per_counter * (1.0 + replay)


def estimate(inertia: dict[str, Any], exposures: Sequence[int], *, n_params: int | None = None,
             corpus_tokens: int | None = None, tokens_per_counter: float = 12.0, replay: float = 0.0,
             depth: float = 1.0, prompts: str = "train", cvc: dict[str, Any] | None = None) -> dict[str, Any]:
    size = inertia["config"]["sizes"][-1]
    run0 = next(r for r in inertia["runs"] if r["size"] == size)
    N = int(n_params or run0["n_nonembedding_params"])
    D = int(corpus_tokens or run0["tokens_per_epoch"])
    fits = fits_from_inertia(inertia, depth, prompts, size)
    if not fits:
        raise ValueError(f"no finite inertia fit at depth {depth} ({prompts} phrasings) in the inertia result")
    retrain = 6.0 * N * D
    out: dict[str, Any] = {"n_params": N, "corpus_tokens": D, "tokens_per_counter": tokens_per_counter,
                           "replay": replay, "n_facts": len(exposures), "exposures": sorted(set(exposures)),
                           "fits": [{"gamma": g, "a": a} for g, a in fits], "retrain_flops": retrain,
                           "measured_exposure_range": _measured_range(inertia, depth, prompts, size)}
    for mode in ("sequential", "mass"):
        per_seed = [6.0 * N * finetune_tokens(exposures, g, a, tokens_per_counter, replay, mode) for g, a in fits]
        ci = metrics.mean_ci(per_seed, method="bootstrap").to_dict()
        out[f"finetune_flops_{mode}"] = {**ci, "per_seed": per_seed}
        out[f"ratio_finetune_to_retrain_{mode}"] = ci["mean"] / retrain
    be = {}
    for e in sorted(set(exposures)):
        vals = [D / (tokens_per_counter * (1 + replay) * max(1.0, a * e ** g)) for g, a in fits]
        be[str(e)] = metrics.mean_ci(vals, method="bootstrap").to_dict()
    out["break_even_facts_by_exposure"] = be
    cheaper = "fine-tuning" if out["ratio_finetune_to_retrain_sequential"] < 1 else "retraining"
    out["verdict"] = (f"For {len(exposures)} fact(s) {cheaper} is cheaper in compute: fine-tuning needs "
                      f"{out['ratio_finetune_to_retrain_sequential']:.3g}x (sequential) / "
                      f"{out['ratio_finetune_to_retrain_mass']:.3g}x (mass edit) the compute of one retrain "
                      f"(6ND = {retrain:.3g} FLOPs).")
    out["assumptions"] = [
        "r50 is the dose at which half the probe prompts prefer the new answer; certainty costs more.",
        "The power law is fitted on the exposures measured; exposures outside that range are extrapolations.",
        "Retraining costs one full pretraining run whatever the number of facts; fixing the data is free.",
        "A fine-tuned correction that later pretraining undoes (the measured rebound) must be paid again.",
        "Compute is 6 N D with N non-embedding parameters; evaluation and curation costs are not counted.",
    ]
    if cvc is not None:
        arms = cvc["summary"]["arms"]
        out["curate_vs_correct_at_full_budget"] = {
            arm: {"flops": v["flops"]["mean"], "compute_vs_raw": v["compute_vs_raw"], "tail_acc": v["heldout_tail"],
                  "torso_acc": v["heldout_torso"], "head_acc": v["heldout_head"], "filler_loss": v["filler_loss"]}
            for arm, v in arms.items()}
    return out


def _measured_range(inertia: dict[str, Any], depth: float, prompts: str, size: str) -> list[int]:
    xs = [f["exposure"] for r in inertia["runs"] if r["size"] == size for d in r["depths"]
          if abs(d["depth"] - depth) < 1e-9 for f in d["facts"] if f[prompts]["known"] and f["exposure"] > 0]
    return [min(xs), max(xs)] if xs else []


def load(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p} not found (run the experiment that writes it first)")
    return json.loads(p.read_text(encoding="utf-8"))


def markdown(est: dict[str, Any]) -> str:
    def f(ci):
        return f"{ci['mean']:.3g} [{ci['low']:.3g}, {ci['high']:.3g}]" if ci.get("n", 0) > 1 else f"{ci['mean']:.3g}"

    lines = [f"Facts: {est['n_facts']} with exposures {est['exposures']} (measured range "
             f"{est['measured_exposure_range']}); N = {est['n_params']}, corpus D = {est['corpus_tokens']} tokens, "
             f"{est['tokens_per_counter']} tokens per counter-example, replay {est['replay']}.", "",
             "| route | compute (FLOPs, 95% CI over seeds) | x retrain |", "|---|---|---|",
             f"| fine-tune, sequential | {f(est['finetune_flops_sequential'])} | {est['ratio_finetune_to_retrain_sequential']:.3g} |",
             f"| fine-tune, mass edit | {f(est['finetune_flops_mass'])} | {est['ratio_finetune_to_retrain_mass']:.3g} |",
             f"| retrain on fixed/curated corpus | {est['retrain_flops']:.3g} | 1 |", "",
             "| exposure | facts at which fine-tuning costs one retrain |", "|---|---|"]
    for e, ci in est["break_even_facts_by_exposure"].items():
        lines.append(f"| {e} | {f(ci)} |")
    lines += ["", est["verdict"], "", "Assumptions:"] + [f"- {a}" for a in est["assumptions"]]
    return "\n".join(lines) + "\n"
