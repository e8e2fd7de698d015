"""Gradient attribution for small models: TracIn (Pruthi et al., 2020, "Estimating Training Data
Influence by Tracing Gradient Descent"), checkpoint version.

The influence of a training example z on a test example z' is estimated as

    TracInCP(z, z') = sum over checkpoints k of  lr_k * grad L(w_k, z) . grad L(w_k, z')

where w_k are parameters saved during training and lr_k the learning rate in force after
checkpoint k. A positive score means a gradient step on z lowered the loss on z' (a proponent);
a negative score, an opponent. This needs one gradient per example per checkpoint, so it is for
the lab's tiny models (thousands to millions of parameters), not for 100M+ parameter models,
for which the token index (exact verbatim matches) is the tool.

**Random projection** (``projection=Projection(dim)``): every per-example gradient g (P numbers)
is replaced by R g, R a seeded random ``dim x P`` matrix with independent entries of mean 0 and
variance 1/dim (Rademacher +-1/sqrt(dim) by default, or Gaussian), or a CountSketch (each
coordinate added, with a random sign, to one of ``dim`` buckets). Then E[(R g).(R g')] = g.g', with
a standard deviation of about sqrt(2/dim) |g| |g'| (Johnson-Lindenstrauss), so the scores keep their
meaning while a training example costs ``dim`` numbers per checkpoint instead of P: the projected
training gradients (:func:`gradient_features`) are small enough to keep and reuse for any number of
queries (as TRAK and LoGra do). R is never stored whole: it is generated block by block from the
seed (the same seed gives the same R, so the same bytes).

``normalize=True`` scores with unit gradients (the cosine of the two gradients per checkpoint,
lr-weighted), a common TracIn variant that stops examples with large gradients (rare, badly fitted)
from being everyone's proponent.

The loss is the mean next-token negative log-likelihood of the example (a causal LM called with
``labels``), or any ``loss_fn(model, example) -> scalar tensor``. :func:`causal_lm_loss` also takes
``(input_ids, labels)`` pairs, labels -100 where a token does not count (e.g. a prompt).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

PROJECTION_KINDS = ("rademacher", "gaussian", "countsketch")


@dataclass
class Checkpoint:
    state: Any  # a state_dict, or a path to one saved with torch.save
    lr: float


@dataclass(frozen=True)
class Projection:
    """A seeded random projection of per-example gradients to ``dim`` numbers (see the module doc)."""

    dim: int
    seed: int = 0
    kind: str = "rademacher"

    def __post_init__(self):
        if int(self.dim) < 1:
            raise ValueError(f"projection dim must be >= 1, got {self.dim}")
        if self.kind not in PROJECTION_KINDS:
            raise ValueError(f"projection kind must be one of {', '.join(PROJECTION_KINDS)}, got {self.kind!r}")


class GradientProjector:
    """``R``: ``[n, n_params]`` tensors to ``[n, dim]``, R drawn from ``projection.seed``.

    Dense kinds generate R in column blocks of ``block`` parameters from a per-block seed; the blocks
    are kept when R fits in ``cache_bytes``, else regenerated on every call (time for memory).
    """

    def __init__(self, n_params: int, projection: Projection, block: int = 1 << 14, cache_bytes: int = 512 << 20):
        import torch

        self.n_params, self.p, self.block = int(n_params), projection, int(block)
        self._cache: dict[int, Any] | None = {} if projection.dim * n_params * 4 <= cache_bytes else None
        if projection.kind == "countsketch":
            rng = np.random.default_rng(self._seed(-1))
            self._bucket = torch.as_tensor(rng.integers(0, projection.dim, size=n_params), dtype=torch.long)
            self._sign = torch.as_tensor(rng.integers(0, 2, size=n_params) * 2 - 1, dtype=torch.float32)

    def _seed(self, block: int) -> int:
        h = hashlib.blake2b(f"{self.p.kind}:{self.p.seed}:{self.n_params}:{self.p.dim}:{block}".encode(), digest_size=8)
        return int.from_bytes(h.digest(), "little") & ((1 << 63) - 1)

    def _block(self, b: int, width: int):
        import torch

        if self._cache is not None and b in self._cache:
            return self._cache[b]
        gen = torch.Generator().manual_seed(self._seed(b))
        d = self.p.dim
        if self.p.kind == "rademacher":
            r = torch.randint(0, 2, (width, d), generator=gen, dtype=torch.int8).to(torch.float32).mul_(2).sub_(1)
        else:
            r = torch.randn((width, d), generator=gen, dtype=torch.float32)
        r.mul_(1.0 / float(np.sqrt(d)))
        if self._cache is not None:
            self._cache[b] = r
        return r

    def __call__(self, g):
        import torch

        if g.shape[-1] != self.n_params:
            raise ValueError(f"gradient has {g.shape[-1]} entries, the projector was made for {self.n_params}")
        g = g.to(torch.float32)
        if self.p.kind == "countsketch":
            out = torch.zeros((g.shape[0], self.p.dim), dtype=torch.float32)
            return out.index_add_(1, self._bucket, g * self._sign)
        out = torch.zeros((g.shape[0], self.p.dim), dtype=torch.float32)
        for b, a in enumerate(range(0, self.n_params, self.block)):
            w = min(self.block, self.n_params - a)
            out += g[:, a:a + w] @ self._block(b, w)
        return out


@dataclass
class TracInResult:
    scores: np.ndarray  # [n_test, n_train]
    checkpoints: int
    parameters: int
    projection: Projection | None = None
    normalize: bool = False

    def top(self, test: int = 0, k: int = 5) -> list[tuple[int, float]]:
        """The k strongest proponents of test example ``test``: (train index, score)."""
        row = self.scores[test]
        order = np.argsort(-row, kind="stable")[:k]
        return [(int(i), float(row[i])) for i in order]

    def to_json(self) -> dict:
        proj = None if self.projection is None else {"dim": self.projection.dim, "seed": self.projection.seed,
                                                     "kind": self.projection.kind}
        return {"scores": self.scores.tolist(), "checkpoints": self.checkpoints, "parameters": self.parameters,
                "projection": proj, "normalize": self.normalize}


def causal_lm_loss(model, example) -> Any:
    """Mean next-token NLL of one tokenised example: a sequence of token ids, or an
    ``(input_ids, labels)`` pair whose labels are -100 where a token does not count."""
    import torch

    if isinstance(example, tuple) and len(example) == 2:
        ids = torch.as_tensor(list(example[0]), dtype=torch.long).unsqueeze(0)
        labels = torch.as_tensor(list(example[1]), dtype=torch.long).unsqueeze(0)
        if labels.shape != ids.shape:
            raise ValueError(f"labels {tuple(labels.shape)} do not match input_ids {tuple(ids.shape)}")
        return model(input_ids=ids, labels=labels).loss
    ids = torch.as_tensor(list(example), dtype=torch.long).unsqueeze(0)
    return model(input_ids=ids, labels=ids).loss


def _flat_grad(model, params, loss) -> Any:
    import torch

    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def _selected(model, param_filter) -> list[str]:
    names = [n for n, p in model.named_parameters() if p.requires_grad and (param_filter is None or param_filter(n))]
    if not names:
        raise ValueError("no parameters selected")
    return names


class _AtCheckpoints:
    """Loads each checkpoint into ``model`` in turn, in eval mode; restores the model's own state after."""

    def __init__(self, model, checkpoints: Sequence[Checkpoint], names: list[str]):
        if not checkpoints:
            raise ValueError("no checkpoints")
        self.model, self.checkpoints, self.names = model, checkpoints, names

    def __iter__(self):
        import torch

        original = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        was_training = self.model.training
        self.model.eval()  # no dropout: the gradient of a fixed loss
        try:
            for ck in self.checkpoints:
                state = torch.load(ck.state, map_location="cpu") if isinstance(ck.state, (str, Path)) else ck.state
                self.model.load_state_dict(state)
                named = dict(self.model.named_parameters())
                yield ck, [named[n] for n in self.names]
        finally:
            self.model.load_state_dict(original)
            self.model.train(was_training)


