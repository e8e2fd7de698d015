"""The analysis of ``lab curate-vs-correct``: accuracy by exposure bin, paired with raw.

- Facts are binned by their *raw* exposure (documents stating them in the raw corpus): head
  (>= ``head_min``), tail (<= ``tail_max``), torso between; the same facts are in the same bin in
  every arm, whatever the arm did to their documents.
- Per arm (its last point): accuracy per bin on the held-out and on the training phrasings, facts
  known (accuracy >= 0.5 over the phrasings), the filler loss, compute; means over seeds with
  t-intervals.
- Paired with raw (same seed, same facts): the difference per bin, in facts known, in filler loss,
  and the arm x log exposure interaction (the slope of the per-fact accuracy difference against
  log2 raw exposure: negative means the arm gains most on the tail), with two-level bootstrap CIs
  (seeds, then facts within a seed; :func:`curadebt.core.stats.two_level_bootstrap_ci`).
- The held-out accuracy curve against raw exposure (log2 bins), per arm.
- Beyond the city prior: a model that always names one city "knows" every fact of that city (1 in
  32 at chance accuracy). ``beyond_prior`` drops, per model, the facts of the city it knows most
  (conservative: that city's truly known facts go too) and recounts known facts and accuracy.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from curadebt.core.stats import mean_ci, mean_of_group_means, two_level_bootstrap_ci

BINS = ("head", "torso", "tail")


def bin_masks(exposures: np.ndarray, head_min: int, tail_max: int) -> dict[str, np.ndarray]:
    return {"head": exposures >= head_min, "tail": exposures <= tail_max,
            "torso": (exposures > tail_max) & (exposures < head_min), "all": np.ones(len(exposures), bool)}


def final_points(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each arm's last point in a run (raw: the one at all the steps)."""
    out: dict[str, dict[str, Any]] = {}
    for p in run["points"]:
        if p["arm"] != "raw" or p["step"] == run["steps"]:
            out[p["arm"]] = p
    return out


def top_city_mask(acc: np.ndarray, cities: list[str]) -> np.ndarray:
    """Facts not in the city with the most known facts (accuracy >= 0.5) of this model."""
    c = np.asarray(cities)
    known = acc >= 0.5
    if not known.any():
        return np.ones(len(c), bool)
    values, counts = np.unique(c[known], return_counts=True)
    return c != values[int(np.argmax(counts))]


def beyond_prior(p: dict[str, Any], cities: list[str], tail: np.ndarray) -> dict[str, float]:
    h = np.asarray(p["heldout"])
    keep = top_city_mask(h, cities)
    return {"known": float((h[keep] >= 0.5).sum()), "all": float(h[keep].mean()),
            "tail": float(h[keep & tail].mean()) if (keep & tail).any() else float("nan")}


def _ci(values, bounds=None) -> dict[str, Any]:
    return mean_ci(list(values), method="t", bounds=bounds).to_dict()


def _slope(groups: list[np.ndarray]) -> float:
    """OLS slope of column 1 on column 0, pooled over the groups."""
    xy = np.concatenate(groups)
    x, y = xy[:, 0], xy[:, 1]
    vx = float(((x - x.mean()) ** 2).sum())
    return float(((x - x.mean()) * (y - y.mean())).sum() / vx) if vx > 0 else float("nan")


def exposure_bins(max_exposure: int) -> list[tuple[int, int]]:
    """[1, 1], [2, 2], [3, 4], [5, 8], ... up to ``max_exposure``."""
    out, lo = [(1, 1)], 2
    while lo <= max_exposure:
        hi = 2 if lo == 2 else 2 * (lo - 1)
        out.append((lo, hi))
        lo = hi + 1
    return out


