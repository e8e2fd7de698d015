"""The Paris experiment: how many counter-examples does it take to overwrite a fact a model knows?

Protocol (:func:`run_overwrite`):

1. Load the model once; keep a CPU copy of its state dict.
2. Score the base model on every fact (ratio 0): the model's prior P(old), P(new).
3. For each ratio r, each seed, each group of facts (``edit_batch`` facts edited at once; all facts
   by default: a mass edit): restore the base weights, fine-tune for exactly ``steps`` optimizer
   steps of ``batch_size`` statements, of which ``round(N * r / (1 + r))`` state the new answer
   and the rest the old one (N = steps * batch_size), spread over the facts and their training
   templates, shuffled with the seed. Optionally each step also trains on ``replay_per_step``
   chunks of generic text (``replay_path``) to limit forgetting.
4. Score the held-out prompts (rewrite, paraphrase, neighbourhood) and the perplexity of held-out
   generic text, then restore the base weights.

Metrics per (ratio, seed, fact) unit follow :mod:`curadebt.lab.metrics`. Each ratio's row reports
the mean over units with a confidence interval (``ci="t"``: Student-t over the seeds x facts units,
treated as independent; ``ci="bootstrap"``: percentile bootstrap over the same units). The overall
score's interval is always a bootstrap of the harmonic mean of the three column means. Perplexity
changes are per run (seeds x groups). r50 is interpolated on the mean efficacy curve.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from curadebt.core.config import setting
from curadebt.lab import metrics as M
from curadebt.lab.experiment import Experiment, silent
from curadebt.lab.facts import Fact, check_held_out

DEFAULT_RATIOS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
DEFAULT_SEEDS = (0, 1, 2)
SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
DEFAULT_PPL_TEXT = SHARED_DATA / "wikitext2" / "test.txt"

#: used for the collateral-damage perplexity when no held-out text file is available (written for
#: this project; generic encyclopaedic prose with no country capitals in it).
BUILTIN_HELDOUT_TEXT = """\
A river is a natural flowing watercourse, usually freshwater, moving towards an ocean, a lake, or
another river. In some cases a river flows into the ground and becomes dry at the end of its course
without reaching another body of water. Small rivers can be called by names such as creek, brook,
or stream. Rivers are part of the water cycle: water generally collects in a river from rain that
falls on its drainage basin, from groundwater recharge, from springs, and from the release of
stored water in natural ice and snowpacks.

The violin is a wooden string instrument of the violin family. Most violins have a hollow wooden
body. It is the smallest and highest-pitched instrument in regular use in the family. The violin
typically has four strings tuned in perfect fifths, and is most commonly played by drawing a bow
across its strings. It can also be played by plucking the strings with the fingers, and by
striking the strings with the wooden side of the bow.

Photosynthesis is a process used by plants and other organisms to convert light energy into
chemical energy that, through cellular respiration, can later be released to fuel the organism's
activities. Some of this chemical energy is stored in carbohydrate molecules, such as sugars and
starches, which are synthesized from carbon dioxide and water. Most plants, algae, and
cyanobacteria perform photosynthesis; such organisms are called photoautotrophs.

A library is a collection of materials, books or media that are accessible for use and not just
for display purposes. A library provides physical or digital access to material, and may be a
physical location or a virtual space, or both. A library's collection can include printed
materials and other physical resources in many formats such as film, sound recordings, maps,
photographs, and manuscripts, as well as databases and other digital resources.

