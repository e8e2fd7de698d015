"""Capitalised words: the candidate entity tokens (the default token filter of the salience
measure and of curate's per-document features) and the word pairs inside an entity span."""
from __future__ import annotations

import numpy as np

from curadebt.text.wordhash import WordSpans


def is_capitalised(token: str) -> bool:
    """Default token filter: the word starts with an upper-case letter."""
    return bool(token) and token[0].isupper()


def capitalised_tokens(words: WordSpans) -> tuple[np.ndarray, list[str]]:
    """The word tokens that pass :func:`is_capitalised`, in order, from a batch's word spans, as
    (token indices, strings): only tokens whose first byte is an ASCII capital or starts a non-ASCII
    character are decoded (about one token in ten in English), and the latter are tested with
    ``str.isupper`` as the filter does."""
    data = words.data
    first = np.frombuffer(data, dtype=np.uint8)[words.starts] if len(words.starts) else np.empty(0, np.uint8)
    cand = np.flatnonzero(((first >= 65) & (first <= 90)) | (first >= 0x80))
    decoded = [data[s:s + n].decode("utf-8", "surrogatepass")
               for s, n in zip(words.starts[cand].tolist(), words.lengths[cand].tolist())]
    keep = [i for i, w in enumerate(decoded) if w[0].isupper()]
    if len(keep) == len(decoded):
        return cand, decoded
    return cand[np.asarray(keep, dtype=np.int64)], [decoded[i] for i in keep]


def capitalised_words(words: WordSpans) -> list[str]:
    """The strings of :func:`capitalised_tokens`."""
    return capitalised_tokens(words)[1]


#: lower-case words inside a span that are skipped when pairing ("God of Israel": God -> Israel)
PARTICLES = frozenset("of de da van von del la le bin al".split())


def entity_pairs(entity: str) -> list[tuple[str, str]]:
    """(word, next word) for the capitalised words of an entity span, particles skipped."""
    words = [w for w in entity.split() if w not in PARTICLES]
    return list(zip(words, words[1:]))
