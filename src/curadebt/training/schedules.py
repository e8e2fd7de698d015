"""Learning-rate schedules: a linear warm-up, then constant, cosine or warmup-stable-decay (WSD).

``lr_schedule(name, lr, warmup, total)`` returns ``lr_at(k)`` for step ``k`` (0-based) of a run of
``total`` steps. ``cosine`` falls from ``lr`` to ``floor x lr`` over the run; ``wsd`` holds ``lr``
and decays linearly to ``floor x lr`` over the last ``decay_share`` of the steps (Hu et al. 2024,
MiniCPM), so a checkpoint before the decay is a constant-rate model.
"""
from __future__ import annotations

import math
from typing import Callable

SCHEDULES = ("constant", "cosine", "wsd")


def lr_schedule(name: str, lr: float, warmup: int, total: int, *, floor: float = 0.1,
                decay_share: float = 0.2) -> Callable[[int], float]:
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose from {SCHEDULES}")
    total = max(1, int(total))
    decay_from = total - max(1, round(decay_share * total))

    def lr_at(k: int) -> float:
        warm = min(1.0, (k + 1) / max(1, warmup))
        if name == "constant":
            shape = 1.0
        elif name == "cosine":
            shape = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(k, total) / total))
        else:
            shape = 1.0 if k < decay_from else 1.0 - (1 - floor) * (k - decay_from + 1) / (total - decay_from)
        return lr * warm * shape

    return lr_at