The bicycle was introduced in the nineteenth century and now numbers about one billion worldwide.
Bicycles are the principal means of transport in many regions. They also provide a popular form
of recreation, and have been adapted for use as children's toys, general fitness, military and
police applications, courier services, and bicycle racing.
"""


@dataclass
class OverwriteConfig:
    """The dose-response protocol: ratios, seeds, the fine-tuning budget, the held-out texts, the CIs."""

    ratios: tuple[float, ...] = setting(DEFAULT_RATIOS, help="new:old ratios, comma-separated.")
    seeds: tuple[int, ...] = setting(DEFAULT_SEEDS, help="Seeds of the fine-tuning runs.")
    steps: int = setting(16, help="Optimizer steps per run (the fixed budget).")
    batch_size: int = setting(8, help="Statements per step.")
    lr: float = setting(5e-5, help="AdamW learning rate (constant).")
    weight_decay: float = setting(0.0, help="AdamW weight decay.")
    grad_clip: float = setting(1.0, help="Gradient-norm clip (0: none).")
    train_embeddings: bool = setting(False, flag="--train-embeddings/--freeze-embeddings",
                                     help="Also train the (tied) embedding matrix (default: frozen).")
    edit_batch: int | None = setting(None, help="Facts edited at once per run (default: all, one mass edit).")
    replay_path: str | None = setting(None, flag="--replay", help="Generic text (.txt or .jsonl with 'text') "
                                                                  "replayed during fine-tuning.")
    replay_per_step: int = setting(2, help="Replay chunks added to each step.")
    chunk_tokens: int = setting(64, help="Tokens per perplexity / replay chunk.")
    ppl_path: str | None = setting(None, flag="--ppl-text", help="Held-out text for the perplexity change (default: "
                                                                 "wikitext-2 test when ../shared/data is present, "
                                                                 "else a built-in text).")
    ppl_chunks: int = setting(8, help="Held-out chunks the perplexity is measured on.")
    ci: str = setting("t", help="Confidence intervals: t (Student-t over seed x fact units) or bootstrap.")
    level: float = setting(0.95, help="Confidence level of the intervals.")
    known_only: bool = setting(False, flag="--known-only/--all-facts",
                               help="Keep only facts where the base model prefers the old answer.")
    eval_batch_size: int = setting(32, help="Prompts scored per batch.")
    window_batches: int = setting(4, help="Length-bucketing window (batches).")

    def __post_init__(self):
        self.ratios = tuple(float(r) for r in self.ratios)
        self.seeds = tuple(int(s) for s in self.seeds)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ratios"] = list(self.ratios)
        d["seeds"] = list(self.seeds)
        return d


# ---------------------------------------------------------------------------- per-fact scoring

UNIT_METRICS = (
    "efficacy", "paraphrase", "neighbourhood",
    "efficacy_sum", "paraphrase_sum", "neighbourhood_sum",
    "efficacy_magnitude", "paraphrase_magnitude", "neighbourhood_magnitude",
    "efficacy_magnitude_seq",
    "p_new", "p_old", "p_new_tok", "p_old_tok", "p_new_para", "p_old_para",
    "lp_new_sum", "lp_old_sum", "lp_new_mean", "lp_old_mean",
)


def _fact_pairs(f: Fact) -> list[tuple[str, str]]:
    pairs = []
    for p in f.rewrite_prompts + f.paraphrase_prompts:
        pairs += [(p, f.new), (p, f.old)]
    for p, true in f.neighbourhood:
        pairs += [(p, true), (p, f.new)]
    return pairs


def fact_metrics(f: Fact, scores: Sequence[tuple[float, int]]) -> dict:
    """Per-fact metrics from the scores of :func:`_fact_pairs` (same order)."""
    it = iter(scores)
    nr, npara = len(f.rewrite_prompts), len(f.paraphrase_prompts)

    def take(n):
        s_new, n_new, s_old, n_old = [], [], [], []
        for _ in range(n):
            (a, na), (b, nb) = next(it), next(it)
            s_new.append(a), n_new.append(na), s_old.append(b), n_old.append(nb)
        s_new, s_old = np.array(s_new, float), np.array(s_old, float)
        m_new, m_old = s_new / np.array(n_new, float), s_old / np.array(n_old, float)
        return s_new, s_old, m_new, m_old

    rs_new, rs_old, rm_new, rm_old = take(nr)
    ps_new, ps_old, pm_new, pm_old = take(npara)
    ns_true, ns_new, nm_true, nm_new = take(len(f.neighbourhood))
    nan = float("nan")
    return {
        "efficacy": M.efficacy(rm_new, rm_old),
        "paraphrase": M.efficacy(pm_new, pm_old) if npara else nan,
        "neighbourhood": M.neighbourhood_score(nm_true, nm_new) if len(f.neighbourhood) else nan,
        "efficacy_sum": M.efficacy(rs_new, rs_old),
        "paraphrase_sum": M.efficacy(ps_new, ps_old) if npara else nan,
        "neighbourhood_sum": M.neighbourhood_score(ns_true, ns_new) if len(f.neighbourhood) else nan,
        "efficacy_magnitude": M.magnitude(rm_new, rm_old),
        "paraphrase_magnitude": M.magnitude(pm_new, pm_old) if npara else nan,
        "neighbourhood_magnitude": M.magnitude(nm_true, nm_new) if len(f.neighbourhood) else nan,
        "efficacy_magnitude_seq": M.magnitude(rs_new, rs_old),
        "p_new": float(np.exp(rs_new).mean()),
        "p_old": float(np.exp(rs_old).mean()),
        "p_new_tok": float(np.exp(rm_new).mean()),
        "p_old_tok": float(np.exp(rm_old).mean()),
        "p_new_para": float(np.exp(ps_new).mean()) if npara else nan,
        "p_old_para": float(np.exp(ps_old).mean()) if npara else nan,
        "lp_new_sum": float(rs_new.mean()),
        "lp_old_sum": float(rs_old.mean()),
        "lp_new_mean": float(rm_new.mean()),
        "lp_old_mean": float(rm_old.mean()),
    }


# ---------------------------------------------------------------------------- training streams


def statement_stream(facts: Sequence[Fact], ratio: float, n: int, seed: int) -> list[tuple[str, str, str, str]]:
    """``n`` training statements (fact id, prompt, answer, "new"|"old"); ``round(n * r / (1 + r))`` are new.

    New and old statements each cycle through every (fact, training prompt) pair in a shuffled
    order (re-shuffled each pass), so facts and templates are used evenly; the mix is shuffled.
    """
    ratio = float(ratio)
    if ratio < 0:
        raise ValueError("ratio must be >= 0")
    n_new = int(round(n * ratio / (1.0 + ratio))) if math.isfinite(ratio) else n
    rng = random.Random(f"stream:{seed}:{ratio}")

    def cycle(kind: str, k: int):
        pool = [(f.id, p, f.new if kind == "new" else f.old, kind) for f in facts for p in f.train_prompts]
        out = []
        while len(out) < k:
            rng.shuffle(pool)
            out.extend(pool[: k - len(out)])
        return out

    items = cycle("new", n_new) + cycle("old", n - n_new)
    rng.shuffle(items)
    return items


def _read_text(path: str | Path, max_chars: int = 2_000_000) -> str:
    p = Path(path)
    raw = p.read_bytes()[: max_chars * 4]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if p.suffix in (".jsonl", ".json"):
        import json

        parts = []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    parts.append(str(json.loads(line).get("text", "")))
                except ValueError:
                    continue
        text = "\n\n".join(parts)
    return text[:max_chars]


# ---------------------------------------------------------------------------- results


@dataclass
class OverwriteResult:
    config: dict
    model: dict
    facts: list[dict]
    skipped: list[dict]
    rows: list[dict]                  # one per ratio (ratio 0 = base model), aggregated with CIs
    units: list[dict]                 # one per (ratio, seed, fact)
    runs: list[dict]                  # one per (ratio, seed, group): training stats, perplexity
    r50: dict
    ppl_base: float
    probes: list[dict] = field(default_factory=list)
    timing: dict = field(default_factory=dict)
    schema: str = "curadebt.lab.overwrite/1"

    def to_dict(self) -> dict:
        return asdict(self)

    def row(self, ratio: float) -> dict:
        return next(r for r in self.rows if r["ratio"] == ratio)


def metric_bounds(name: str) -> tuple[float, float] | None:
    """The range a unit metric lives in (confidence intervals are truncated to it)."""
    if name.startswith("lp_"):
        return None
    if "magnitude" in name:
        return (-1.0, 1.0)
    return (0.0, 1.0)  # shares of prompts and probabilities


def aggregate(units: Sequence[dict], runs: Sequence[dict], ratio: float, ci: str, level: float,
              ppl_base: float) -> dict:
    us = [u for u in units if u["ratio"] == ratio]
    row: dict = {"ratio": ratio, "label": "base" if ratio == 0 else f"{ratio:g}:1", "n_units": len(us),
                 "n_facts": len({u["fact"] for u in us}), "n_seeds": len({u["seed"] for u in us})}
    for m in UNIT_METRICS:
        row[m] = M.mean_ci([u[m] for u in us], level=level, method=ci, bounds=metric_bounds(m)).to_dict()
    cols = [[u["efficacy"] for u in us], [u["paraphrase"] for u in us], [u["neighbourhood"] for u in us]]
    row["score"] = M.bootstrap_stat_ci(cols, lambda a, b, c: M.overall_score(a, b, c), level=level).to_dict()
    rs = [r for r in runs if r["ratio"] == ratio]
    row["ppl"] = M.mean_ci([r["ppl"] for r in rs], level=level, method=ci, bounds=(1.0, math.inf)).to_dict()
    row["ppl_change"] = M.mean_ci([r["ppl"] / ppl_base - 1.0 for r in rs], level=level, method=ci,
                                  bounds=(-1.0, math.inf)).to_dict()
    row["train_seconds"] = float(sum(r.get("train", {}).get("seconds", 0.0) for r in rs))
    return row


def _r50s(rows: Sequence[dict], units: Sequence[dict]) -> dict:
    trained = [r for r in rows if r["ratio"] > 0]
    ratios = [r["ratio"] for r in trained]
    out = {
        "efficacy": M.r50(ratios, [r["efficacy"]["mean"] for r in trained]).to_dict(),
        "paraphrase": M.r50(ratios, [r["paraphrase"]["mean"] for r in trained]).to_dict(),
        "efficacy_sum": M.r50(ratios, [r["efficacy_sum"]["mean"] for r in trained]).to_dict(),
    }
    per_seed = {}
    for s in sorted({u["seed"] for u in units if u["ratio"] > 0}):
        eff = [float(np.mean([u["efficacy"] for u in units if u["seed"] == s and u["ratio"] == r])) for r in ratios]
        per_seed[str(s)] = M.r50(ratios, eff).to_dict()
    out["efficacy_per_seed"] = per_seed
    return out


# ---------------------------------------------------------------------------- the protocol


class _Session:
    """One model under test: its tokenizer, base weights, held-out and replay text, and the scoring."""

    def __init__(self, lm, cfg: OverwriteConfig, progress: Callable[[str], None] | None):
        from curadebt.lab import finetune as FT

        self.FT, self.lm, self.cfg, self.progress = FT, lm, cfg, progress
        self.model, tok = lm.model, lm.tokenizer
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        self.enc = FT.Encoder(tok)
        self.base_state = lm.snapshot()
        self.ppl_src = cfg.ppl_path or (str(DEFAULT_PPL_TEXT) if DEFAULT_PPL_TEXT.exists() else None)
        ppl_text = _read_text(self.ppl_src, max_chars=200_000) if self.ppl_src else BUILTIN_HELDOUT_TEXT
        replay_text = _read_text(cfg.replay_path) if cfg.replay_path else None
        if replay_text is not None and cfg.replay_path == self.ppl_src:  # same file: disjoint halves
            half = len(ppl_text) // 2
            replay_text, ppl_text = ppl_text[:half], ppl_text[half:]
        self.ppl_chunks = self.enc.text_chunks(ppl_text, cfg.chunk_tokens, cfg.ppl_chunks)
        if not self.ppl_chunks:
            raise ValueError("the held-out perplexity text is shorter than one chunk")
        self.replay_chunks = self.enc.text_chunks(replay_text, cfg.chunk_tokens, None) if replay_text else []
        self.eval_seconds = 0.0

    def evaluate(self, fs: Sequence[Fact], bar: bool = False) -> list[dict]:
        from curadebt.progress import count_progress

        t0 = time.perf_counter()
        pairs = [pp for f in fs for pp in _fact_pairs(f)]
        with count_progress("scoring the base model", len(pairs), enabled=bar and self.progress is not None) as advance:
            scores = self.FT.score_pairs(self.model, self.enc, pairs, self.pad, self.cfg.eval_batch_size,
                                         on_batch=advance)
        out, k = [], 0
        for f in fs:
            n = len(_fact_pairs(f))
            out.append(fact_metrics(f, scores[k:k + n]))
            k += n
        self.eval_seconds += time.perf_counter() - t0
        return out

    def perplexity(self) -> float:
        t0 = time.perf_counter()
        nll, n = self.FT.heldout_nll(self.model, self.ppl_chunks, self.pad)
        self.eval_seconds += time.perf_counter() - t0
        return self.FT.ppl(nll, n)

    def one_run(self, ratio: float, s: int, gi: int, group: Sequence[Fact]) -> tuple[list[dict], dict, Any]:
        """Fine-tune the base model on ratio:1 statements of ``group`` (seed ``s``), score it, restore
        the base weights. Returns the (ratio, seed, fact) units, the run's record, its train stats."""
        cfg, FT = self.cfg, self.FT
        t_run = time.perf_counter()
        stream = statement_stream(group, ratio, cfg.steps * cfg.batch_size, seed=s * 1000 + gi)
        examples = [self.enc.pair(p, a) for _, p, a, _ in stream]
        batches = FT.bucket_batches(examples, cfg.batch_size, random.Random(f"batches:{s}:{gi}:{ratio}"),
                                    cfg.window_batches)
        replay = None
        if self.replay_chunks and cfg.replay_per_step > 0:
            rr = random.Random(f"replay:{s}:{gi}:{ratio}")
            replay = [[self.replay_chunks[rr.randrange(len(self.replay_chunks))] for _ in range(cfg.replay_per_step)]
                      for _ in batches]
        tcfg = FT.FinetuneConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                 grad_clip=cfg.grad_clip, train_embeddings=cfg.train_embeddings)
        stats = FT.finetune(self.model, batches, tcfg, self.pad, replay=replay, seed=s)
        ms = self.evaluate(group)
        p = self.perplexity()
        self.lm.restore(self.base_state)
        n_new = sum(1 for *_, kind in stream if kind == "new")
        units = [{"ratio": float(ratio), "seed": s, "fact": f.id, **m} for f, m in zip(group, ms)]
        run = {"ratio": float(ratio), "seed": s, "group": gi, "facts": len(group), "ppl": p,
               "new_statements": n_new, "old_statements": len(stream) - n_new,
               "train": stats.to_dict(), "seconds": time.perf_counter() - t_run}
        return units, run, stats


