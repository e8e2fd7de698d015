"""Does gradient attribution find the documents a fact came from? An evaluation on a synthetic world
where every fact's source documents are known (:mod:`curadebt.worlds.attribution`).

For each seed: generate a world, train a tiny GPT-2 from scratch on its documents with plain SGD
(one document per step, TracIn's assumption), saving checkpoints; then, for every fact's held-out
paraphrase query (prompt + answer), rank all training documents by

- ``tracin``        TracIn-CP over all parameters, loss = NLL of the answer given the prompt;
- ``tracin-cos``    the same with unit gradients (cosine);
- ``tracin-proj``   TracIn with gradients randomly projected (Rademacher) to ``proj_dim`` numbers;
- ``tracin-sketch`` the same with a CountSketch to ``sketch_dim`` numbers (all four from one pass of
                    gradients);
- ``bm25``          BM25 of the query text against the documents;
- ``exact-ngram``   the query's maximal verbatim spans in the token index, weighted by unlikeliness;
- ``random``        a random order (chance level),

and score the ranking against the fact's source documents: recall@k (share of the sources in the
top k) and MRR (1 / rank of the first source). Ties are broken by one seeded random order per query,
the same for every method. Means over facts per seed, then mean and 95% t-interval over seeds;
``paired`` gives each method's per-seed difference to BM25 with its interval.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from curadebt.text.tokenize import word_tokenize
from curadebt.worlds.attribution import RELATIONS, FactWorld, fact_world

METHODS = ("tracin", "tracin-cos", "tracin-proj", "tracin-sketch", "bm25", "exact-ngram", "random")
BOS = "<s>"


@dataclass
class EvalConfig:
    seeds: tuple[int, ...] = (0, 1, 2)
    n_people: int = 40
    epochs: int = 30
    checkpoints: int = 5
    lr: float = 0.1
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    proj_dim: int = 512
    sketch_dim: int = 4096
    k: int = 10
    threads: int = 1

    def __post_init__(self):
        if not self.seeds:
            raise ValueError("at least one seed")
        if self.checkpoints < 1 or self.epochs < self.checkpoints:
            raise ValueError(f"need 1 <= checkpoints <= epochs, got checkpoints={self.checkpoints}, epochs={self.epochs}")
        if self.k < 1:
            raise ValueError("k must be >= 1")


@dataclass
class SeedResult:
    seed: int
    world: dict
    parameters: int
    final_loss: float
    accuracy: float  # share of queries whose answer is the model's top candidate among the relation's objects
    metrics: dict[str, dict[str, float]]  # method -> {"recall@k", "mrr"} over all facts
    metrics_correct: dict[str, dict[str, float]]  # the same over the facts the model answers correctly
    confusions: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> what its wrong top-k hold
    seconds: dict[str, float] = field(default_factory=dict)


class WordVocab:
    """Word-level ids (the audit's word tokenizer) over a world's documents and every object."""

    def __init__(self, world: FactWorld):
        self.ids: dict[str, int] = {BOS: 0}
        for d in world.documents:
            for t in word_tokenize(d):
                self.ids.setdefault(t, len(self.ids))
        for objects, _ in RELATIONS.values():
            for o in objects:
                for t in word_tokenize(o):
                    self.ids.setdefault(t, len(self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, text: str, bos: bool = True) -> list[int]:
        try:
            return ([0] if bos else []) + [self.ids[t] for t in word_tokenize(text)]
        except KeyError as e:
            raise ValueError(f"word {e.args[0]!r} is not in the world's vocabulary") from None


def rank_metrics(scores: np.ndarray, relevant: list[list[int]], k: int, tiebreak: np.ndarray) -> dict[str, np.ndarray]:
    """Per query: recall@k and reciprocal rank of ``scores`` rows against the ``relevant`` document
    lists; ``tiebreak`` rows order equal scores."""
    n = scores.shape[0]
    recall, rr = np.zeros(n), np.zeros(n)
    for i in range(n):
        order = np.lexsort((tiebreak[i], -scores[i]))
        pos = np.empty_like(order)
        pos[order] = np.arange(len(order))
        ranks = pos[relevant[i]]
        recall[i] = float((ranks < k).mean())
        rr[i] = 1.0 / (1 + int(ranks.min()))
    return {"recall": recall, "rr": rr}


def top_k_confusions(scores: np.ndarray, world: FactWorld, k: int, tiebreak: np.ndarray) -> dict[str, float]:
    """What the non-source documents in a method's top k are, averaged over queries: shares naming
    the fact's subject (the person's other biographies), naming its object but not the subject, or
    neither."""
    subj = obj = other = n = 0
    for i, f in enumerate(world.facts):
        order = np.lexsort((tiebreak[i], -scores[i]))[:k]
        src = set(f.sources)
        for d in order:
            if int(d) in src:
                continue
            text = world.documents[int(d)]
            n += 1
            if f.subject in text:
                subj += 1
            elif f.object in text:
                obj += 1
            else:
                other += 1
    n = max(n, 1)
    return {"same_subject": subj / n, "same_object_only": obj / n, "neither": other / n}


def t_interval(values) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval (the point for one value), via :func:`curadebt.core.stats.mean_ci`."""
    from curadebt.core.stats import mean_ci

    ci = mean_ci(list(values), level=0.95, method="t")
    return ci.mean, ci.low, ci.high


