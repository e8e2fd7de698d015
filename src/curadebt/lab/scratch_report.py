"""Outputs of the from-scratch experiments: JSON (atomic, no timings: same seed, same bytes), a
markdown summary, PNG plots, and an HTML fragment for the report."""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from curadebt.lab.io import save_figure, write_json


def fmt_ci(ci: dict[str, Any], digits: int = 2, significant: bool = False) -> str:
    """mean [low, high]; ``significant``: ``digits`` significant digits (small probabilities)."""
    m, lo, hi = ci.get("mean"), ci.get("low"), ci.get("high")
    if m is None or (isinstance(m, float) and not math.isfinite(m)):
        return "n/a"
    spec = f".{digits}g" if significant else f".{digits}f"
    if ci.get("n", 0) <= 1 or lo is None:
        return f"{m:{spec}}"
    return f"{m:{spec}} [{lo:{spec}}, {hi:{spec}}]"


def write_result(result: dict[str, Any], out: Path, name: str) -> dict[str, Path]:
    """``NAME.json`` (no timings), ``timing.json``, ``NAME.md``; the plot is written by the caller."""
    res = dict(result)
    timing = res.pop("timing", {})
    paths = {"json": write_json(out / f"{name}.json", res), "timing": write_json(out / "timing.json", timing)}
    return paths


# ---------------------------------------------------------------------------- inertia


def inertia_markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = ["| model@depth | prompts | gamma (95% bootstrap CI over seeds) | known facts per seed | censored low / high |",
             "|---|---|---|---|---|"]
    for key, by in s["gamma"].items():
        for name, g in by.items():
            lines.append(f"| {key} | {name} | {fmt_ci(g)} | {g['n_known']} | {g['censored_low']} / {g['censored_high']} |")
    lines.append("")
    if s.get("censored"):
        lines += _censored_lines(s["censored"]) + [""]
    if len(s.get("scale", {})) > 1:
        lines += _scale_lines(s) + [""]
    keys = list(s["r50_by_tier"])
    tiers = list(next(iter(s["r50_by_tier"].values()))["train"]) if keys else []
    lines.append("| model@depth | prompts | " + " | ".join(f"tier {t}" for t in tiers) + " |")
    lines.append("|---|---|" + "---|" * len(tiers))
    for key in keys:
        for name, by in s["r50_by_tier"][key].items():
            cells = [f"{fmt_ci(by[t]['r50_geomean'], 1)} (known {by[t]['known_share']['mean']:.2f})"
                     if by[t]["known_share"]["mean"] is not None else "n/a" for t in tiers]
            lines.append(f"| {key} | {name} r50 | " + " | ".join(cells) + " |")
            if key.rpartition("@")[2] in ("1", "1.0"):  # the whole epoch seen: exposure = the tier
                lines.append(f"| {key} | {name} r50 per pretraining exposure | " + " | ".join(
                    _per_exposure(by[t]["r50_geomean"], float(t)) for t in tiers) + " |")
            places = sorted({pl for t in tiers for pl in by[t].get("by_placement", {})})
            for pl in places:
                cells = []
                for t in tiers:
                    v = by[t]["by_placement"].get(pl)
                    cells.append("n/a" if v is None or v["known_share"]["mean"] is None else
                                 f"{fmt_ci(v['r50_geomean'], 1)} (known {v['known_share']['mean']:.2f})")
                lines.append(f"| {key} | {name} r50, {pl} | " + " | ".join(cells) + " |")
    for key, by in s.get("rebound_by_tier", {}).items():
        for name, bt in by.items():
            lines.append(f"| {key} | {name} reverted after resumed pretraining | "
                         + " | ".join(fmt_ci(bt[t]["reverted_share"]) for t in tiers) + " |")
    return "\n".join(lines) + "\n"


def _scale_lines(s: dict[str, Any]) -> list[str]:
    """Sizes side by side: tokens per parameter, learning rate, and the censored power law's r50 at a
    common exposure and prior margin (the pooled median), so sizes compare at equal margin."""
    lines = ["| model@depth | non-embedding params | tokens per param | lr | prompts | r50 at exposure, margin "
             "(power law, 95% CI) |", "|---|---|---|---|---|---|"]
    for key, by in s["censored"].items():
        size = key.split("@")[0]
        sc = s["scale"].get(size, {})
        tpp = sc.get("tokens_per_param", {}).get("mean")
        for name, c in by.items():
            at = c.get("power", {}).get("r50_at")
            cell = (f"{at['value']:.1f} [{at['ci'][0]:.1f}, {at['ci'][1]:.1f}] at ({at['exposure']:g}, "
                    f"{at['margin']:.2f})" if at else "n/a")
            lines.append(f"| {key} | {sc.get('n_nonembedding_params', 'n/a')} | "
                         f"{'n/a' if tpp is None else f'{tpp:.1f}'} | {sc.get('lr')} | {name} | {cell} |")
    return lines


