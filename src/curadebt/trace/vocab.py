"""Integer-id tokenizers for the token index.

The audit's tokenizers (:func:`curadebt.text.tokenize.get_tokenizer`) return token *strings*;
an index needs integer ids, and tracing needs character offsets (to highlight a span in the
text). This module wraps the same choices:

- ``words`` / ``words-lower``: the audit's regex word tokenizer; the vocabulary is built while
  the index is built (ids in order of first appearance) and stored in the index as
  ``tokenizer/vocab.json``. A query word the corpus never contained gets id ``-1`` (it cannot
  occur, so every count that contains it is 0).
- a ``tokenizer.json`` path, or a model folder that has one: Hugging Face ``tokenizers``; ids
  are the model's own ids. The file is copied into the index, so the index is self-contained.
- a model folder without ``tokenizer.json``: ``transformers.AutoTokenizer`` (saved into the
  index with ``save_pretrained``).

Every tokenizer encodes one document at a time (no special tokens), so re-encoding a stored
document reproduces exactly the ids that were indexed; snippets rely on that.
"""
from __future__ import annotations

import json
import shutil
from itertools import islice
from pathlib import Path
from typing import Sequence

import numpy as np

from curadebt.text.tokenize import WORD_RE, TokenizerError

UNKNOWN = -1