def _train_model(world: FactWorld, vocab: WordVocab, cfg: EvalConfig, seed: int, log: Callable[[str], None]):
    import torch
    import transformers

    from curadebt.trace.tracin import train_with_checkpoints

    train = [vocab.encode(d) for d in world.documents]
    torch.manual_seed(seed)
    mcfg = transformers.GPT2Config(vocab_size=len(vocab), n_embd=cfg.n_embd, n_layer=cfg.n_layer, n_head=cfg.n_head,
                                   n_positions=max(64, max(len(t) for t in train)), resid_pdrop=0.0,
                                   embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(mcfg)
    every = cfg.epochs // cfg.checkpoints
    run = train_with_checkpoints(model, train, epochs=every * cfg.checkpoints, lr=cfg.lr, seed=seed, every=every,
                                 progress=lambda e, loss: log(f"seed {seed} epoch {e + 1}: loss {loss:.3f}"))
    return model, train, run


def _accuracy(model, world: FactWorld, vocab: WordVocab) -> np.ndarray:
    import torch

    ok = np.zeros(len(world.facts), dtype=bool)
    with torch.no_grad():
        for i, f in enumerate(world.facts):
            logits = model(input_ids=torch.tensor([vocab.encode(f.prompt)])).logits[0, -1]
            cands = [vocab.encode(o, bos=False)[0] for o in RELATIONS[f.relation][0]]
            ok[i] = cands[int(torch.argmax(logits[cands]))] == vocab.encode(f.object, bos=False)[0]
    return ok


def evaluate_seed(seed: int, cfg: EvalConfig, log: Callable[[str], None] = lambda s: None) -> SeedResult:
    """One world, one model, every method (see the module doc)."""
    import torch

    from curadebt.core.document import Document
    from curadebt.trace.baselines import bm25_scores, exact_match_scores
    from curadebt.trace.build import build_index_from_documents
    from curadebt.trace.index import TokenIndex
    from curadebt.trace.tracin import Projection, Variant, tracin_variants

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        secs: dict[str, float] = {}
        world = fact_world(seed, n_people=cfg.n_people)
        vocab = WordVocab(world)
        t = time.perf_counter()
        model, train, run = _train_model(world, vocab, cfg, seed, log)
        secs["train"] = time.perf_counter() - t
        correct = _accuracy(model, world, vocab)
        queries = [f.query for f in world.facts]
        test = []
        for f in world.facts:
            p, a = vocab.encode(f.prompt), vocab.encode(f.object, bos=False)
            test.append((p + a, [-100] * len(p) + a))  # the loss of the answer given the prompt
        scores: dict[str, np.ndarray] = {}
        t = time.perf_counter()
        variants = {"tracin": Variant(), "tracin-cos": Variant(normalize=True),
                    "tracin-proj": Variant(Projection(cfg.proj_dim, seed=seed)),
                    "tracin-sketch": Variant(Projection(cfg.sketch_dim, seed=seed, kind="countsketch"))}
        for name, res in zip(variants, tracin_variants(model, run.checkpoints, train, test, list(variants.values()))):
            scores[name] = res.scores
        secs["tracin (all variants, one pass)"] = time.perf_counter() - t
        t = time.perf_counter()
        scores["bm25"] = bm25_scores(world.documents, queries)
        secs["bm25"] = time.perf_counter() - t
        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="curadebt-attr-") as tmp:
            docs = (Document(id=str(i), text=d, ordinal=i) for i, d in enumerate(world.documents))
            build_index_from_documents(docs, f"{tmp}/idx", tokenizer="words")
            scores["exact-ngram"] = exact_match_scores(TokenIndex.open(f"{tmp}/idx"), queries)
        secs["exact-ngram"] = time.perf_counter() - t
        scores["random"] = np.zeros((len(queries), len(world.documents)))
        tiebreak = np.random.default_rng([seed, 7]).random((len(queries), len(world.documents)))
        relevant = [f.sources for f in world.facts]
        metrics, metrics_correct = {}, {}
        for name in METHODS:
            m = rank_metrics(scores[name], relevant, cfg.k, tiebreak)
            metrics[name] = {f"recall@{cfg.k}": float(m["recall"].mean()), "mrr": float(m["rr"].mean())}
            metrics_correct[name] = ({f"recall@{cfg.k}": float(m["recall"][correct].mean()),
                                      "mrr": float(m["rr"][correct].mean())} if correct.any() else {})
        confusions = {name: top_k_confusions(scores[name], world, cfg.k, tiebreak) for name in METHODS}
        return SeedResult(seed=seed, world=world.summary(), parameters=sum(p.numel() for p in model.parameters()),
                          final_loss=run.losses[-1], accuracy=float(correct.mean()), metrics=metrics,
                          metrics_correct=metrics_correct, confusions=confusions, seconds={k: round(v, 2) for k, v in secs.items()})
    finally:
        torch.set_num_threads(threads)