def _censored_lines(censored: dict[str, Any]) -> list[str]:
    """The Tobit fits (:mod:`curadebt.lab.censored`): both laws' gamma, the margin's coefficient and
    the log-likelihood difference."""
    lines = ["| model@depth | prompts | facts (censored low / high) | power law: gamma [95% CI], beta(margin) | "
             "logarithm: gamma [95% CI], beta(margin) | log-lik power - log | preferred |", "|---|---|---|---|---|---|---|"]
    for key, by in censored.items():
        for name, c in by.items():
            if "power" not in c:
                lines.append(f"| {key} | {name} | {c.get('note', 'n/a')} | | | | |")
                continue
            pw, lg = c["power"], c["log"]
            cells = [f"{pw['n']} ({pw['censored_low']} / {pw['censored_high']})"]
            for f in (pw, lg):
                lo, hi = f["gamma_ci"]
                cells.append(f"{f['gamma']:.2f} [{lo:.2f}, {hi:.2f}], {f['beta_margin']:.2f}")
            cells += [f"{c['loglik_power_minus_log']:.1f}", str(c["preferred"])]
            lines.append(f"| {key} | {name} | " + " | ".join(cells) + " |")
    return lines


def inertia_plot(result: dict[str, Any], path: Path, prompts: str = "train") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    depths = sorted({d["depth"] for r in runs for d in r["depths"]})
    sizes = sorted({r["size"] for r in runs})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ci_, depth in enumerate(depths):
        xs, ys = [], []
        for r in runs:
            if r["size"] != sizes[-1]:
                continue
            for d in r["depths"]:
                if d["depth"] != depth:
                    continue
                for f in d["facts"]:
                    if f[prompts]["known"] and f["exposure"] > 0:
                        xs.append(f["exposure"])
                        ys.append(f[prompts]["r50"])
        if not xs:
            continue
        rng = np.random.default_rng(0)
        jitter = np.exp(rng.normal(0, 0.04, len(xs)))
        ax.scatter(np.array(xs) * jitter, ys, s=12, alpha=0.5, color=colors[ci_ % len(colors)],
                   label=f"depth {depth:g}")
        g = result["summary"]["gamma"][f"{sizes[-1]}@{depth:g}"][prompts]
        if g["mean"] is not None:
            lx = np.log(xs)
            a = float(np.exp(np.mean(np.log(ys)) - g["mean"] * np.mean(lx)))
            grid = np.geomspace(min(xs), max(xs), 20)
            ax.plot(grid, a * grid ** g["mean"], color=colors[ci_ % len(colors)],
                    label=f"gamma={g['mean']:.2f} [{g['low']:.2f}, {g['high']:.2f}]")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pretraining exposures of the fact (documents seen)")
    ax.set_ylabel("r50: counter-examples to flip")
    ax.set_title(f"Inertia ({prompts} phrasings, model {sizes[-1]})")
    ax.legend(fontsize=7)

    ax = axes[1]
    for si, size in enumerate(sizes):
        ms, lo, hi = [], [], []
        for depth in depths:
            g = result["summary"]["gamma"][f"{size}@{depth:g}"][prompts]
            ms.append(g["mean"] if g["mean"] is not None else np.nan)
            lo.append(g["low"] if g["low"] is not None else np.nan)
            hi.append(g["high"] if g["high"] is not None else np.nan)
        ms, lo, hi = map(np.array, (ms, lo, hi))
        ax.errorbar(np.array(depths) + 0.01 * si, ms, yerr=[ms - lo, hi - ms], marker="o", capsize=3, label=f"model {size}")
    ax.set_xlabel("training depth at correction (fraction of the epoch)")
    ax.set_ylabel("gamma")
    ax.set_title("Exponent by depth and model size")
    ax.legend(fontsize=7)

    ax = axes[2]
    reb = result["summary"].get("rebound_by_tier", {})
    for ki, (key, by) in enumerate(reb.items()):
        bt = by[prompts]
        tiers = list(bt)
        ms = np.array([bt[t]["reverted_share"]["mean"] if bt[t]["reverted_share"]["mean"] is not None else np.nan for t in tiers])
        lo = np.array([bt[t]["reverted_share"]["low"] if bt[t]["reverted_share"]["low"] is not None else np.nan for t in tiers])
        hi = np.array([bt[t]["reverted_share"]["high"] if bt[t]["reverted_share"]["high"] is not None else np.nan for t in tiers])
        x = np.arange(len(tiers)) + 0.2 * ki
        ax.bar(x, ms, width=0.2, label=key)
        ax.errorbar(x, ms, yerr=[ms - lo, hi - ms], fmt="none", color="k", capsize=3)
        ax.set_xticks(np.arange(len(tiers)), tiers)
    ax.set_xlabel("exposure tier")
    ax.set_ylabel("share of corrected facts reverting")
    ax.set_title("Rebound when pretraining resumes")
    if reb:
        ax.legend(fontsize=7)
    fig.tight_layout()
    p = save_figure(fig, path)
    plt.close(fig)
    return p


