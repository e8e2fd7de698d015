"""Shared test fixtures. Real-data tests use ../shared/data and skip with a reason when it is absent."""
from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


def shared_data_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared real-data folder beside the project; present in CI, absent in a fresh clone)")
    return p


@pytest.fixture
def shared_data():
    return shared_data_path


#: Short sentences for the tiny GPT-2 TracIn tests; test examples repeat 1 and 4 and share words with 5.
TRACIN_SENTENCES = [
    "the red fox jumps over the lazy dog",
    "paris is the capital of france",
    "water boils at one hundred degrees",
    "the violin sings in the quiet hall",
    "seven ships sailed across the cold sea",
    "my grandmother bakes bread every sunday",
    "a comet crossed the night sky",
    "rain falls softly on green hills",
]


@pytest.fixture(scope="module")
def tiny_gpt2_run():
    """A tiny GPT-2 trained from scratch on TRACIN_SENTENCES with 3 checkpoints: (model, run, train, test)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from curadebt.trace.tracin import train_with_checkpoints

    words = {w for s in TRACIN_SENTENCES for w in s.split()} | {"quickly"}
    vocab = {w: i for i, w in enumerate(sorted(words))}
    enc = lambda s: [vocab[w] for w in s.split()]  # noqa: E731
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=len(vocab), n_embd=32, n_layer=1, n_head=2, n_positions=32,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(cfg)
    train = [enc(s) for s in TRACIN_SENTENCES]
    run = train_with_checkpoints(model, train, epochs=12, lr=0.05, every=4, seed=0)
    test = [train[1], train[4], enc("my grandmother bakes bread quickly")]
    return model, run, train, test


@contextlib.contextmanager
def plugin_module(folder: Path, name: str, source: str, registry):
    """``source`` written to ``folder/name.py`` and imported (its registrations land in ``registry``,
    loaded first so the built-ins are there); the module is forgotten afterwards. The caller removes
    what it registered."""
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    registry.load()
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        sys.modules.pop(name, None)
