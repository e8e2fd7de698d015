"""Probing a from-scratch model's knowledge of a Zipf world (:mod:`curadebt.worlds.zipf`).

:func:`city_choice` asks, for every fact and phrasing, which of the world's 32 cities the model
puts first after the prompt: the accuracy of a 32-way multiple choice (chance 1/32) by sequence
probability. A city that is one token of the world's tokenizer (all of them, in practice) is read
off one forward pass of the prompt; a longer one is scored token by token
(:func:`curadebt.lab.scratch.score`), so the answer is the same either way.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from curadebt.lab.scratch import EOS, PAD, ScratchLM, encode, score
from curadebt.worlds.zipf import CITIES, ZipfFact, prompt


def city_logprobs(lm: ScratchLM, prompts: Sequence[str], cities: Sequence[str] = CITIES, batch: int = 512) -> np.ndarray:
    """log P(city | EOS + prompt) for every prompt and city: [n_prompts, n_cities]."""
    import torch

    ids = [x for x in encode(lm.tok, [" " + c for c in cities])]
    single = [i for i, x in enumerate(ids) if len(x) == 1]
    out = np.zeros((len(prompts), len(cities)), dtype=np.float64)
    p_ids = encode(lm.tok, list(prompts))
    lm.model.eval()
    col = torch.tensor([ids[i][0] for i in single], dtype=torch.long)
    with torch.no_grad():
        for s in range(0, len(prompts), batch):
            seqs = [[EOS] + p for p in p_ids[s:s + batch]]
            x = torch.full((len(seqs), max(len(q) for q in seqs)), PAD, dtype=torch.long)
            for r, q in enumerate(seqs):
                x[r, :len(q)] = torch.tensor(q)
            last = torch.tensor([len(q) - 1 for q in seqs])
            logits = lm.model(input_ids=x).logits[torch.arange(len(seqs)), last].float()
            logp = torch.log_softmax(logits, dim=-1)
            out[s:s + len(seqs), single] = logp[:, col].numpy()
    for i in (i for i in range(len(cities)) if i not in set(single)):
        out[:, i] = score(lm, list(prompts), [cities[i]] * len(prompts))
    return out


def city_choice(lm: ScratchLM, facts: Sequence[ZipfFact], templates: Sequence[str]) -> np.ndarray:
    """Per fact: the share of ``templates`` whose most probable city is the fact's own."""
    if not facts:
        return np.zeros(0)
    prompts = [prompt(t, f.person) for f in facts for t in templates]
    lp = city_logprobs(lm, prompts).reshape(len(facts), len(templates), len(CITIES))
    truth = np.array([CITIES.index(f.city) for f in facts])
    return (lp.argmax(axis=2) == truth[:, None]).mean(axis=1)