class IdTokenizer:
    """Text -> integer ids (and character offsets). Subclasses implement the four methods."""

    kind: str = ""
    spec: str = ""

    def encode_batch(self, texts: Sequence[str], grow: bool = False) -> list[np.ndarray]:
        """Ids per text (int64). ``grow``: add unseen words to the vocabulary (index build only)."""
        raise NotImplementedError

    def encode_with_offsets(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Ids (int64, ``-1`` for a word the vocabulary lacks) and (start, end) character offsets."""
        raise NotImplementedError

    def token_str(self, token_id: int) -> str:
        raise NotImplementedError

    def locate(self, text: str, tpos: int, m: int) -> tuple[np.ndarray, int, int] | None:
        """Ids of tokens ``tpos .. tpos+m`` of ``text`` and their character span (None if out of range)."""
        ids, offsets = self.encode_with_offsets(text)
        if m <= 0 or tpos + m > len(ids):
            return None
        return ids[tpos:tpos + m], offsets[tpos][0], offsets[tpos + m - 1][1]

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def save(self, folder: Path) -> dict:
        """Write what :func:`load_id_tokenizer` needs into ``folder``; return the JSON description."""
        raise NotImplementedError

    def encode(self, text: str) -> np.ndarray:
        return self.encode_with_offsets(text)[0]

    def detokenize(self, ids: Sequence[int]) -> str:
        sep = " " if self.kind == "words" else ""
        return sep.join(self.token_str(int(i)) for i in ids)


class _Vocab(dict):
    """str -> id; a missing key gets the next id (so ``map(vocab.__getitem__, words)`` grows it in C)."""

    def __init__(self, words: list[str]):
        super().__init__((w, i) for i, w in enumerate(words))
        self.words = words

    def __missing__(self, key: str) -> int:
        v = self[key] = len(self)
        self.words.append(key)
        return v


class WordIdTokenizer(IdTokenizer):
    kind = "words"

    def __init__(self, lower: bool = False, words: list[str] | None = None):
        self.lower = lower
        self.spec = "words-lower" if lower else "words"
        self.words: list[str] = list(words or [])
        self.vocab = _Vocab(self.words)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode_batch(self, texts: Sequence[str], grow: bool = False) -> list[np.ndarray]:
        findall = WORD_RE.findall
        out = []
        if grow:
            get = self.vocab.__getitem__
            for t in texts:
                toks = findall(t.lower() if self.lower else t)
                out.append(np.fromiter(map(get, toks), dtype=np.int64, count=len(toks)))
        else:
            get = self.vocab.get
            for t in texts:
                toks = findall(t.lower() if self.lower else t)
                out.append(np.fromiter((get(w, UNKNOWN) for w in toks), dtype=np.int64, count=len(toks)))
        return out

    def merge_local(self, words: list[str], local_ids: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """Ids from :func:`word_batch_local` (run in a worker) mapped into this vocabulary, growing it.
        The worker's words are in order of first appearance, so ids come out exactly as if the
        batch had been encoded here."""
        get = self.vocab.__getitem__
        mapping = np.fromiter(map(get, words), dtype=np.int64, count=len(words))
        glob = mapping[local_ids] if len(local_ids) else np.zeros(0, dtype=np.int64)
        return np.split(glob, np.cumsum(lengths)[:-1]) if len(lengths) else []

    def encode_with_offsets(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        if self.lower:
            low, back = _lower_with_map(text)
            matches = [(m.group(0), back[m.start()], back[m.end()]) for m in WORD_RE.finditer(low)]
        else:
            matches = [(m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(text)]
        get = self.vocab.get
        ids = np.fromiter((get(w, UNKNOWN) for w, _, _ in matches), dtype=np.int64, count=len(matches))
        return ids, [(s, e) for _, s, e in matches]

    def token_str(self, token_id: int) -> str:
        return self.words[token_id] if 0 <= token_id < len(self.words) else "<unk>"

    def locate(self, text: str, tpos: int, m: int) -> tuple[np.ndarray, int, int] | None:
        # scan only up to the match (a long document is not tokenised whole for one snippet)
        if m <= 0:
            return None
        if self.lower:
            low, back = _lower_with_map(text)
            it = WORD_RE.finditer(low)
        else:
            back = None
            it = WORD_RE.finditer(text)
        ms = list(islice(it, tpos, tpos + m))
        if len(ms) < m:
            return None
        get = self.vocab.get
        ids = np.fromiter((get(x.group(0), UNKNOWN) for x in ms), dtype=np.int64, count=m)
        cs, ce = ms[0].start(), ms[-1].end()
        if back is not None:
            cs, ce = back[cs], back[ce]
        return ids, cs, ce

    def save(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.words, ensure_ascii=False), encoding="utf-8")
        return {"kind": self.kind, "spec": self.spec, "lower": self.lower, "file": "vocab.json"}


def word_batch_local(texts: list[str], lower: bool) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Tokenise a batch against a fresh local vocabulary (for a worker process): the local words
    in order of first appearance, the concatenated local ids, and the number of tokens per text."""
    words: list[str] = []
    vocab = _Vocab(words)
    get = vocab.__getitem__
    findall = WORD_RE.findall
    parts = []
    for t in texts:
        toks = findall(t.lower() if lower else t)
        parts.append(np.fromiter(map(get, toks), dtype=np.int32, count=len(toks)))
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    return words, (np.concatenate(parts) if parts else np.zeros(0, np.int32)), lengths


def _lower_with_map(text: str) -> tuple[str, list[int]]:
    """``text.lower()`` and, per character of the result (plus the end), the index in ``text``.
    ``str.lower`` can change the length (e.g. 'İ'), so offsets must be mapped back."""
    low = text.lower()
    if len(low) == len(text):
        return low, list(range(len(text) + 1))
    pieces, back = [], []
    for i, c in enumerate(text):
        lc = c.lower()
        pieces.append(lc)
        back.extend([i] * len(lc))
    back.append(len(text))
    return "".join(pieces), back


class HFIdTokenizer(IdTokenizer):
    """A Hugging Face ``tokenizer.json`` (the ``tokenizers`` package)."""

    kind = "hf"

    def __init__(self, path: Path, spec: str | None = None):
        try:
            import tokenizers  # noqa: F401  (checked here for a clear message)
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise TokenizerError("A tokenizer.json needs the 'tokenizers' package: pip install -e '.[hf]' (from a clone)") from e
        from curadebt.text.hf import load_tokenizer

        self.path = Path(path)
        self.spec = spec or str(path)
        self.tok = load_tokenizer(self.path)  # padding and truncation off: queries count as the corpus
        self._size = self.tok.get_vocab_size(with_added_tokens=True)

    @property
    def vocab_size(self) -> int:
        return self._size

    def encode_batch(self, texts: Sequence[str], grow: bool = False) -> list[np.ndarray]:
        encs = self.tok.encode_batch(list(texts), add_special_tokens=False)
        return [np.asarray(e.ids, dtype=np.int64) for e in encs]

    def encode_with_offsets(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        enc = self.tok.encode(text, add_special_tokens=False)
        return np.asarray(enc.ids, dtype=np.int64), [tuple(o) for o in enc.offsets]

    def token_str(self, token_id: int) -> str:
        s = self.tok.id_to_token(int(token_id))
        return "<unk>" if s is None else s

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def save(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, folder / "tokenizer.json")
        return {"kind": self.kind, "spec": self.spec, "file": "tokenizer.json"}


class AutoIdTokenizer(IdTokenizer):
    """A model folder read with ``transformers.AutoTokenizer`` (when it has no tokenizer.json)."""

    kind = "auto"

    def __init__(self, path: Path, spec: str | None = None):
        try:
            from transformers import AutoTokenizer
        except ImportError as e:  # pragma: no cover
            raise TokenizerError("A model folder's tokenizer needs 'transformers': pip install transformers") from e
        self.path = Path(path)
        self.spec = spec or str(path)
        self.tok = AutoTokenizer.from_pretrained(str(self.path))

    @property
    def vocab_size(self) -> int:
        return len(self.tok)

    def encode_batch(self, texts: Sequence[str], grow: bool = False) -> list[np.ndarray]:
        out = self.tok(list(texts), add_special_tokens=False)["input_ids"]
        return [np.asarray(ids, dtype=np.int64) for ids in out]

    def encode_with_offsets(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        if getattr(self.tok, "is_fast", False):
            enc = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)
            return np.asarray(enc["input_ids"], dtype=np.int64), [tuple(o) for o in enc["offset_mapping"]]
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        # slow tokenizer: offsets from the lengths of decoded prefixes (approximate at odd joins)
        offsets, prev = [], 0
        for k in range(1, len(ids) + 1):
            end = min(len(text), len(self.tok.decode(ids[:k])))
            offsets.append((prev, end))
            prev = end
        return np.asarray(ids, dtype=np.int64), offsets

    def token_str(self, token_id: int) -> str:
        return str(self.tok.convert_ids_to_tokens(int(token_id)))

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.tok.decode([int(i) for i in ids])

    def save(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        self.tok.save_pretrained(str(folder))
        return {"kind": self.kind, "spec": self.spec, "file": "."}


def make_id_tokenizer(spec: str | None) -> IdTokenizer:
    """Same choices as :func:`curadebt.text.tokenize.get_tokenizer`, with integer ids."""
    if spec in (None, "", "words"):
        return WordIdTokenizer(lower=False)
    if spec == "words-lower":
        return WordIdTokenizer(lower=True)
    from curadebt.text.hf import resolve_tokenizer_file

    f = resolve_tokenizer_file(spec)
    if f is not None:
        return HFIdTokenizer(f, spec)
    if Path(spec).is_dir():
        return AutoIdTokenizer(Path(spec), spec)
    raise TokenizerError(f"unknown tokenizer {spec!r}: use 'words', 'words-lower', a tokenizer.json, a model folder, "
                         "a model id in the local Hugging Face cache, or all-minilm-l6-v2")


def load_id_tokenizer(folder: Path, desc: dict) -> IdTokenizer:
    """Re-open the tokenizer an index was built with (from the copy inside the index)."""
    kind = desc["kind"]
    if kind == "words":
        words = json.loads((folder / desc["file"]).read_text(encoding="utf-8"))
        return WordIdTokenizer(lower=bool(desc.get("lower")), words=words)
    if kind == "hf":
        return HFIdTokenizer(folder / desc["file"], desc.get("spec"))
    if kind == "auto":
        return AutoIdTokenizer(folder, desc.get("spec"))
    raise TokenizerError(f"index has an unknown tokenizer kind {kind!r}")
