"""Outputs of ``lab overwrite``: JSON, CSV (atomic), markdown and rich tables, plot, HTML fragment."""
from __future__ import annotations

import csv
import html
import io
import json
import math
from pathlib import Path

from curadebt.lab.overwrite import UNIT_METRICS, OverwriteResult
from curadebt.lab.io import atomic_write as _atomic_write
from curadebt.lab.io import clean as _clean

def _as_dict(result: OverwriteResult | dict) -> dict:
    return result.to_dict() if isinstance(result, OverwriteResult) else result


_RUN_TIMING = ("seconds",)
_TRAIN_TIMING = ("seconds", "tokens_per_s")
_MODEL_TIMING = ("load_seconds", "loaded_from_cache")


def split_timing(result: OverwriteResult | dict) -> tuple[dict, dict]:
    """(the result without wall-clock fields, the wall-clock fields).

    Everything measured about the model is a function of the seeds; how long it took is not. Keeping
    the two apart makes ``overwrite.json`` byte-identical for the same seeds and settings.
    """
    d = json.loads(json.dumps(_clean(_as_dict(result))))  # deep copy, JSON-safe
    timing = {"timing": d.pop("timing", {}), "model": {}, "rows": [], "runs": []}
    for k in _MODEL_TIMING:
        if k in d.get("model", {}):
            timing["model"][k] = d["model"].pop(k)
    for r in d.get("rows", []):
        timing["rows"].append({"ratio": r["ratio"], "train_seconds": r.pop("train_seconds", None)})
    for r in d.get("runs", []):
        t = {"ratio": r["ratio"], "seed": r["seed"], "group": r["group"]}
        for k in _RUN_TIMING:
            if k in r:
                t[k] = r.pop(k)
        tr = r.get("train") or {}
        for k in _TRAIN_TIMING:
            if k in tr:
                t["train_" + k] = tr.pop(k)
        timing["runs"].append(t)
    return d, timing


def write_json(result: OverwriteResult | dict, path: str | Path, timing_path: str | Path | None = None) -> Path:
    """``overwrite.json`` (no wall-clock fields: same seeds, same bytes); timings to ``timing_path``."""
    d, timing = split_timing(result)
    if timing_path is not None:
        _atomic_write(timing_path, json.dumps(timing, indent=2, ensure_ascii=False) + "\n")
    return _atomic_write(path, json.dumps(d, indent=2, ensure_ascii=False) + "\n")


def load_json(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


ROW_COLUMNS = ("efficacy", "paraphrase", "neighbourhood", "score", "efficacy_sum", "paraphrase_sum",
               "neighbourhood_sum", "efficacy_magnitude", "paraphrase_magnitude", "neighbourhood_magnitude",
               "efficacy_magnitude_seq", "p_new", "p_old", "p_new_tok", "p_old_tok", "p_new_para", "p_old_para",
               "lp_new_sum", "lp_old_sum", "lp_new_mean", "lp_old_mean", "ppl", "ppl_change")


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if (isinstance(v, float) and not math.isfinite(v)) or v is None else v for v in r])
    return buf.getvalue()


def write_csv(result: OverwriteResult | dict, path: str | Path) -> Path:
    """One line per ratio: ``metric``, ``metric_low``, ``metric_high`` for every metric."""
    d = _as_dict(result)
    header = ["ratio", "label", "n_units", "n_facts", "n_seeds"]
    for c in ROW_COLUMNS:
        header += [c, f"{c}_low", f"{c}_high"]
    rows = []
    for r in d["rows"]:
        line = [r["ratio"], r["label"], r["n_units"], r["n_facts"], r["n_seeds"]]
        for c in ROW_COLUMNS:
            ci = r[c]
            line += [ci["mean"], ci["low"], ci["high"]]
        rows.append(line)
    return _atomic_write(path, _csv_text(header, rows))


def write_units_csv(result: OverwriteResult | dict, path: str | Path) -> Path:
    d = _as_dict(result)
    header = ["ratio", "seed", "fact", *UNIT_METRICS]
    rows = [[u["ratio"], u["seed"], u["fact"], *[u[m] for m in UNIT_METRICS]] for u in d["units"]]
    return _atomic_write(path, _csv_text(header, rows))


# ---------------------------------------------------------------------------- tables


