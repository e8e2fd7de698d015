"""Learning-rate schedules: warm-up, then constant, cosine to the floor, or stable then a linear decay."""
from __future__ import annotations

import pytest

from curadebt.training.schedules import lr_schedule


def test_shapes():
    const = lr_schedule("constant", 1.0, warmup=10, total=100)
    assert const(0) == pytest.approx(0.1) and const(9) == 1.0 and const(99) == 1.0
    cos = lr_schedule("cosine", 1.0, warmup=1, total=100)
    assert cos(0) == pytest.approx(1.0) and cos(50) == pytest.approx(0.55) and cos(100) == pytest.approx(0.1)
    assert all(cos(k) >= cos(k + 1) for k in range(100))
    wsd = lr_schedule("wsd", 2.0, warmup=1, total=100, decay_share=0.2)
    assert wsd(79) == 2.0 and wsd(80) < 2.0 and wsd(99) == pytest.approx(0.2)
    assert [round(wsd(k), 3) for k in (80, 90)] == [round(2.0 * (1 - 0.9 * 1 / 20), 3), round(2.0 * (1 - 0.9 * 11 / 20), 3)]


def test_unknown_schedule_is_an_error():
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_schedule("linear", 1.0, 1, 10)
