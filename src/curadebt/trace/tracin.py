"""Gradient attribution for small models: TracIn (Pruthi et al., 2020, "Estimating Training Data
Influence by Tracing Gradient Descent"), checkpoint version.

The influence of a training example z on a test example z' is estimated as

    TracInCP(z, z') = sum over checkpoints k of  lr_k * grad L(w_k, z) . grad L(w_k, z')

where w_k are parameters saved during training and lr_k the learning rate in force after
checkpoint k. A positive score means a gradient step on z lowered the loss on z' (a proponent);
a negative score, an opponent. This needs one gradient per example per checkpoint, so it is for
the lab's tiny models (thousands to millions of parameters), not for 100M+ parameter models,
for which the token index (exact verbatim matches) is the tool.

The loss is the mean next-token negative log-likelihood of the example (a causal LM called with
``labels``), or any ``loss_fn(model, example) -> scalar tensor``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np


@dataclass
class Checkpoint:
    state: Any  # a state_dict, or a path to one saved with torch.save
    lr: float


@dataclass
class TracInResult:
    scores: np.ndarray  # [n_test, n_train]
    checkpoints: int
    parameters: int

    def top(self, test: int = 0, k: int = 5) -> list[tuple[int, float]]:
        """The k strongest proponents of test example ``test``: (train index, score)."""
        row = self.scores[test]
        order = np.argsort(-row, kind="stable")[:k]
        return [(int(i), float(row[i])) for i in order]

    def to_json(self) -> dict:
        return {"scores": self.scores.tolist(), "checkpoints": self.checkpoints, "parameters": self.parameters}


def causal_lm_loss(model, example) -> Any:
    """Mean next-token NLL of one tokenised example (a sequence of token ids)."""
    import torch

    ids = torch.as_tensor(list(example), dtype=torch.long).unsqueeze(0)
    return model(input_ids=ids, labels=ids).loss


def _flat_grad(model, params, loss) -> Any:
    import torch

    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def tracin(model, checkpoints: Sequence[Checkpoint], train: Sequence, test: Sequence,
           loss_fn: Callable | None = None, param_filter: Callable[[str], bool] | None = None,
           chunk: int = 256) -> TracInResult:
    """TracIn-CP scores of every training example for every test example.

    ``model`` is loaded with each checkpoint's state in turn (its own state is restored at the end).
    ``param_filter(name)`` selects the parameters whose gradients count (default: all that require
    grad; TracIn's paper often uses the last layer only, e.g. ``lambda n: "lm_head" in n``).
    Training gradients are computed ``chunk`` at a time, so memory is ``chunk x parameters`` floats.
    """
    import torch

    loss_fn = loss_fn or causal_lm_loss
    names = [n for n, p in model.named_parameters() if p.requires_grad and (param_filter is None or param_filter(n))]
    if not names:
        raise ValueError("no parameters selected")
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    was_training = model.training
    model.eval()  # no dropout: the gradient of a fixed loss
    scores = np.zeros((len(test), len(train)), dtype=np.float64)
    n_params = 0
    try:
        for ck in checkpoints:
            state = torch.load(ck.state, map_location="cpu") if isinstance(ck.state, (str, Path)) else ck.state
            model.load_state_dict(state)
            named = dict(model.named_parameters())
            params = [named[n] for n in names]
            n_params = sum(p.numel() for p in params)
            g_test = torch.stack([_flat_grad(model, params, loss_fn(model, z)) for z in test])
            for a in range(0, len(train), chunk):
                g_train = torch.stack([_flat_grad(model, params, loss_fn(model, z)) for z in train[a:a + chunk]])
                scores[:, a:a + len(g_train)] += ck.lr * (g_test.double() @ g_train.double().T).numpy()
    finally:
        model.load_state_dict(original)
        model.train(was_training)
    return TracInResult(scores=scores, checkpoints=len(checkpoints), parameters=n_params)


@dataclass
class TracedTraining:
    """Checkpoints recorded by :func:`train_with_checkpoints`."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)


def train_with_checkpoints(model, train: Sequence, epochs: int, lr: float, loss_fn: Callable | None = None,
                           seed: int = 0, every: int = 1) -> TracedTraining:
    """Plain SGD, one example per step, saving a checkpoint every ``every`` epochs (TracIn assumes
    SGD; with another optimiser the scores are an approximation). For tiny lab models and tests."""
    import torch

    loss_fn = loss_fn or causal_lm_loss
    rng = np.random.default_rng(seed)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    out = TracedTraining()
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for i in rng.permutation(len(train)):
            opt.zero_grad()
            loss = loss_fn(model, train[int(i)])
            loss.backward()
            opt.step()
            total += float(loss.detach())
        out.losses.append(total / max(len(train), 1))
        if (epoch + 1) % every == 0:
            out.checkpoints.append(Checkpoint({k: v.detach().clone() for k, v in model.state_dict().items()}, lr))
    model.eval()
    return out


__all__ = ["Checkpoint", "TracInResult", "TracedTraining", "causal_lm_loss", "tracin", "train_with_checkpoints"]