def _fmt(ci: dict, digits: int = 2, pct: bool = False) -> str:
    m, lo, hi = ci.get("mean"), ci.get("low"), ci.get("high")
    if m is None or (isinstance(m, float) and not math.isfinite(m)):
        return "n/a"
    k = 100.0 if pct else 1.0
    s = f"{m * k:.{digits}f}"
    if lo is not None and hi is not None and ci.get("n", 0) > 1 and math.isfinite(lo) and math.isfinite(hi) \
            and (hi - lo) > 0:
        s += f" [{lo * k:.{digits}f}, {hi * k:.{digits}f}]"
    return s


TABLE_COLUMNS = (
    ("ratio new:old", None), ("P(new)", "p_new"), ("P(old)", "p_old"), ("efficacy", "efficacy"),
    ("paraphrase", "paraphrase"), ("neighbourhood", "neighbourhood"), ("score", "score"),
    ("Δppl %", "ppl_change"),
)


def table_rows(result: OverwriteResult | dict) -> list[list[str]]:
    d = _as_dict(result)
    out = []
    for r in d["rows"]:
        line = [r["label"]]
        for _, key in TABLE_COLUMNS[1:]:
            line.append(_fmt(r[key], 1, pct=True) if key == "ppl_change" else _fmt(r[key]))
        out.append(line)
    return out


def _r50_text(d: dict) -> str:
    r = d["r50"]["efficacy"]
    if r["status"] == "interpolated":
        return f"{r['value']:.3g}:1"
    lo, hi = min(d["config"]["ratios"]), max(d["config"]["ratios"])
    return f"< {lo:g}:1" if r["status"] == "below_range" else f"> {hi:g}:1"


#: a perplexity rise above this (+50%) on held-out generic text is flagged as a damaged model
DAMAGE_WARN = 0.5


def summary_lines(result: OverwriteResult | dict, timing: bool = True) -> list[str]:
    d = _as_dict(result)
    cfg = d["config"]
    facts = d["facts"]
    what = (f"{facts[0]['subject']}: {facts[0]['old']} -> {facts[0]['new']}" if len(facts) == 1
            else f"{len(facts)} facts")
    lines = [
        f"model {d['model']['name']} ({d['model'].get('parameters', 0) / 1e6:.0f}M parameters); {what}; "
        f"{len(cfg['seeds'])} seeds; {cfg['steps']} steps x {cfg['batch_size']} statements per run, lr {cfg['lr']:g}"
        + (f"; {cfg['edit_batch']} facts per run" if cfg.get("edit_batch") else "; all facts in one run"),
        f"r50 (efficacy crosses 0.5): {_r50_text(d)}; base perplexity of held-out text {d['ppl_base']:.2f}",
        f"intervals: {cfg.get('ci_note', '')}",
    ]
    worst = max(((r["ppl_change"].get("mean") or 0.0, r["label"]) for r in d["rows"]), default=(0.0, ""))
    if worst[0] > DAMAGE_WARN:
        lines.append(f"warning: fine-tuning damaged the model: perplexity of held-out text rose by {worst[0]:.0%} "
                     f"at {worst[1]}; the overwrite numbers describe a broken model (try a lower --lr)")
    t = d.get("timing", {}) if timing else {}
    if t:
        lines.append(f"time: {t.get('total_seconds', 0):.0f} s ({t.get('train_seconds', 0):.0f} s training at "
                     f"{t.get('train_tokens_per_s', 0):.0f} tokens/s, {t.get('eval_seconds', 0):.0f} s evaluation), "
                     f"model load {t.get('load_seconds', 0):.0f} s")
    return lines


def markdown_table(result: OverwriteResult | dict, timing: bool = False) -> str:
    d = _as_dict(result)
    head = [c for c, _ in TABLE_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for line in table_rows(d):
        lines.append("| " + " | ".join(line) + " |")
    lines.append("")
    lines += [f"- {s}" for s in summary_lines(d, timing=timing)]
    pr = d.get("probes") or []
    if pr:
        lines.append("")
        lines.append(probes_markdown(d))
    return "\n".join(lines) + "\n"


def probes_markdown(result: OverwriteResult | dict) -> str:
    d = _as_dict(result)
    lines = ["| fact | probe | data old:new | data odds old:new | model P(old) | model P(new) | model odds old:new | r50 |",
             "|---|---|---|---|---|---|---|---|"]
    for p in d.get("probes") or []:
        lines.append(f"| {p['old']} -> {p['new']} | {p['probe']} | {p['data_old']}:{p['data_new']} {p['unit']} | "
                     f"{p['data_odds_old_new']:.3g} | {p['model_p_old']:.3g} | {p['model_p_new']:.3g} | "
                     f"{_odds(p['model_odds_old_new'])} | {_r50_text(d)} |")
    return "\n".join(lines)


def _odds(x) -> str:
    return "inf" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3g}"