def _features(model, params, examples, loss_fn, projector, normalize: bool):
    """Per-example gradients as rows, unit-normalised if asked, projected if a projector is given."""
    import torch

    g = torch.stack([_flat_grad(model, params, loss_fn(model, z)) for z in examples])
    if normalize:
        g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-30)
    return projector(g) if projector is not None else g


@dataclass(frozen=True)
class Variant:
    """One way of scoring in :func:`tracin_variants`: plain, unit gradients, projected, or both."""

    projection: Projection | None = None
    normalize: bool = False


def tracin_variants(model, checkpoints: Sequence[Checkpoint], train: Sequence, test: Sequence,
                    variants: Sequence[Variant], loss_fn: Callable | None = None,
                    param_filter: Callable[[str], bool] | None = None, chunk: int = 256,
                    train_loss_fn: Callable | None = None) -> list[TracInResult]:
    """Several TracIn scorings from one pass of gradients (the gradients are the expensive part):
    result i equals ``tracin(..., projection=variants[i].projection, normalize=variants[i].normalize)``."""
    if not len(train) or not len(test):
        raise ValueError("tracin needs at least one training and one test example")
    if not variants:
        raise ValueError("no variants")
    loss_fn = loss_fn or causal_lm_loss
    train_loss_fn = train_loss_fn or loss_fn
    names = _selected(model, param_filter)
    scores = [np.zeros((len(test), len(train)), dtype=np.float64) for _ in variants]
    projectors: dict[Projection, GradientProjector] = {}
    n_params = 0

    def views(g):
        unit = None
        for v in variants:
            x = g
            if v.normalize:
                unit = unit if unit is not None else g / g.norm(dim=1, keepdim=True).clamp_min(1e-30)
                x = unit
            if v.projection is not None:
                if v.projection not in projectors:
                    projectors[v.projection] = GradientProjector(n_params, v.projection)
                x = projectors[v.projection](x)
            yield x.double()

    for ck, params in _AtCheckpoints(model, checkpoints, names):
        n_params = sum(p.numel() for p in params)
        f_test = list(views(_features(model, params, test, loss_fn, None, False)))
        for a in range(0, len(train), chunk):
            g = _features(model, params, train[a:a + chunk], train_loss_fn, None, False)
            for i, f_train in enumerate(views(g)):
                scores[i][:, a:a + len(g)] += ck.lr * (f_test[i] @ f_train.T).numpy()
    return [TracInResult(scores=sc, checkpoints=len(checkpoints), parameters=n_params, projection=v.projection,
                         normalize=v.normalize) for sc, v in zip(scores, variants)]


