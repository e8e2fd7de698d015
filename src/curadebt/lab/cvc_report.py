"""Tables and the figure of ``lab curate-vs-correct`` (from its result's ``summary``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from curadebt.lab.cvc_analysis import BINS, bin_masks
from curadebt.lab.io import save_figure
from curadebt.lab.scratch_report import fmt_ci


def signed(ci: dict[str, Any], digits: int = 3) -> str:
    m, lo, hi = ci.get("mean"), ci.get("low"), ci.get("high")
    if m is None:
        return "n/a"
    mark = " *" if lo is not None and hi is not None and (lo > 0 or hi < 0) else ""
    return f"{m:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{mark}"


def cvc_markdown(result: dict[str, Any]) -> str:
    s, cfg = result["summary"], result["config"]
    n = s["facts_per_bin"]
    seeds = len(result["runs"])
    lines = [f"{seeds} seed(s); per seed {n['all']} facts: head {n['head']} (>= {cfg['head_min']} raw documents), "
             f"torso {n['torso']}, tail {n['tail']} (<= {cfg['tail_max']}); 32-way choice of the city (chance 0.031). "
             "Accuracy on the 4 held-out phrasings unless marked; mean over seeds [95% t-CI].", "",
             "| arm | compute (x raw) | head | torso | tail | all | facts known | tail, training phrasings | "
             "filler loss |", "|---|---|---|---|---|---|---|---|---|"]
    for arm, v in s["arms"].items():
        lines.append(f"| {arm} | {v['compute_vs_raw']:.2f} | {fmt_ci(v['heldout_head'])} | {fmt_ci(v['heldout_torso'])} | "
                     f"{fmt_ci(v['heldout_tail'])} | {fmt_ci(v['heldout_all'], 3)} | {fmt_ci(v['known_heldout'], 0)} | "
                     f"{fmt_ci(v['train_tail'])} | {fmt_ci(v['filler_loss'], 3)} |")
    lines += ["", "Paired with raw (arm - raw on the same seed and facts; two-level bootstrap 95% CI over seeds and "
              "facts; * : the CI excludes 0). Slope: change in the accuracy difference per doubling of raw exposure "
              "(negative: the arm gains most on the tail).", "",
              "| arm | head | torso | tail | all | facts known | tail, training phrasings | slope per doubling | "
              "filler loss |", "|---|---|---|---|---|---|---|---|---|"]
    for arm, v in s["paired"].items():
        lines.append(f"| {arm} | {signed(v['heldout_head'])} | {signed(v['heldout_torso'])} | "
                     f"{signed(v['heldout_tail'])} | {signed(v['heldout_all'])} | {signed(v['known_heldout'], 1)} | "
                     f"{signed(v['train_tail'])} | {signed(v['heldout_slope_per_doubling'])} | "
                     f"{signed(v['filler_loss'])} |")
    if all("beyond_prior" in v for v in s["arms"].values()):
        lines += ["", "Beyond the city prior: each model's facts of the city it knows most are left out (a model that "
                  "always names one city knows 1 in 32 facts at chance accuracy). Differences vs raw: t-CI over seeds.",
                  "", "| arm | facts known | vs raw | held-out accuracy | vs raw | tail | vs raw |",
                  "|---|---|---|---|---|---|---|"]
        for arm, v in s["arms"].items():
            b, d = v["beyond_prior"], s["paired"].get(arm, {}).get("beyond_prior")
            lines.append(f"| {arm} | {b['known']['mean']:.0f} | {signed(d['known'], 1) if d else ''} | "
                         f"{b['all']['mean']:.3f} | {signed(d['all']) if d else ''} | {b['tail']['mean']:.3f} | "
                         f"{signed(d['tail']) if d else ''} |")
    lines += ["", "What each arm trained on (mean over seeds): documents per phase, and how often a fact's documents "
              "were seen over the steps, by raw-exposure bin.", "",
              "| arm | documents | seen per head fact | per torso fact | per tail fact |", "|---|---|---|---|---|"]
    for arm, row in corpus_table(result).items():
        lines.append(f"| {arm} | {row['documents']} | {row['head']:.1f} | {row['torso']:.1f} | {row['tail']:.2f} |")
    fixes = [p for r in result["runs"] for p in r["points"] if p["arm"].startswith("raw+fix")]
    for arm in sorted({p["arm"] for p in fixes}):
        ps = [p for p in fixes if p["arm"] == arm]
        lines.append(f"\n{arm}: fixed {np.mean([p['fixed_facts'] for p in ps]):.0f} facts a seed (wrong on every probe "
                     f"phrasing), from {np.mean([p['fix_documents'] for p in ps]):.0f} corpus documents.")
    return "\n".join(lines) + "\n"


def corpus_table(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cfg = result["config"]
    out: dict[str, dict[str, Any]] = {}
    for arm in result["runs"][0]["corpora"]:
        docs, seen = [], {b: [] for b in BINS}
        for r in result["runs"]:
            c = r["corpora"][arm]
            docs.append(" / ".join(str(p["documents"]) for p in c["phases"]))
            m = bin_masks(np.asarray(r["exposures"]), cfg["head_min"], cfg["tail_max"])
            for b in BINS:
                seen[b].append(float(np.asarray(c["exposure_seen"])[m[b]].mean()) if m[b].any() else float("nan"))
        out[arm] = {"documents": docs[0] + (" (seed 0)" if len(set(docs)) > 1 else ""),
                    **{b: float(np.nanmean(v)) for b, v in seen.items()}}
    return out


def cvc_plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["summary"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    curve = s["raw_curve"]
    for ax, key, label in ((axes[0], "heldout_tail", "tail accuracy (held-out phrasings)"),
                           (axes[1], "filler_loss", "filler loss (nats/token, no facts)")):
        ax.plot([c["flops"] for c in curve], [c[key] for c in curve], "k--", lw=1, label="raw, during training")
        for i, (arm, v) in enumerate(s["arms"].items()):
            ci = v[key] if key == "filler_loss" else v["heldout_tail"]
            ax.errorbar([v["flops"]["mean"]], [ci["mean"]], yerr=[[ci["mean"] - ci["low"]], [ci["high"] - ci["mean"]]],
                        fmt="o^sDvP*Xhp<>"[i % 12], capsize=3, label=arm)
        ax.set_xlabel("training compute 6ND (FLOPs)")
        ax.set_title(label, fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    ax = axes[2]
    for arm, rows in s["by_exposure"].items():
        ax.plot([np.sqrt(r["exposure_low"] * r["exposure_high"]) for r in rows], [r["heldout"] for r in rows],
                marker=".", label=arm, lw=1.5 if arm == "raw" else 1)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("raw exposure (documents stating the fact)")
    ax.set_title("held-out accuracy by raw exposure", fontsize=9)
    ax.axhline(1 / 32, color="grey", lw=0.5)
    fig.suptitle("Curate first vs fix later at matched compute (95% CIs over seeds)", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8, frameon=False)
    p = save_figure(fig, path)
    plt.close(fig)
    return p
