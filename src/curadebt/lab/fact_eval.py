"""Probing a from-scratch model's knowledge of the world's capital facts.

- :func:`pair_scores`: for every fact and template, log P(old) and log P(new) after the prompt;
  ``efficacy`` (share of prompts with P(new) > P(old), :func:`curadebt.lab.metrics.efficacy`) per fact.
- :func:`choice_accuracy`: share of prompts where the true capital has the highest sequence
  probability among ``candidates`` (every fact's capital), per fact.

Two prompt sets: ``TRAIN_TEMPLATES`` (the phrasings in the corpus and in the counter-examples) and
``EVAL_TEMPLATES`` (held-out paraphrases that never occur in training).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from curadebt.lab import metrics
from curadebt.lab.scratch import ScratchLM, score
from curadebt.worlds.facts import EVAL_TEMPLATES, TRAIN_TEMPLATES, Fact, fact_prompt

PROMPT_SETS = {"heldout": EVAL_TEMPLATES, "train": TRAIN_TEMPLATES}


@dataclass
class PairScores:
    lp_old: np.ndarray   # [n_facts, n_templates]
    lp_new: np.ndarray

    def efficacy(self) -> np.ndarray:
        """Per fact: share of prompts where P(new) > P(old)."""
        return np.array([metrics.efficacy(n, o) for n, o in zip(self.lp_new, self.lp_old)])

    def margin(self) -> np.ndarray:
        """Per fact: mean log P(old) - log P(new) (positive: the old answer wins)."""
        return (self.lp_old - self.lp_new).mean(axis=1)


def pair_scores(lm: ScratchLM, facts: Sequence[Fact], templates: Sequence[str]) -> PairScores:
    prompts = [fact_prompt(t, f.country) for f in facts for t in templates]
    old = [f.capital for f in facts for _ in templates]
    new = [f.new for f in facts for _ in templates]
    lp = score(lm, prompts + prompts, old + new)
    n = len(prompts)
    shape = (len(facts), len(templates))
    return PairScores(lp[:n].reshape(shape), lp[n:].reshape(shape))


def choice_accuracy(lm: ScratchLM, facts: Sequence[Fact], templates: Sequence[str],
                    candidates: Sequence[str] | None = None) -> np.ndarray:
    """Per fact: share of prompts where the true capital beats every other candidate."""
    cands = list(candidates) if candidates is not None else sorted({f.capital for f in facts})
    prompts, answers = [], []
    for f in facts:
        for t in templates:
            p = fact_prompt(t, f.country)
            prompts.extend([p] * len(cands))
            answers.extend(cands)
    lp = score(lm, prompts, answers).reshape(len(facts), len(templates), len(cands))
    truth = np.array([cands.index(f.capital) for f in facts])
    return (lp.argmax(axis=2) == truth[:, None]).mean(axis=1)
