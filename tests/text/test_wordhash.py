"""The vectorised word tokenizer and XXH3 must equal the reference ones exactly (they feed MinHash
signatures and n-gram counts, whose results must not change)."""
from __future__ import annotations

import json
import random

import numpy as np
import xxhash

from curadebt.measures.minhash import hash_tokens
from curadebt.text.tokenize import word_tokenize
from curadebt.text.wordhash import word_spans, word_token_hashes, xxh3_64

ADVERSARIAL = [
    "don't -a- b--c ’x’y’ it's-well-known _ __a_ 12-3 é-ü ßx ǅ Ⅻ ٣ 一二 a\u0301b \U0001F600 ab’",
    "", "-", "'", "a", "'a'", "a-", "-a", "a--b", "a-'b", "a'-b", "x-y-z", "été", "\n\n", "a\nb",
    "lone \ud800 surrogate x\udfffy", "tab\tsep\u00a0nbsp\u2028line", "Ⅻ-Ⅻ", "x" * 300, "é" * 100,
    "under_score 3.14 1,000 e-mail", "\u0660\u0661-\u0662",
]


def _reference(texts):
    return [word_tokenize(t) for t in texts]


def test_spans_equal_word_tokenize_on_adversarial_text():
    data, starts, lengths, offsets = word_spans(ADVERSARIAL)
    got = [data[s:s + n].decode("utf-8", "surrogatepass") for s, n in zip(starts.tolist(), lengths.tolist())]
    ref = _reference(ADVERSARIAL)
    assert offsets.tolist() == np.cumsum([0] + [len(t) for t in ref]).tolist()
    assert got == [w for toks in ref for w in toks]


def test_spans_equal_word_tokenize_on_random_unicode():
    rng = random.Random(7)
    alphabet = list("ab Z9_'’-- \n\t.,") + ["é", "ß", "Ⅻ", "٣", "一", "\u0301", "\U0001F600", "\u00a0", "\ud800"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(3000)]
    hashes, offsets = word_token_hashes(texts)
    ref_h, ref_off = hash_tokens(_reference(texts))
    assert np.array_equal(offsets, ref_off)
    assert np.array_equal(hashes, ref_h)


def test_token_hashes_equal_on_real_corpus(shared_data):
    path = shared_data("mixed", "corpus.jsonl")
    with open(path, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(3000), fh)]
    texts = texts[:1500] + texts[-1500:]  # bible and speeches (cp1252-decoded punctuation)
    hashes, offsets = word_token_hashes(texts)
    ref_h, ref_off = hash_tokens(_reference(texts))
    assert np.array_equal(offsets, ref_off)
    assert np.array_equal(hashes, ref_h)


def test_xxh3_every_length_class():
    rng = random.Random(3)
    items = [bytes(rng.randrange(256) for _ in range(n)) for n in range(0, 260) for _ in range(3)]
    data = b"".join(items)
    lengths = np.array([len(b) for b in items])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    got = xxh3_64(data, starts, lengths)
    assert got.tolist() == [xxhash.xxh3_64_intdigest(b) for b in items]