def tracin(model, checkpoints: Sequence[Checkpoint], train: Sequence, test: Sequence,
           loss_fn: Callable | None = None, param_filter: Callable[[str], bool] | None = None,
           chunk: int = 256, projection: Projection | None = None, normalize: bool = False,
           train_loss_fn: Callable | None = None) -> TracInResult:
    """TracIn-CP scores of every training example for every test example.

    ``model`` is loaded with each checkpoint's state in turn (its own state is restored at the end).
    ``param_filter(name)`` selects the parameters whose gradients count (default: all that require
    grad; TracIn's paper often uses the last layer only, e.g. ``lambda n: "lm_head" in n``).
    ``projection``: score with randomly projected gradients (see the module doc); ``normalize``: with
    unit gradients (cosine). ``loss_fn`` is used for both sides unless ``train_loss_fn`` is given for
    the training examples. Training gradients are computed ``chunk`` at a time, so memory is
    ``chunk x parameters`` floats.
    """
    return tracin_variants(model, checkpoints, train, test, [Variant(projection, normalize)], loss_fn=loss_fn,
                           param_filter=param_filter, chunk=chunk, train_loss_fn=train_loss_fn)[0]


@dataclass
class GradientFeatures:
    """Projected per-example gradients at every checkpoint: ``features[k, i]`` for example i at
    checkpoint k (float32, ``dim`` numbers each), with the checkpoints' learning rates."""

    features: np.ndarray  # [n_checkpoints, n_examples, dim]
    lrs: np.ndarray  # [n_checkpoints]
    parameters: int
    projection: Projection
    normalize: bool = False

    def scores(self, train: "GradientFeatures") -> np.ndarray:
        """TracIn scores ``[n_self, n_train]`` of these (test) examples against ``train``'s examples."""
        if (self.projection != train.projection or self.normalize != train.normalize
                or self.parameters != train.parameters or self.features.shape[0] != train.features.shape[0]):
            raise ValueError("features were made with different projections, parameters or checkpoints")
        if not np.array_equal(self.lrs, train.lrs):
            raise ValueError("features were made at checkpoints with different learning rates")
        a, b = self.features.astype(np.float64), train.features.astype(np.float64)
        return np.einsum("k,kid,kjd->ij", self.lrs, a, b)

    def save(self, path: str | Path) -> None:
        """One ``.npz`` file, written atomically."""
        import os
        import tempfile

        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, features=self.features, lrs=self.lrs, parameters=self.parameters,
                     projection=np.array([self.projection.dim, self.projection.seed]),
                     kind=np.array(self.projection.kind), normalize=self.normalize)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> "GradientFeatures":
        with np.load(path) as z:
            dim, seed = (int(x) for x in z["projection"])
            return cls(features=z["features"], lrs=z["lrs"], parameters=int(z["parameters"]),
                       projection=Projection(dim, seed, str(z["kind"])), normalize=bool(z["normalize"]))