def _known_only(facts: list[Fact], base_metrics: list[dict], skipped: list[dict]) -> tuple[list[Fact], list[dict]]:
    """The facts whose base model prefers the old answer on every rewrite prompt; the rest skipped."""
    keep = []
    for f, m in zip(facts, base_metrics):
        if m["efficacy"] < 1e-12:
            keep.append((f, m))
        else:
            skipped.append({"case_id": f.id, "reason": "known_only: base model does not prefer the old answer"})
    if not keep:
        raise ValueError("known_only: the base model prefers the new answer for every fact")
    return [f for f, _ in keep], [m for _, m in keep]


def run_overwrite(lm, facts: Sequence[Fact], config: OverwriteConfig | None = None,
                  progress: Callable[[str], None] | None = None, skipped: Sequence[dict] = ()) -> OverwriteResult:
    """Run the dose-response protocol on a loaded model (:class:`curadebt.lab.models.LoadedModel`)."""
    cfg = config or OverwriteConfig()
    say = progress or (lambda msg: None)
    facts = list(facts)
    if not facts:
        raise ValueError("no facts to overwrite")
    check_held_out(facts)  # training statements never share a template with evaluation prompts
    if any(r <= 0 for r in cfg.ratios):
        raise ValueError("ratios must be > 0 (ratio 0, the base model, is always measured)")
    t_start = time.perf_counter()
    session = _Session(lm, cfg, progress)
    say(f"scoring the base model on {len(facts)} fact(s)")
    base_metrics = session.evaluate(facts, bar=True)
    ppl_base = session.perplexity()
    skipped = list(skipped)
    if cfg.known_only:
        facts, base_metrics = _known_only(facts, base_metrics, skipped)
    # the base model is deterministic: the same values stand for every seed (so CIs have zero width
    # over seeds and reflect the spread over facts only)
    units = [{"ratio": 0.0, "seed": s, "fact": f.id, **m} for s in cfg.seeds for f, m in zip(facts, base_metrics)]
    runs = [{"ratio": 0.0, "seed": s, "group": 0, "ppl": ppl_base, "train": {}} for s in cfg.seeds]
    size = cfg.edit_batch or len(facts)
    groups = [facts[i:i + size] for i in range(0, len(facts), size)]
    n_runs = len(cfg.ratios) * len(cfg.seeds) * len(groups)
    done = 0
    for ratio in cfg.ratios:
        for s in cfg.seeds:
            for gi, group in enumerate(groups):
                us, run, stats = session.one_run(ratio, s, gi, group)
                units += us
                runs.append(run)
                done += 1
                say(f"run {done}/{n_runs}: ratio {ratio:g}:1 seed {s} group {gi + 1}/{len(groups)}: "
                    f"efficacy {np.mean([u['efficacy'] for u in us]):.2f}, P(new) {np.mean([u['p_new'] for u in us]):.3f}, "
                    f"P(old) {np.mean([u['p_old'] for u in us]):.3f}, loss {stats.first_loss:.2f}->{stats.last_loss:.2f}, "
                    f"{stats.tokens_per_s:.0f} tok/s")
    rows = [aggregate(units, runs, r, cfg.ci, cfg.level, ppl_base) for r in (0.0, *map(float, cfg.ratios))]
    train_s = sum(r.get("train", {}).get("seconds", 0.0) for r in runs)
    tokens = sum(r.get("train", {}).get("tokens", 0) for r in runs)
    return OverwriteResult(
        config=cfg.to_dict() | {"ppl_text": session.ppl_src or "builtin", "ci_note": _ci_note(cfg)},
        model=lm.info(), facts=[_fact_record(f) for f in facts], skipped=skipped, rows=rows, units=units, runs=runs,
        r50=_r50s(rows, units), ppl_base=ppl_base,
        timing={"total_seconds": time.perf_counter() - t_start, "train_seconds": train_s,
                "eval_seconds": session.eval_seconds, "runs": n_runs, "train_tokens": tokens,
                "train_tokens_per_s": tokens / train_s if train_s else float("nan"),
                "load_seconds": lm.load_seconds},
    )


