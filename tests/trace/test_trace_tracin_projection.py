"""TracIn with randomly projected gradients: projected dot products approximate the exact ones
(error shrinking like 1/sqrt(dim)), projected TracIn ranks training examples like exact TracIn,
stored features score like a direct call, and the same seed gives the same bytes."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from curadebt.trace.tracin import (GradientFeatures, GradientProjector, Projection, _flat_grad,  # noqa: E402
                                   causal_lm_loss, gradient_features, tracin)

@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _grads(model, examples):
    params = [p for p in model.parameters()]
    return torch.stack([_flat_grad(model, params, causal_lm_loss(model, z)) for z in examples])


@pytest.mark.parametrize("kind", ["rademacher", "gaussian", "countsketch"])
def test_projected_dot_products_approximate_exact(tiny_gpt2_run, kind):
    model, run, train, test = tiny_gpt2_run
    g = _grads(model, train + test)  # real per-example gradients of a tiny GPT-2 (~15k parameters)
    exact = (g.double() @ g.double().T).numpy()
    norms = np.sqrt(np.diag(exact))
    scale = np.outer(norms, norms)
    rms = {}
    for dim in (256, 4096):
        proj = GradientProjector(g.shape[1], Projection(dim, seed=1, kind=kind))
        f = proj(g).double()
        approx = (f @ f.T).numpy()
        err = (approx - exact) / scale  # error relative to |g| |g'|: JL gives sd <= sqrt(2 / dim)
        assert np.abs(err).max() < 6 / np.sqrt(dim), (kind, dim, np.abs(err).max())
        rms[dim] = float(np.sqrt((err ** 2).mean()))
        assert rms[dim] > 0.1 / np.sqrt(dim)  # it is a projection, not the identity
    assert rms[4096] < rms[256] / 2  # 16x the dimensions, about 4x less error


def test_projected_tracin_ranks_like_exact(tiny_gpt2_run):
    model, run, train, test = tiny_gpt2_run
    exact = tracin(model, run.checkpoints, train, test)
    proj = tracin(model, run.checkpoints, train, test, projection=Projection(2048, seed=3))
    assert proj.projection == Projection(2048, 3) and proj.parameters == exact.parameters
    for i in range(len(test)):
        assert proj.top(i, 1)[0][0] == exact.top(i, 1)[0][0]
        assert np.corrcoef(proj.scores[i], exact.scores[i])[0, 1] > 0.95
    cos = tracin(model, run.checkpoints, train, test, normalize=True)
    assert np.abs(cos.scores).max() <= sum(c.lr for c in run.checkpoints) * (1 + 1e-5)  # lr-weighted cosines
    assert cos.top(0, 1)[0][0] == 1 and cos.top(1, 1)[0][0] == 4


def test_features_score_like_tracin_and_round_trip(tiny_gpt2_run, tmp_path):
    model, run, train, test = tiny_gpt2_run
    p = Projection(64, seed=7, kind="gaussian")
    f_train = gradient_features(model, run.checkpoints, train, p, chunk=3)
    f_test = gradient_features(model, run.checkpoints, test, p)
    assert f_train.features.shape == (3, len(train), 64) and f_train.features.dtype == np.float32
    direct = tracin(model, run.checkpoints, train, test, projection=p)
    assert np.allclose(f_test.scores(f_train), direct.scores, rtol=1e-4, atol=1e-6)
    f_train.save(tmp_path / "train.npz")
    back = GradientFeatures.load(tmp_path / "train.npz")
    assert back.projection == p and np.array_equal(back.features, f_train.features)
    assert [x.name for x in tmp_path.iterdir()] == ["train.npz"]  # no temporary file left
    again = gradient_features(model, run.checkpoints, train, p, chunk=3)
    assert again.features.tobytes() == f_train.features.tobytes()  # same seed, same bytes
    other = gradient_features(model, run.checkpoints, train, Projection(64, seed=8, kind="gaussian"))
    assert not np.array_equal(other.features, f_train.features)
    with pytest.raises(ValueError, match="different projections"):
        f_test.scores(other)


def test_projector_large_blocks_match_small_blocks():
    g = torch.randn(5, 1000)
    a = GradientProjector(1000, Projection(32, seed=0), block=1000)
    b = GradientProjector(1000, Projection(32, seed=0), block=1000, cache_bytes=0)
    assert torch.equal(a(g), b(g)) and torch.equal(a(g), a(g))  # cached = regenerated
    with pytest.raises(ValueError, match="1000"):
        a(torch.randn(2, 999))


def test_bad_projection_and_masked_loss(tiny_gpt2_run):
    with pytest.raises(ValueError, match="dim"):
        Projection(0)
    with pytest.raises(ValueError, match="kind"):
        Projection(8, kind="sparse")
    model, run, train, test = tiny_gpt2_run
    ids = train[1]
    labels = [-100] * 3 + ids[3:]
    loss = causal_lm_loss(model, (ids, labels))
    logits = model(input_ids=torch.tensor([ids])).logits[0, :-1]
    nll = torch.nn.functional.cross_entropy(logits[2:], torch.tensor(ids[3:]))
    assert torch.allclose(loss, nll, atol=1e-6)
    with pytest.raises(ValueError, match="labels"):
        causal_lm_loss(model, (ids, labels[:-1]))
    with pytest.raises(ValueError, match="at least one"):
        tracin(model, run.checkpoints, [], test)


def test_variants_from_one_pass_equal_separate_calls(tiny_gpt2_run):
    from curadebt.trace.tracin import Variant, tracin_variants

    model, run, train, test = tiny_gpt2_run
    p = Projection(128, seed=2, kind="countsketch")
    both = tracin_variants(model, run.checkpoints, train, test,
                           [Variant(), Variant(normalize=True), Variant(p), Variant(p, normalize=True)], chunk=5)
    for res, kw in zip(both, [{}, {"normalize": True}, {"projection": p}, {"projection": p, "normalize": True}]):
        alone = tracin(model, run.checkpoints, train, test, **kw)
        assert np.allclose(res.scores, alone.scores, rtol=1e-6, atol=1e-9), kw
        assert res.projection == alone.projection and res.normalize == alone.normalize