def gradient_features(model, checkpoints: Sequence[Checkpoint], examples: Sequence, projection: Projection,
                      loss_fn: Callable | None = None, param_filter: Callable[[str], bool] | None = None,
                      chunk: int = 256, normalize: bool = False) -> GradientFeatures:
    """Projected gradients of ``examples`` at every checkpoint, to keep (``save``) and score later:
    ``test_features.scores(train_features)`` equals ``tracin(..., projection=projection)``."""
    loss_fn = loss_fn or causal_lm_loss
    names = _selected(model, param_filter)
    out = np.zeros((len(checkpoints), len(examples), projection.dim), dtype=np.float32)
    projector, n_params = None, 0
    for k, (ck, params) in enumerate(_AtCheckpoints(model, checkpoints, names)):
        n_params = sum(p.numel() for p in params)
        projector = projector or GradientProjector(n_params, projection)
        for a in range(0, len(examples), chunk):
            f = _features(model, params, examples[a:a + chunk], loss_fn, projector, normalize)
            out[k, a:a + len(f)] = f.numpy()
    return GradientFeatures(features=out, lrs=np.array([c.lr for c in checkpoints], dtype=np.float64),
                            parameters=n_params, projection=projection, normalize=normalize)


@dataclass
class TracedTraining:
    """Checkpoints recorded by :func:`train_with_checkpoints`."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)


def train_with_checkpoints(model, train: Sequence, epochs: int, lr: float, loss_fn: Callable | None = None,
                           seed: int = 0, every: int = 1, progress: Callable[[int, float], None] | None = None
                           ) -> TracedTraining:
    """Plain SGD, one example per step, saving a checkpoint every ``every`` epochs (TracIn assumes
    SGD; with another optimiser the scores are an approximation). For tiny lab models and tests.
    ``progress(epoch, mean_loss)`` is called after every epoch."""
    from curadebt.training.loop import sgd, train_loop

    loss_fn = loss_fn or causal_lm_loss
    rng = np.random.default_rng(seed)
    opt = sgd([p for p in model.parameters() if p.requires_grad], lr=lr)
    out = TracedTraining()
    model.train()
    for epoch in range(epochs):
        order = [train[int(i)] for i in rng.permutation(len(train))]
        stats = train_loop(order, lambda example: loss_fn(model, example), opt)
        out.losses.append(sum(stats.losses) / max(len(train), 1))
        if progress is not None:
            progress(epoch, out.losses[-1])
        if (epoch + 1) % every == 0:
            out.checkpoints.append(Checkpoint({k: v.detach().clone() for k, v in model.state_dict().items()}, lr))
    model.eval()
    return out


__all__ = ["Checkpoint", "GradientFeatures", "GradientProjector", "Projection", "TracInResult", "TracedTraining",
           "Variant", "causal_lm_loss", "gradient_features", "tracin", "tracin_variants", "train_with_checkpoints"]