def rich_table(result: OverwriteResult | dict):
    from rich.table import Table

    d = _as_dict(result)
    facts = d["facts"]
    title = (f"Overwrite dose-response: {facts[0]['subject']} {facts[0]['old']} -> {facts[0]['new']}"
             if len(facts) == 1 else f"Overwrite dose-response: {len(facts)} facts")
    t = Table(title=f"{title} ({d['model']['name']})", caption="mean [95% CI]; ratio = new:old statements")
    for name, _ in TABLE_COLUMNS:
        t.add_column(name, justify="right" if name != "ratio new:old" else "left")
    for line in table_rows(d):
        t.add_row(*line)
    return t


def rich_probes_table(result: OverwriteResult | dict):
    from rich.table import Table

    d = _as_dict(result)
    t = Table(title="Data-side odds (audit probes) vs the model's prior")
    for c in ("fact", "probe", "data old:new", "data odds", "model P(old)", "model P(new)", "model odds", "r50"):
        t.add_column(c)
    for p in d.get("probes") or []:
        t.add_row(f"{p['old']} -> {p['new']}", str(p["probe"]), f"{p['data_old']}:{p['data_new']} {p['unit']}",
                  f"{p['data_odds_old_new']:.3g}", f"{p['model_p_old']:.3g}", f"{p['model_p_new']:.3g}",
                  _odds(p["model_odds_old_new"]), _r50_text(d))
    return t


# ---------------------------------------------------------------------------- plot


_SAVE_META = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None}}


def _savefig(fig, buf, fmt: str, **kw) -> None:
    """Save without dates or random ids, so the same result gives the same bytes."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "curadebt"}):
        fig.savefig(buf, format=fmt, metadata=_SAVE_META.get(fmt), **kw)


def plot_figure(result: OverwriteResult | dict):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    d = _as_dict(result)
    rows = [r for r in d["rows"] if r["ratio"] > 0]
    base = next((r for r in d["rows"] if r["ratio"] == 0), None)
    x = [r["ratio"] for r in rows]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label, color in (("p_new", "P(new)", "tab:red"), ("p_old", "P(old)", "tab:blue")):
        _mean_with_band(ax, x, rows, key, label, color, alpha=0.2)
        if base:
            ax.axhline(_nan(base[key]["mean"]), color=color, linestyle=":", linewidth=1,
                       label=f"{label}, base model")
    ax.plot(x, [v / (1 + v) for v in x], color="grey", linestyle="--", linewidth=1,
            label="share of new statements r/(1+r)")
    _ratio_axes(ax, x, "probability on the rewrite prompt")
    for key, label, color in (("efficacy", "efficacy", "tab:red"), ("paraphrase", "paraphrase", "tab:orange"),
                              ("neighbourhood", "neighbourhood", "tab:green")):
        _mean_with_band(ax2, x, rows, key, label, color, alpha=0.15)
    ax2.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    _ratio_axes(ax2, x, "score (share of prompts)")
    facts = d["facts"]
    what = (f"{facts[0]['subject']}: {facts[0]['old']} -> {facts[0]['new']}" if len(facts) == 1
            else f"{len(facts)} CounterFact facts" if facts[0].get("source") == "counterfact" else f"{len(facts)} facts")
    fig.suptitle(f"{d['model']['name']}: {what}; r50 = {_r50_text(d)} (bands: 95% CI)", fontsize=10)
    fig.tight_layout()
    return fig


def _mean_with_band(ax, x, rows, key: str, label: str, color: str, alpha: float) -> None:
    """The mean of ``key`` per ratio as a line, its confidence interval as a band."""
    ax.plot(x, [_nan(r[key]["mean"]) for r in rows], marker="o", color=color, label=label)
    ax.fill_between(x, [_nan(r[key]["low"]) for r in rows], [_nan(r[key]["high"]) for r in rows],
                    color=color, alpha=alpha, linewidth=0)


def _ratio_axes(ax, x, ylabel: str) -> None:
    """A log2 ratio axis with one tick per ratio and a 0..1 value axis."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.set_xlabel("new:old statements in fine-tuning")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _nan(v):
    return float("nan") if v is None else v


def write_plot(result: OverwriteResult | dict, path: str | Path, formats=("png", "svg")) -> list[Path]:
    import matplotlib.pyplot as plt

    fig = plot_figure(result)
    out = []
    path = Path(path)
    try:
        for fmt in formats:
            buf = io.BytesIO()
            _savefig(fig, buf, fmt, dpi=120)
            out.append(_atomic_write(path.with_suffix("." + fmt), buf.getvalue()))
    finally:
        plt.close(fig)
    return out


