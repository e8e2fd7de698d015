"""The one training loop: the lab's from-scratch models, its fine-tuning runs and TracIn's
checkpointed training all step through :func:`train_loop`.

The loop is deliberately small (read it in one sitting, as nanoGPT's): for each item of ``steps``
(a batch, or one example), set the learning rate, compute the loss, zero the gradients, back-propagate,
clip, step, then tell the caller (``after_step``: counters, progress, checkpoints). What differs
between the callers is outside it: what a step's data is and what its loss is (``loss_fn``), the
optimizer (:func:`adamw`, :func:`sgd`) and the schedule (``lr_at``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence


@dataclass
class LoopStats:
    """What every loop records: the steps taken and the loss of each."""

    steps: int = 0
    losses: list[float] = field(default_factory=list)


def adamw(params: Sequence[Any], lr: float, weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999),
          fused: bool = False):
    """AdamW; ``fused`` where this torch build supports it on the parameters' device (one pass per step)."""
    import torch

    params = list(params)
    if fused:
        try:
            return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)


def sgd(params: Sequence[Any], lr: float):
    """Plain SGD (what TracIn's theory assumes)."""
    import torch

    return torch.optim.SGD(list(params), lr=lr)


def train_loop(steps: Iterable[Any], loss_fn: Callable[[Any], Any], optimizer: Any, *,
               clip: float = 0.0, clip_params: Sequence[Any] | None = None,
               lr_at: Callable[[int], float] | None = None,
               after_step: Callable[[int, float, Any], None] | None = None,
               stats: LoopStats | None = None) -> LoopStats:
    """One optimizer step per item of ``steps``; returns (or extends) ``stats``.

    ``loss_fn(item)`` is the loss tensor of a step; ``lr_at(k)`` the learning rate of the k-th step
    of ``stats`` (counted over every call that shares ``stats``; None: leave it as set);
    ``clip``: the gradient-norm bound over ``clip_params`` (0: none); ``after_step(k, loss, item)``
    runs after step k (1-based)."""
    import torch

    stats = stats if stats is not None else LoopStats()
    for item in steps:
        if lr_at is not None:
            lr = lr_at(stats.steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
        loss = loss_fn(item)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(clip_params, clip)
        optimizer.step()
        value = float(loss.detach())
        stats.steps += 1
        stats.losses.append(value)
        if after_step is not None:
            after_step(stats.steps, value, item)
    return stats