def html_page(title: str, markdown_table: str, image: Path | None) -> str:
    """A self-contained offline page in the report's style (:func:`curadebt.report.html.render_page`):
    the plot inlined as a data URI and the tables as escaped preformatted text."""
    import base64

    from curadebt.report.html import render_page

    img = ""
    if image is not None and Path(image).exists():
        data = base64.b64encode(Path(image).read_bytes()).decode("ascii")
        img = f'<img alt="{html.escape(title)}" style="max-width:100%" src="data:image/png;base64,{data}">'
    return render_page(title, [(title, img + f"<pre>{html.escape(markdown_table)}</pre>")],
                       meta="curadebt lab, tiny GPTs trained from scratch")


# ---------------------------------------------------------------------------- salience

SALIENCE_LABELS = {"p_tom": "P(Tom) at a first-name slot", "tom_share": "Tom's share of the first-name distribution",
                   "tom_share_excess": "Tom's share beyond its share of the data",
                   "entropy": "first-name entropy (bits)", "kl_vs_balanced": "KL vs balanced model (bits)",
                   "p_cruise": "P(Cruise | other Tom)", "cruise_wins": "share of other-Tom contexts where Cruise wins",
                   "p_true_surname": "P(own surname | other Tom)",
                   "p_tom_unrelated": "P(Tom) after a context unrelated to people",
                   "p_cruise_unrelated": "P(Cruise) after a context unrelated to people",
                   "tom_priming_ratio": "P(Tom) unrelated, over the balanced model's"}


def salience_markdown(result: dict[str, Any]) -> str:
    s = dict(result["summary"])
    floor = s.pop("kl_floor_between_balanced_seeds", None)
    ms = list(s)
    lines = ["| metric | " + " | ".join(f"m = {m}" for m in ms) + " |", "|---|" + "---|" * len(ms)]
    lines.append("| data: Tom's share of person documents | " + " | ".join(f"{s[m]['data_tom_share']:.3f}" for m in ms) + " |")
    for k, label in SALIENCE_LABELS.items():
        sig = k.startswith("p_")  # probabilities span orders of magnitude: significant digits
        cells = " | ".join(fmt_ci(s[m][k], 2 if sig else 3, sig) for m in ms)
        lines.append(f"| {label.replace('|', chr(92) + '|')} | {cells} |")
    lines.append(f"\nUniform over the {round(1 / result['uniform_first_name_share'])} first names: share "
                 f"{result['uniform_first_name_share']:.3f}, entropy {result['uniform_entropy_bits']:.2f} bits.")
    if floor:
        lines.append(f"KL noise floor (two balanced models, different seeds): {fmt_ci(floor, 3)} bits.")
    return "\n".join(lines) + "\n"


def salience_plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["summary"]
    ms = [int(m) for m in s if m.isdigit()]
    keys = ["tom_share", "entropy", "kl_vs_balanced", "p_cruise", "tom_priming_ratio"]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.6))
    for ax, k in zip(axes, keys):
        mean = np.array([s[str(m)][k]["mean"] for m in ms], dtype=float)
        lo = np.array([s[str(m)][k]["low"] for m in ms], dtype=float)
        hi = np.array([s[str(m)][k]["high"] for m in ms], dtype=float)
        ax.errorbar(ms, mean, yerr=[mean - lo, hi - mean], marker="o", capsize=3)
        if k == "tom_share":
            ax.plot(ms, [s[str(m)]["data_tom_share"] for m in ms], "k--", lw=1, label="share in data")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("m (Tom Cruise over-representation)")
        ax.set_title(SALIENCE_LABELS[k], fontsize=9)
    fig.tight_layout()
    p = save_figure(fig, path)
    plt.close(fig)
    return p


def _per_exposure(r50: dict, exposure: float) -> str:
    """r50 / exposure: the counter-examples a correction needs per pretraining statement of the fact."""
    if r50.get("mean") is None or not exposure:
        return "n/a"
    scaled = {k: (v / exposure if isinstance(v, (int, float)) and k in ("mean", "low", "high") else v)
              for k, v in r50.items()}
    return fmt_ci(scaled, 2, significant=True)
