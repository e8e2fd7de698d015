"""Tokenizers. The default is a regex word tokenizer (case preserved); a Hugging Face
``tokenizer.json`` or a model folder can be used instead, so counts match what a model sees."""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable
from curadebt.core.errors import EXIT_USAGE, CuradebtError

Tokenizer = Callable[[str], list[str]]

# Words: letters/digits/underscore runs, with internal apostrophes or hyphens ("don't", "well-known").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*")


def word_tokenize(text: str) -> list[str]:
    return WORD_RE.findall(text)


def word_tokenize_lower(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


class TokenizerError(CuradebtError, ValueError):
    exit_code = EXIT_USAGE


def _hf_tokens(path: Path) -> Tokenizer:
    try:
        import tokenizers  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise TokenizerError("Reading tokenizer.json needs the 'tokenizers' package: pip install -e '.[hf]' (from a clone)") from e
    from curadebt.text.hf import HFTokens

    return HFTokens(path)


def _hf_model_folder(path: Path) -> Tokenizer:
    try:
        from transformers import AutoTokenizer
    except ImportError as e:  # pragma: no cover
        raise TokenizerError("A model folder's tokenizer needs 'transformers': pip install transformers") from e
    tok = AutoTokenizer.from_pretrained(str(path))
    return lambda text: tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])


#: what a tokenizer setting accepts (the help of every --tokenizer option)
TOKENIZER_HELP = ("Tokens for counts, budgets and caps: 'words' (regex words, case kept), 'words-lower', a "
                  "tokenizer.json, or a model folder.")


def get_tokenizer(spec: str | None = None) -> Tokenizer:
    """``words`` (default), ``words-lower``, a ``tokenizer.json``, a model folder, a model id in the
    local Hugging Face cache, or ``all-minilm-l6-v2`` (:mod:`curadebt.text.hf`). Hugging Face
    tokenizers count the text's own tokens: no padding, no truncation, no special tokens."""
    if spec in (None, "", "words"):
        return word_tokenize
    if spec == "words-lower":
        return word_tokenize_lower
    from curadebt.text.hf import resolve_tokenizer_file

    f = resolve_tokenizer_file(spec)
    if f is not None:
        return _hf_tokens(f)
    if Path(spec).is_dir():
        return _hf_model_folder(Path(spec))
    raise TokenizerError(f"unknown tokenizer {spec!r}: use 'words', 'words-lower', a tokenizer.json, a model folder, "
                         "a model id in the local Hugging Face cache (nothing is downloaded), or all-minilm-l6-v2")


def ngrams(tokens: list[str], n: int) -> list[str]:
    """n-grams joined by a space (a stable, JSON-friendly key)."""
    if n == 1:
        return tokens
    return [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


__all__ = ["Tokenizer", "word_tokenize", "word_tokenize_lower", "get_tokenizer", "ngrams", "TokenizerError", "partial"]