@dataclass
class EvalResult:
    config: EvalConfig
    seeds: list[SeedResult]

    def summary(self, subset: str = "all") -> dict[str, dict[str, tuple[float, float, float]]]:
        """method -> metric -> (mean, low, high) over seeds; ``subset`` "all" or "correct"."""
        out: dict[str, dict] = {}
        for name in METHODS:
            per = [(s.metrics if subset == "all" else s.metrics_correct)[name] for s in self.seeds]
            per = [p for p in per if p]
            out[name] = {key: t_interval([p[key] for p in per]) for key in (per[0] if per else {})}
        return out

    def paired(self, reference: str = "bm25") -> dict[str, dict[str, tuple[float, float, float]]]:
        """method -> metric -> per-seed (method - reference) mean and 95% interval."""
        out: dict[str, dict] = {}
        for name in METHODS:
            if name == reference:
                continue
            out[name] = {key: t_interval([s.metrics[name][key] - s.metrics[reference][key] for s in self.seeds])
                         for key in self.seeds[0].metrics[name]}
        return out

    def to_json(self) -> dict:
        return {"config": asdict(self.config), "seeds": [asdict(s) for s in self.seeds],
                "summary": {"all": self.summary("all"), "correct": self.summary("correct")},
                "paired_vs_bm25": self.paired()}


def evaluate(cfg: EvalConfig | None = None, log: Callable[[str], None] = lambda s: None, jobs: int = 1) -> EvalResult:
    """Every seed of ``cfg``; ``jobs`` > 1 runs seeds in that many processes (same results: each seed
    is independent and single-threaded)."""
    cfg = cfg or EvalConfig()
    if jobs <= 1 or len(cfg.seeds) == 1:
        return EvalResult(config=cfg, seeds=[evaluate_seed(s, cfg, log) for s in cfg.seeds])
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(cfg.seeds)), mp_context=mp.get_context("spawn")) as ex:
        futures = [ex.submit(evaluate_seed, s, cfg) for s in cfg.seeds]
        seeds = []
        for s, fut in zip(cfg.seeds, futures):
            seeds.append(fut.result())
            log(f"seed {s} done")
    return EvalResult(config=cfg, seeds=seeds)


__all__ = ["EvalConfig", "EvalResult", "METHODS", "SeedResult", "WordVocab", "evaluate", "evaluate_seed",
           "rank_metrics", "t_interval", "top_k_confusions"]
