"""TracIn: the exact formula on a model whose gradients are known in closed form, and on a tiny
GPT-2 trained from scratch, the training examples a test example repeats are its top proponents."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from curadebt.trace.tracin import Checkpoint, tracin  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is fastest, and many threads on a busy 2-core machine crawl."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_tracin_equals_closed_form_gradients():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)

    def loss_fn(m, z):
        x, y = z
        return ((m(torch.tensor(x)) - y) ** 2).sum()

    rng = np.random.default_rng(0)
    train = [(rng.normal(size=3).astype(np.float32), float(rng.normal())) for _ in range(6)]
    test = [(rng.normal(size=3).astype(np.float32), float(rng.normal())) for _ in range(2)]
    cks = []
    for lr in (0.5, 0.1):
        state = {"weight": torch.tensor(rng.normal(size=(1, 3)), dtype=torch.float32),
                 "bias": torch.tensor(rng.normal(size=1), dtype=torch.float32)}
        cks.append(Checkpoint(state, lr))
    res = tracin(model, cks, train, test, loss_fn=loss_fn)

    def grad(state, z):  # d/dw (w.x + b - y)^2 = 2 r x, d/db = 2 r
        x, y = z
        w, b = state["weight"].numpy()[0].astype(np.float64), float(state["bias"])
        r = w @ x + b - y
        return np.concatenate([2 * r * x, [2 * r]])

    expect = np.zeros((2, 6))
    for ck in cks:
        for i, zt in enumerate(test):
            for j, z in enumerate(train):
                expect[i, j] += ck.lr * grad(ck.state, zt) @ grad(ck.state, z)
    assert np.allclose(res.scores, expect, rtol=1e-4, atol=1e-5)
    assert res.parameters == 4 and res.checkpoints == 2


def test_tiny_gpt2_proponents_are_the_repeated_examples(tiny_gpt2_run):
    model, run, train, test = tiny_gpt2_run
    assert len(run.checkpoints) == 3 and run.losses[-1] < run.losses[0]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = tracin(model, run.checkpoints, train, test)
    assert res.scores.shape == (3, len(train))
    assert res.top(0, 1)[0][0] == 1  # an exact repeat: its own training example leads
    assert res.top(1, 1)[0][0] == 4
    assert res.top(2, 1)[0][0] == 5  # shares "my grandmother bakes bread"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # model state restored
    # last layer only (cheaper) still finds the repeat
    res_head = tracin(model, run.checkpoints, train, test[:1], param_filter=lambda n: "ln_f" in n or "wte" in n)
    assert res_head.parameters < res.parameters and res_head.top(0, 1)[0][0] == 1
