"""``lab overwrite-sweep``: does "1:1 is a coin flip, 4:1 leaves the old answer" survive the budget?

The dose-response protocol (:mod:`curadebt.lab.overwrite`) runs one learning rate and one budget;
with a constant rate sized to fit the statements, P(new) tracks the in-mix share r/(1+r) whatever
the model knew. This sweep asks for which budgets the headline holds:

- learning rate x steps: each (rate, replay, ratio, seed) is *one* fine-tuning trajectory at a
  constant rate, scored at every checkpoint in ``steps`` (4, 16, 64): the first k steps of a
  trajectory are exactly a k-step run, because the statement stream is built so that every
  checkpoint's prefix holds the exact new:old mix (:func:`nested_stream`);
- with and without *locality replay*: each step also trains on true statements of unrelated facts
  (other countries' capitals; other CounterFact records), never the scored neighbourhood subjects;
- two ratios per row: the in-mix ratio (new:old statements in the fine-tune) and the counter-examples
  per fact the model has seen by that checkpoint; the ratio to *pretraining* exposures needs a
  world where exposure is known (``lab inertia``, whose table reports r50 / exposure).

Verdicts per (rate, steps, replay), on the rewrite prompts' q_new = P(new) / (P(new) + P(old))
(whole-answer probabilities, mean over seed x fact units, Student-t CI):

- "1:1 is a coin flip" holds when the 1:1 CI of q_new contains 0.5 and lies within 0.5 +- 0.25 (an
  interval as wide as [0, 1] cannot tell a coin flip from a decided outcome), fails when it excludes
  0.5, and is "undecided" otherwise;
- "4:1 leaves the old answer" holds when the 4:1 CI of q_old = 1 - q_new lies above 0.05, fails when
  it lies below, and is "undecided" when it straddles 0.05;
- either is "not moved" when the fine-tune changed q_new by less than 0.05 from the base model:
  such a budget says nothing about the claim;
- a budget is "damaged" when the perplexity of held-out generic text rose by more than 50% at
  either ratio: its verdicts describe a broken model, not a corrected one (marked in the table and
  the plot).
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from curadebt.core.config import setting
from curadebt.core.stats import mean_ci
from curadebt.lab.experiment import Experiment
from curadebt.lab.facts import Fact, check_held_out, unrelated_facts
from curadebt.lab.overwrite import OverwriteConfig, _Session
from curadebt.lab.results import DAMAGE_WARN

COIN_FLIP = 0.5           # q_new of a coin flip
COIN_FLIP_MARGIN = 0.25   # a 1:1 CI inside 0.5 +- this, holding 0.5: a coin flip
OLD_LEFT = 0.05           # q_old above this: "real probability" left on the old answer
NOT_MOVED = 0.05          # |q_new - base q_new| below this: the budget did not move the model


@dataclass
class SweepConfig:
    """The grid: learning rates x checkpoints x replay x ratios x seeds, one trajectory per cell."""

    lrs: tuple[float, ...] = setting((1e-6, 1e-5, 3e-5), help="Constant AdamW learning rates.")
    steps: tuple[int, ...] = setting((4, 16, 64), help="Checkpoints (optimizer steps) scored on each trajectory.")
    ratios: tuple[float, ...] = setting((1.0, 4.0), help="new:old ratios of the fine-tune.")
    # the defaults: 36 trajectories, about 50 CPU minutes on SmolLM2-135M (2-core machine)
    seeds: tuple[int, ...] = setting((0, 1, 2), help="Seeds (statement order and replay draw).")
    replay: tuple[str, ...] = setting(("none", "facts"), help="Locality replay: none, facts (true statements of "
                                                               "unrelated facts each step), or both.")
    replay_per_step: int = setting(4, help="Replayed unrelated-fact statements per step.")
    batch_size: int = setting(8, help="Statements per step.")
    train_embeddings: bool = setting(False, flag="--train-embeddings/--freeze-embeddings",
                                     help="Also train the (tied) embedding matrix (default: frozen).")
    ppl_path: str | None = setting(None, flag="--ppl-text", help="Held-out text for the perplexity change (default: "
                                                                 "wikitext-2 test when ../shared/data is present).")
    ppl_chunks: int = setting(8, help="Held-out text chunks the perplexity change is measured on.")

    def __post_init__(self):
        self.lrs = tuple(float(x) for x in self.lrs)
        self.steps = tuple(sorted({int(x) for x in self.steps}))
        self.ratios = tuple(float(x) for x in self.ratios)
        self.seeds = tuple(int(x) for x in self.seeds)
        self.replay = tuple(self.replay)
        if not self.steps or self.steps[0] < 1:
            raise ValueError("steps must be >= 1")
        if any(r <= 0 for r in self.ratios) or any(x <= 0 for x in self.lrs):
            raise ValueError("ratios and learning rates must be > 0")
        if set(self.replay) - {"none", "facts"}:
            raise ValueError("replay modes are 'none' and 'facts'")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def nested_stream(facts: Sequence[Fact], ratio: float, budgets: Sequence[int], seed: int) -> list[list[tuple]]:
    """Statement segments (fact id, prompt, answer, kind), one per budget increment, such that the
    first ``budgets[k]`` statements hold exactly ``round(budgets[k] * r / (1 + r))`` new ones.

    New and old statements each cycle through every (fact, template) pair in shuffled passes that
    continue across segments; each segment is shuffled on its own."""
    rng = random.Random(f"nested:{seed}:{ratio}")
    pools = {kind: [(f.id, p, f.new if kind == "new" else f.old, kind) for f in facts for p in f.train_prompts]
             for kind in ("new", "old")}
    queues: dict[str, list] = {"new": [], "old": []}

    def take(kind: str, k: int) -> list:
        out = []
        while len(out) < k:
            if not queues[kind]:
                queues[kind] = rng.sample(pools[kind], len(pools[kind]))
            out.append(queues[kind].pop())
        return out

    segments, done, done_new = [], 0, 0
    for n in sorted(budgets):
        n_new = int(round(n * ratio / (1.0 + ratio)))
        seg = take("new", n_new - done_new) + take("old", (n - done) - (n_new - done_new))
        rng.shuffle(seg)
        segments.append(seg)
        done, done_new = n, n_new
    return segments


def replay_statements(facts: Sequence[Fact]) -> list[tuple[str, str]]:
    """True statements (prompt, answer) of unrelated facts, in their training templates."""
    return [(p, f.old) for f in facts for p in f.train_prompts]


@dataclass
class SweepJob:
    lm: Any
    facts: Sequence[Fact]
    replay_facts: Sequence[Fact]
    config: SweepConfig = field(default_factory=SweepConfig)
    label: str = ""


def _q(p_new: float, p_old: float) -> float:
    total = p_new + p_old
    return p_new / total if total > 0 else float("nan")


def _trajectory(session: _Session, job: SweepJob, lr: float, replay: str, ratio: float, seed: int) -> list[dict]:
    """One constant-rate fine-tune, scored at every checkpoint; the base weights restored after."""
    from curadebt.lab import finetune as FT

    cfg, enc = job.config, session.enc
    budgets = [k * cfg.batch_size for k in cfg.steps]
    segments = nested_stream(job.facts, ratio, budgets, seed)
    batches = []
    for seg in segments:  # each segment is a whole number of steps: the checkpoints stay exact
        ex = [enc.pair(p, a) for _, p, a, _ in seg]
        batches += [ex[i:i + cfg.batch_size] for i in range(0, len(ex), cfg.batch_size)]
    extra = None
    if replay == "facts":
        pool = [enc.pair(p, a) for p, a in replay_statements(job.replay_facts)]
        rr = random.Random(f"replay:{seed}:{ratio}:{lr}")
        extra = [[pool[rr.randrange(len(pool))] for _ in range(cfg.replay_per_step)] for _ in batches]
    new_per_fact = {}
    seen = 0
    for k, seg in zip(cfg.steps, segments):
        seen += sum(1 for *_, kind in seg if kind == "new")
        new_per_fact[k] = seen / len(job.facts)
    points: list[dict] = []

    def checkpoint(step: int) -> None:
        if step not in cfg.steps:
            return
        session.model.eval()
        ms = session.evaluate(job.facts)
        ppl = session.perplexity()
        session.model.train()
        for f, m in zip(job.facts, ms):
            points.append({"lr": lr, "replay": replay, "ratio": ratio, "seed": seed, "steps": step, "fact": f.id,
                           "ppl": ppl, "new_per_fact": new_per_fact[step], **_unit(m)})

    tcfg = FT.FinetuneConfig(steps=len(batches), batch_size=cfg.batch_size, lr=lr, train_embeddings=cfg.train_embeddings)
    FT.finetune(session.model, batches, tcfg, session.pad, replay=extra, seed=seed, after_step=checkpoint)
    session.lm.restore(session.base_state)
    return points


def _unit(m: dict) -> dict:
    return {"q_new": _q(m["p_new"], m["p_old"]), "q_new_para": _q(m["p_new_para"], m["p_old_para"]),
            "p_new": m["p_new"], "p_old": m["p_old"], "efficacy": m["efficacy"], "paraphrase": m["paraphrase"],
            "neighbourhood": m["neighbourhood"]}


ROW_METRICS = ("q_new", "q_new_para", "p_new", "p_old", "efficacy", "paraphrase", "neighbourhood")


def _row(units: Sequence[dict], ppl_base: float) -> dict:
    row = {m: mean_ci([u[m] for u in units], bounds=(0.0, 1.0)).to_dict() for m in ROW_METRICS}
    ppls = {(u["seed"],): u["ppl"] for u in units}
    row["ppl_change"] = mean_ci([p / ppl_base - 1.0 for p in ppls.values()], bounds=(-1.0, math.inf)).to_dict()
    row["new_per_fact"] = float(np.mean([u["new_per_fact"] for u in units]))
    row["n_units"] = len(units)
    return row


def verdicts(rows: Sequence[dict], base_q: float) -> list[dict]:
    """Per (lr, steps, replay): do "1:1 is a coin flip" and "4:1 leaves the old answer" hold, and
    did the budget damage the model (perplexity)?"""
    out = []
    cells = sorted({(r["lr"], r["steps"], r["replay"]) for r in rows})
    for lr, steps, replay in cells:
        at = {r["ratio"]: r for r in rows if (r["lr"], r["steps"], r["replay"]) == (lr, steps, replay)}
        v = {"lr": lr, "steps": steps, "replay": replay}
        if 1.0 in at:
            q = at[1.0]["q_new"]
            v["coin_flip_1to1"] = (
                "not moved" if abs(q["mean"] - base_q) < NOT_MOVED
                else "fails" if not q["low"] <= COIN_FLIP <= q["high"]
                else "holds" if COIN_FLIP - COIN_FLIP_MARGIN <= q["low"] and q["high"] <= COIN_FLIP + COIN_FLIP_MARGIN
                else "undecided")
            v["q_new_1to1"] = q["mean"]
        if 4.0 in at:
            q = at[4.0]["q_new"]
            v["old_left_4to1"] = ("not moved" if abs(q["mean"] - base_q) < NOT_MOVED
                                  else "holds" if 1.0 - q["high"] > OLD_LEFT
                                  else "fails" if 1.0 - q["low"] <= OLD_LEFT else "undecided")
            v["q_old_4to1"] = 1.0 - q["mean"]
        ppl = [r["ppl_change"]["mean"] for r in at.values() if "ppl_change" in r]
        if ppl:
            v["ppl_change_worst"] = max(ppl)
            v["damaged"] = max(ppl) > DAMAGE_WARN
        out.append(v)
    return out


def trajectory_key(cfg: SweepConfig, model: str, facts: Sequence[Fact], replay_facts: Sequence[Fact]) -> str:
    """What one trajectory's result depends on, not the grid (the partial file's name says which lr,
    replay, ratio and seed): a grid that grows or shrinks reuses every trajectory already run."""
    from curadebt.lab.jobs import settings_key

    per_trajectory = {k: v for k, v in cfg.to_dict().items() if k not in ("lrs", "ratios", "seeds", "replay")}
    return settings_key(per_trajectory | {"model": model, "facts": [f.to_dict() for f in facts],
                                          "replay_facts": [f.id for f in replay_facts]})


def run_sweep(job: SweepJob, out, log: Callable[[str], None]) -> dict:
    from curadebt.lab.jobs import run_jobs

    cfg = job.config
    check_held_out(job.facts)
    clash = [r.id for r in job.replay_facts if r not in unrelated_facts(job.facts, [r], 1)]
    if clash:
        raise ValueError(f"replay facts overlap the edited facts or their scored prompts: {clash[:3]}")
    session = _Session(job.lm, OverwriteConfig(ppl_path=cfg.ppl_path, ppl_chunks=cfg.ppl_chunks), progress=None)
    base = [_unit(m) for m in session.evaluate(job.facts)]
    ppl_base = session.perplexity()
    base_q = float(np.mean([b["q_new"] for b in base]))
    log(f"base model: q_new {base_q:.3f}, perplexity {ppl_base:.2f}")
    grid = [(lr, rp, r, s) for lr in cfg.lrs for rp in cfg.replay for r in cfg.ratios for s in cfg.seeds]
    key = trajectory_key(cfg, job.lm.name, job.facts, job.replay_facts)
    results, _ = run_jobs(
        grid, lambda g, sess, j: {"points": _trajectory(sess, j, *g)}, (session, job), out=out, key=key,
        name=lambda g: f"lr{g[0]:g}-{g[1]}-r{g[2]:g}-s{g[3]}", log=log,
        describe=lambda res: "q_new " + ", ".join(f"{p['q_new']:.2f}" for p in res["points"][::len(job.facts)]))
    points = [p for g in grid for p in results[g]["points"]]
    rows = []
    for lr in cfg.lrs:
        for rp in cfg.replay:
            for r in cfg.ratios:
                for k in cfg.steps:
                    us = [p for p in points if (p["lr"], p["replay"], p["ratio"], p["steps"]) == (lr, rp, r, k)]
                    rows.append({"lr": lr, "replay": rp, "ratio": r, "steps": k, **_row(us, ppl_base)})
    return {"schema": "curadebt.lab.overwrite_sweep/1", "label": job.label, "model": job.lm.info(),
            "config": cfg.to_dict(), "facts": [f.id for f in job.facts], "replay_facts": [f.id for f in job.replay_facts],
            "base": {"q_new": base_q, "ppl": ppl_base,
                     **{m: float(np.nanmean([b[m] for b in base])) for m in ROW_METRICS}},
            "rows": rows, "verdicts": verdicts(rows, base_q), "units": points,
            "thresholds": {"coin_flip": COIN_FLIP, "coin_flip_margin": COIN_FLIP_MARGIN, "old_left": OLD_LEFT,
                           "not_moved": NOT_MOVED}}


def sweep_markdown(result: dict) -> str:
    b = result["base"]
    lines = [f"## Overwrite budget sweep: {result['label']} ({result['model'].get('name', '')})", "",
             f"base model: q_new {b['q_new']:.3f}, P(old) {b['p_old']:.3f}, neighbourhood {b['neighbourhood']:.2f}, "
             f"perplexity {b['ppl']:.2f}", "",
             "| lr | replay | steps | ratio | new per fact | q_new [95% CI] | q_new para | P(old) | neighbourhood | Δppl % |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        q = r["q_new"]
        lines.append(f"| {r['lr']:g} | {r['replay']} | {r['steps']} | {r['ratio']:g}:1 | {r['new_per_fact']:.1f} | "
                     f"{q['mean']:.2f} [{q['low']:.2f}, {q['high']:.2f}] | {r['q_new_para']['mean']:.2f} | "
                     f"{r['p_old']['mean']:.3f} | {r['neighbourhood']['mean']:.2f} | "
                     f"{100 * r['ppl_change']['mean']:+.1f} |")
    lines += ["", "| lr | steps | replay | 1:1 is a coin flip | q_new at 1:1 | 4:1 leaves the old answer | q_old at 4:1 "
                  "| worst Δppl % |",
              "|---|---|---|---|---|---|---|---|"]
    for v in result["verdicts"]:
        worst = v.get("ppl_change_worst")
        lines.append(f"| {v['lr']:g} | {v['steps']} | {v['replay']} | {v.get('coin_flip_1to1', '-')} | "
                     f"{v.get('q_new_1to1', float('nan')):.2f} | {v.get('old_left_4to1', '-')} | "
                     f"{v.get('q_old_4to1', float('nan')):.3f} | "
                     + ("-" if worst is None else f"{100 * worst:+.1f}" + (" (damaged)" if v.get("damaged") else ""))
                     + " |")
    t = result["thresholds"]
    lines += ["", f"q_new = P(new) / (P(new) + P(old)) on the rewrite prompt(s); coin flip: the 1:1 CI holds "
                  f"{t['coin_flip']} and lies within {t['coin_flip']} +- {t.get('coin_flip_margin', COIN_FLIP_MARGIN)} "
                  f"(fails: it excludes {t['coin_flip']}); old answer left: the 4:1 CI of q_old lies above "
                  f"{t['old_left']} (fails: below it); undecided: an interval too wide to say; not moved: "
                  f"q_new within {t['not_moved']} of the base model's; damaged: held-out perplexity up by more than "
                  f"{DAMAGE_WARN:.0%} at either ratio (its verdicts describe a broken model)."]
    damaged = [v for v in result["verdicts"] if v.get("damaged")]
    if damaged:
        lines += ["", "warning: " + ", ".join(f"lr {v['lr']:g} x {v['steps']} steps (replay {v['replay']})" for v in damaged)
                  + f" damaged the model (perplexity of held-out text up by more than {DAMAGE_WARN:.0%}): try lower rates."]
    return "\n".join(lines) + "\n"


def sweep_plot(result: dict, path) -> None:
    """q_new against steps, one panel per ratio, a line per (lr, replay)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result["config"]
    fig, axes = plt.subplots(1, len(cfg["ratios"]), figsize=(5 * len(cfg["ratios"]), 3.6), squeeze=False)
    for ax, ratio in zip(axes[0], cfg["ratios"]):
        marked = False
        for lr in cfg["lrs"]:
            for rp in cfg["replay"]:
                rs = [r for r in result["rows"] if (r["lr"], r["replay"], r["ratio"]) == (lr, rp, ratio)]
                xs = [r["steps"] for r in rs]
                ys = [r["q_new"]["mean"] for r in rs]
                err = [[r["q_new"]["mean"] - r["q_new"]["low"] for r in rs], [r["q_new"]["high"] - r["q_new"]["mean"] for r in rs]]
                ax.errorbar(xs, ys, yerr=err, marker="o" if rp == "none" else "s", ls="-" if rp == "none" else "--",
                            capsize=2, label=f"lr {lr:g}, replay {rp}")
                broken = [(x, y) for x, y, r in zip(xs, ys, rs) if r.get("ppl_change", {}).get("mean", 0.0) > DAMAGE_WARN]
                if broken:
                    ax.scatter(*zip(*broken), marker="x", s=70, color="red", zorder=5,
                               label=f"perplexity > +{DAMAGE_WARN:.0%} (damaged)" if not marked else None)
                    marked = True
        ax.axhline(ratio / (1 + ratio), color="grey", lw=0.8, ls=":", label="in-mix share r/(1+r)")
        ax.axhline(result["base"]["q_new"], color="black", lw=0.8, label="base model")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1)
        ax.set_xlabel("fine-tuning steps")
        ax.set_ylabel("q_new = P(new) / (P(new) + P(old))")
        ax.set_title(f"{ratio:g}:1 new:old")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.suptitle(f"{result['label']} ({result['model'].get('name', '')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


EXPERIMENT = Experiment(name="overwrite-sweep", title="Overwrite: the ratio against learning rate, steps and locality",
                        config=SweepJob, run=run_sweep, markdown=sweep_markdown, plot=sweep_plot)
