"""Curate's per-document word features (capitalised words, context sketch) are computed from the
batch's word spans, vectorised; they must equal the per-word definition they replaced, on real and
adversarial text (Unicode case mapping, stop words, repeated words, empty documents)."""
from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np

from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.curation.scan import _NO_HASH, _STOP, ScanMeasure, _context_hash, sketch_csr, word_hash
from curadebt.text.tokenize import word_tokenize


def _reference(texts: list[str], k: int):
    """The per-word definition: capitalised words (w[:1].isupper()) counted per document and sorted
    by string; the k smallest context hashes of the distinct lower-cased 4+ character words."""
    cap_off, cap_hash, cap_cnt = [0], [], []
    ctx = np.full((len(texts), k), _NO_HASH, dtype=np.uint32)
    for i, t in enumerate(texts):
        words = word_tokenize(t)
        for w, c in sorted(Counter(w for w in words if w[:1].isupper()).items()):
            cap_hash.append(word_hash(w))
            cap_cnt.append(c)
        cap_off.append(len(cap_hash))
        lower = {w.lower() for w in words if len(w) >= 4} - _STOP
        if lower:
            hs = np.sort(np.fromiter((_context_hash(w) for w in lower), dtype=np.uint32, count=len(lower)))[:k]
            ctx[i, :len(hs)] = hs
    return cap_off, cap_hash, cap_cnt, ctx


def _check(texts: list[str], k: int, batch_size: int = 97):
    m = ScanMeasure(context_k=k)
    state = m.empty()
    docs = [Document(str(i), t, i) for i, t in enumerate(texts)]
    for s in range(0, len(docs), batch_size):
        state = m.accumulate(state, Batch(docs[s:s + batch_size]))
    for c, s in zip(state.chunks, range(0, len(docs), batch_size)):
        cap_off, cap_hash, cap_cnt, ctx = _reference(texts[s:s + batch_size], k)
        assert c.cap_off.tolist() == cap_off
        assert c.cap_hash.tolist() == cap_hash
        assert c.cap_cnt.tolist() == cap_cnt
        off, hashes = sketch_csr(ctx)
        assert np.array_equal(c.ctx_off, off) and np.array_equal(c.ctx_hash, hashes)
        assert c.tokens.tolist() == [len(word_tokenize(t)) for t in texts[s:s + batch_size]]


def test_word_features_equal_the_per_word_definition_on_adversarial_text():
    rng = random.Random(3)
    pieces = ["Tom", "tom", "TOMS", "Paris", "paris", "which", "Which", "WHICH", "about", "Éclair", "éclair",
              "\u212aelvin", "Kelvin", "İstanbul", "straße", "STRASSE", "Σίσυφος", "ǅemal", "naïve", "x", "abc", "abcd",
              "don't", "well-known", "\U0001D400BCD", "\ud800abc", "一二三四", " ", " ", "\n", ", ", "-", "'"]
    texts = ["".join(rng.choice(pieces) + rng.choice(["", " ", " ", "-"]) for _ in range(rng.randrange(0, 60)))
             for _ in range(700)]
    texts += ["", "   ", "Kelvin \u212aELVIN kelvin"]
    _check(texts, k=4)
    _check(texts, k=24, batch_size=1000)


def test_word_features_equal_the_per_word_definition_on_real_text(shared_data):
    path = shared_data("mixed", "corpus.jsonl")
    with open(path, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(1500), fh)]
    _check(texts, k=24, batch_size=500)