def summarize(runs: list[dict[str, Any]], cfg) -> dict[str, Any]:
    present = final_points(runs[0])
    arms = [a for a in cfg.selected() if a in present]
    masks = [bin_masks(np.asarray(r["exposures"]), cfg.head_min, cfg.tail_max) for r in runs]
    finals = [final_points(r) for r in runs]
    raw_flops = np.mean([f["raw"]["flops"] for f in finals])
    out: dict[str, Any] = {"facts_per_bin": {b: int(masks[0][b].sum()) for b in (*BINS, "all")},
                           "arms": {}, "paired": {}, "by_exposure": {}}
    for arm in arms:
        pts = [f[arm] for f in finals if arm in f]
        row: dict[str, Any] = {"flops": _ci(p["flops"] for p in pts),
                               "compute_vs_raw": float(np.mean([p["flops"] for p in pts]) / raw_flops),
                               "filler_loss": _ci(p["filler_loss"] for p in pts)}
        for phr in ("heldout", "train"):
            for b in (*BINS, "all"):
                row[f"{phr}_{b}"] = _ci((np.asarray(p[phr])[m[b]].mean() for p, m in zip(pts, masks)), (0, 1))
            row[f"known_{phr}"] = _ci(float((np.asarray(p[phr]) >= 0.5).sum()) for p in pts)
        if all("cities" in r for r in runs):
            bp = [beyond_prior(p, r["cities"], m["tail"]) for p, r, m in zip(pts, runs, masks)]
            row["beyond_prior"] = {k: _ci(b[k] for b in bp) for k in ("known", "all", "tail")}
        out["arms"][arm] = row
        out["by_exposure"][arm] = _by_exposure(runs, pts)
        if arm != "raw":
            out["paired"][arm] = _paired(runs, finals, masks, arm)
    out["raw_curve"] = _raw_curve(runs, masks)
    return out


def _raw_curve(runs, masks) -> list[dict[str, Any]]:
    """The raw run's scored points in order (half, fix start, all of the steps), averaged over seeds."""
    per_run = [[p for p in r["points"] if p["arm"] == "raw"] for r in runs]
    out = []
    for i in range(min(len(x) for x in per_run)):
        pts = [x[i] for x in per_run]
        out.append({"flops": float(np.mean([p["flops"] for p in pts])),
                    "filler_loss": float(np.mean([p["filler_loss"] for p in pts])),
                    "heldout_tail": float(np.mean([np.asarray(p["heldout"])[m["tail"]].mean() for p, m in zip(pts, masks)])),
                    "heldout_all": float(np.mean([np.mean(p["heldout"]) for p in pts]))})
    return out


def _paired(runs, finals, masks, arm: str) -> dict[str, Any]:
    pairs = [(f[arm], f["raw"], m, np.log2(np.asarray(r["exposures"], dtype=float)))
             for f, m, r in zip(finals, masks, runs) if arm in f]
    out: dict[str, Any] = {}
    for phr in ("heldout", "train"):
        for b in (*BINS, "all"):
            groups = [(np.asarray(a[phr]) - np.asarray(r[phr]))[m[b]] for a, r, m, _ in pairs]
            out[f"{phr}_{b}"] = two_level_bootstrap_ci(groups, mean_of_group_means).to_dict()
        out[f"known_{phr}"] = two_level_bootstrap_ci(
            [np.array([float((np.asarray(a[phr]) >= 0.5).sum() - (np.asarray(r[phr]) >= 0.5).sum())])
             for a, r, _, _ in pairs], mean_of_group_means).to_dict()
        out[f"{phr}_slope_per_doubling"] = two_level_bootstrap_ci(
            [np.column_stack([x, np.asarray(a[phr]) - np.asarray(r[phr])]) for a, r, _, x in pairs], _slope).to_dict()
    out["filler_loss"] = two_level_bootstrap_ci([np.array([a["filler_loss"] - r["filler_loss"]])
                                                 for a, r, _, _ in pairs], mean_of_group_means).to_dict()
    if all("cities" in r for r in runs):
        diffs = {k: [] for k in ("known", "all", "tail")}
        for (a, r, m, _), run in zip(pairs, [r for f, r in zip(finals, runs) if arm in f]):
            ba, br = beyond_prior(a, run["cities"], m["tail"]), beyond_prior(r, run["cities"], m["tail"])
            for k in diffs:
                diffs[k].append(ba[k] - br[k])
        out["beyond_prior"] = {k: _ci(v) for k, v in diffs.items()}
    return out


def _by_exposure(runs, pts) -> list[dict[str, Any]]:
    ex = [np.asarray(r["exposures"]) for r in runs]
    out = []
    for lo, hi in exposure_bins(int(max(e.max() for e in ex))):
        sel = [(e >= lo) & (e <= hi) for e in ex]
        if not any(s.any() for s in sel):
            continue
        vals = {phr: float(np.mean([np.asarray(p[phr])[s].mean() for p, s in zip(pts, sel) if s.any()]))
                for phr in ("heldout", "train")}
        out.append({"exposure_low": lo, "exposure_high": hi, "facts_per_seed": int(sel[0].sum()), **vals})
    return out
