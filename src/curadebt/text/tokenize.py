"""Tokenizers. The default is a regex word tokenizer (case preserved); a Hugging Face
``tokenizer.json`` or a model folder can be used instead, so counts match what a model sees."""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable
from curadebt.errors import EXIT_USAGE, CuradebtError

Tokenizer = Callable[[str], list[str]]

# Words: letters/digits/underscore runs, with internal apostrophes or hyphens ("don't", "well-known").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*")


def word_tokenize(text: str) -> list[str]:
    return WORD_RE.findall(text)


def word_tokenize_lower(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


class TokenizerError(CuradebtError, ValueError):
    exit_code = EXIT_USAGE


def _hf_tokenizer_json(path: Path) -> Tokenizer:
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise TokenizerError("Reading tokenizer.json needs the 'tokenizers' package: pip install 'curadebt[hf]'") from e
    tok = HFTokenizer.from_file(str(path))

    def encode(text: str) -> list[str]:
        return tok.encode(text, add_special_tokens=False).tokens

    return encode


def _hf_model_folder(path: Path) -> Tokenizer:
    try:
        from transformers import AutoTokenizer
    except ImportError as e:  # pragma: no cover
        raise TokenizerError("A model folder's tokenizer needs 'transformers': pip install transformers") from e
    tok = AutoTokenizer.from_pretrained(str(path))
    return lambda text: tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])


def get_tokenizer(spec: str | None = None) -> Tokenizer:
    """``words`` (default), ``words-lower``, a path to ``tokenizer.json``, or a model folder."""
    if spec in (None, "", "words"):
        return word_tokenize
    if spec == "words-lower":
        return word_tokenize_lower
    p = Path(spec)
    if p.is_file():
        return _hf_tokenizer_json(p)
    if p.is_dir():
        if (p / "tokenizer.json").exists():
            return _hf_tokenizer_json(p / "tokenizer.json")
        return _hf_model_folder(p)
    raise TokenizerError(f"unknown tokenizer {spec!r}: use 'words', 'words-lower', a tokenizer.json path or a model folder")


def ngrams(tokens: list[str], n: int) -> list[str]:
    """n-grams joined by a space (a stable, JSON-friendly key)."""
    if n == 1:
        return tokens
    return [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


__all__ = ["Tokenizer", "word_tokenize", "word_tokenize_lower", "get_tokenizer", "ngrams", "TokenizerError", "partial"]