def plot_svg(result: OverwriteResult | dict) -> str:
    import matplotlib.pyplot as plt

    fig = plot_figure(result)
    try:
        buf = io.StringIO()
        _savefig(fig, buf, "svg")
    finally:
        plt.close(fig)
    svg = buf.getvalue()
    i = svg.find("<svg")
    return svg[i:] if i >= 0 else svg


# ---------------------------------------------------------------------------- HTML


def render_overwrite_html(result: OverwriteResult | dict, include_plot: bool = True) -> str:
    """A self-contained HTML fragment (a ``<section>``; inline CSS and SVG, every text escaped)."""
    d = _as_dict(result)
    e = html.escape
    parts = ['<section class="cd-lab-overwrite">',
             "<style>.cd-lab-overwrite table{border-collapse:collapse;font:13px sans-serif}"
             ".cd-lab-overwrite th,.cd-lab-overwrite td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             ".cd-lab-overwrite th{background:#f3f3f3}.cd-lab-overwrite td:first-child{text-align:left}"
             ".cd-lab-overwrite .cd-note{font:12px sans-serif;color:#444}</style>"]
    facts = d["facts"]
    if len(facts) == 1:
        f = facts[0]
        title = f"Fact overwrite: {e(f['subject'])}, {e(f['old'])} &#8594; {e(f['new'])}"
    else:
        title = f"Fact overwrite: {len(facts)} facts"
    parts.append(f"<h3>{title} ({e(str(d['model']['name']))})</h3>")
    parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c, _ in TABLE_COLUMNS) + "</tr></thead><tbody>")
    for line in table_rows(d):
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in line) + "</tr>")
    parts.append("</tbody></table>")
    parts.append('<ul class="cd-note">' + "".join(f"<li>{e(s)}</li>" for s in summary_lines(d, timing=False))
                 + "</ul>")
    if d.get("probes"):
        parts.append("<table><thead><tr>" + "".join(
            f"<th>{e(c)}</th>" for c in ("fact", "probe", "data old:new", "data odds old:new", "model P(old)",
                                         "model P(new)", "model odds old:new")) + "</tr></thead><tbody>")
        for p in d["probes"]:
            cells = [f"{p['old']} -> {p['new']}", str(p["probe"]), f"{p['data_old']}:{p['data_new']} {p['unit']}",
                     f"{p['data_odds_old_new']:.3g}", f"{p['model_p_old']:.3g}", f"{p['model_p_new']:.3g}",
                     _odds(p["model_odds_old_new"])]
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
    if include_plot:
        try:
            parts.append(f'<div class="cd-plot">{plot_svg(d)}</div>')
        except Exception as ex:  # matplotlib missing or broken: the table still stands
            parts.append(f'<p class="cd-note">plot unavailable: {e(str(ex))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page_html(result: OverwriteResult | dict, audit_report: dict | None = None,
                     include_plot: bool = True) -> str:
    """The lab result as an HTML page: appended to the audit report's page when one is given (the
    report the probes came from), else a page of its own in the same style."""
    from curadebt.measures.registry import render_report
    from curadebt.report.html import render_page

    d = _as_dict(result)
    fragment = render_overwrite_html(d, include_plot=include_plot)
    title = "Lab: fact overwrite dose-response"
    if audit_report:
        return render_report(audit_report, extra_sections=[(title, fragment)])
    return render_page(f"curadebt lab: fact overwrite ({d['model']['name']})", [(title, fragment)],
                       meta=d["model"].get("description") or "")


def write_all(result: OverwriteResult, out_dir: str | Path, plot: bool = True,
              audit_report: dict | None = None) -> dict[str, Path]:
    """overwrite.json, timing.json, overwrite.csv, overwrite_units.csv, overwrite.md, overwrite.html
    and (``plot``) overwrite.png/.svg in ``out_dir``; every file written atomically."""
    out = Path(out_dir)
    paths = {"json": write_json(result, out / "overwrite.json", out / "timing.json"),
             "timing": out / "timing.json",
             "csv": write_csv(result, out / "overwrite.csv"),
             "units_csv": write_units_csv(result, out / "overwrite_units.csv"),
             "markdown": _atomic_write(out / "overwrite.md", markdown_table(result)),
             "html": _atomic_write(out / "overwrite.html", render_page_html(result, audit_report, include_plot=plot))}
    if plot:
        png, svg = write_plot(result, out / "overwrite.png")
        paths["png"], paths["svg"] = png, svg
    return paths