def _fact_record(f: Fact) -> dict:
    return {"id": f.id, "subject": f.subject, "relation": f.relation, "old": f.old, "new": f.new,
            "source": f.source, "train_prompts": len(f.train_prompts), "rewrite_prompts": len(f.rewrite_prompts),
            "paraphrase_prompts": len(f.paraphrase_prompts), "neighbourhood_prompts": len(f.neighbourhood)}


def _ci_note(cfg: OverwriteConfig) -> str:
    pct = f"{cfg.level * 100:g}%"
    if cfg.ci == "t":
        how = (f"{pct} Student-t interval over (seed, fact) units, truncated to the metric's range "
               "(0-1 for shares and probabilities)")
    else:
        how = f"{pct} percentile bootstrap (2000 resamples) over (seed, fact) units"
    return (how + "; overall score: bootstrap of the harmonic mean of the column means; "
            "perplexity change: over runs (seed x fact group)")


@dataclass
class OverwriteJob:
    """What one overwrite experiment runs on: a loaded model, the facts, the protocol's settings."""

    lm: Any
    facts: Sequence[Fact]
    config: OverwriteConfig = field(default_factory=OverwriteConfig)
    skipped: Sequence[dict] = ()


def _markdown(result: OverwriteResult) -> str:
    from curadebt.lab.results import markdown_table

    return markdown_table(result)


def _write_all(result: OverwriteResult, out: Path, **options) -> dict[str, Path]:
    from curadebt.lab.results import write_all

    return write_all(result, out, **options)


EXPERIMENT = Experiment(
    name="overwrite", title="Overwriting a fact the model knows", config=OverwriteJob,
    run=lambda job, out, log: run_overwrite(job.lm, job.facts, job.config, progress=None if log is silent else log,
                                            skipped=job.skipped),
    markdown=_markdown, writer=_write_all)
