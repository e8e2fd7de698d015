"""Token index: counts, documents and next tokens equal a brute-force scan on real corpora;
sharded equals unsharded; edge cases of the format (uint16/uint32 shards, document boundaries,
atomic writes)."""
from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from curadebt.corpus import Document, ReaderConfig
from curadebt.text.tokenize import word_tokenize
from curadebt.corpus.outdir import OutputError
from curadebt.trace.build import IndexBuildError, build_index, build_index_from_documents
from curadebt.trace.index import TokenIndex

_CACHE: dict = {}


def _cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def shakespeare_docs(shared_data) -> list[Document]:
    text = shared_data("tinyshakespeare", "input.txt").read_text(encoding="utf-8")
    speeches = [s for s in text.split("\n\n") if s.strip()]
    return [Document(id=f"speech-{i}", text=s, ordinal=i, source="shakespeare") for i, s in enumerate(speeches)]


@pytest.fixture
def shakespeare(shared_data, tmp_path_factory):
    """(docs, unsharded index, sharded index) over the 7k speeches of tinyshakespeare."""
    def make():
        docs = shakespeare_docs(shared_data)
        root = tmp_path_factory.mktemp("ts")
        build_index_from_documents(docs, root / "one", shard_tokens=10**9)
        rep = build_index_from_documents(docs, root / "many", shard_tokens=37_000)
        assert rep.shards >= 5
        return docs, TokenIndex.open(root / "one"), TokenIndex.open(root / "many")
    return _cached("shakespeare", make)


@pytest.fixture
def mixed_slice(shared_data, tmp_path_factory):
    """Every 7th record of mixed/corpus.jsonl (all five sources), read through the corpus reader."""
    def make():
        lines = shared_data("mixed", "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        picked = lines[::7]
        root = tmp_path_factory.mktemp("mixed")
        src = root / "slice.jsonl"
        src.write_text("\n".join(picked) + "\n", encoding="utf-8")
        recs = [json.loads(x) for x in picked]
        build_index(src, root / "idx", reader_config=ReaderConfig(id_field="id"))
        return recs, TokenIndex.open(root / "idx")
    return _cached("mixed", make)


def brute_postings(doc_tokens: list[list], queries: list[tuple]) -> dict[tuple, Counter]:
    """query -> Counter(document number -> occurrences), by scanning every document."""
    want = defaultdict(set)
    for q in queries:
        want[len(q)].add(q)
    out: dict[tuple, Counter] = {q: Counter() for q in queries}
    for d, toks in enumerate(doc_tokens):
        for n, qs in want.items():
            for i in range(len(toks) - n + 1):
                g = tuple(toks[i:i + n])
                if g in qs:
                    out[g][d] += 1
    return out


def random_queries(doc_tokens: list[list], rng: random.Random, n: int, max_len: int = 7) -> list[tuple]:
    """Present n-grams, perturbed ones (mostly absent), and n-grams across document boundaries."""
    qs = []
    nonempty = [t for t in doc_tokens if t]
    while len(qs) < n:
        r = rng.random()
        t = rng.choice(nonempty)
        k = rng.randint(1, max_len)
        if r < 0.6 and len(t) >= k:
            i = rng.randrange(len(t) - k + 1)
            qs.append(tuple(t[i:i + k]))
        elif r < 0.85 and len(t) >= k:
            i = rng.randrange(len(t) - k + 1)
            q = list(t[i:i + k])
            q[rng.randrange(k)] = rng.choice(rng.choice(nonempty))
            qs.append(tuple(q))
        else:  # last words of one document + first words of the next
            j = rng.randrange(len(doc_tokens) - 1)
            a, b = doc_tokens[j], doc_tokens[j + 1]
            if len(a) >= 2 and len(b) >= 2:
                qs.append(tuple(a[-2:] + b[:2]))
    return qs


def test_counts_and_documents_equal_brute_force_shakespeare(shakespeare):
    docs, one, many = shakespeare
    toks = [word_tokenize(d.text) for d in docs]
    rng = random.Random(7)
    queries = random_queries(toks, rng, 600)
    queries += [("zzzz-not-a-word",), ("the", "zzzz-not-a-word"), ("KING", "RICHARD", "III")]
    post = brute_postings(toks, list(set(queries)))
    n_absent = sum(1 for q in set(queries) if not post[q])
    assert n_absent >= 50  # the test covers absent n-grams, not only present ones
    for q in set(queries):
        expect = sum(post[q].values())
        text = " ".join(q)
        assert one.count(text) == expect, q
        assert many.count(text) == expect, q
    # document lists (every document, in corpus order) for a subset
    for q in sorted(set(queries))[:150]:
        res = one.documents(" ".join(q), limit=None)
        expect_docs = sorted(post[q])
        assert [d.index for d in res.documents] == expect_docs, q
        assert [d.count for d in res.documents] == [post[q][d] for d in expect_docs]
        assert res.n_documents == len(expect_docs) and res.count == sum(post[q].values())
        assert [d.id for d in res.documents] == [docs[i].id for i in expect_docs]
        res2 = many.documents(" ".join(q), limit=None)
        assert [(d.index, d.id, d.count, d.position) for d in res2.documents] == \
               [(d.index, d.id, d.count, d.position) for d in res.documents]


def test_count_many_equals_brute_force(shakespeare):
    """The vectorised search of many queries at once gives every count of the brute force, on one
    shard and on many, absent and unknown tokens included."""
    import numpy as np

    docs, one, many = shakespeare
    toks = [word_tokenize(d.text) for d in docs]
    rng = random.Random(11)
    for m in (1, 3, 6):
        queries = [q for q in random_queries(toks, rng, 400, max_len=m) if len(q) == m]
        queries += [("zzzz-not-a-word",) * m]
        post = brute_postings(toks, list(set(queries)))
        assert sum(1 for q in set(queries) if not post[q]) >= (1 if m == 1 else 5)  # absent ones too
        for idx in (one, many):
            ids = np.stack([idx.encode(" ".join(q)) if len(idx.encode(" ".join(q))) == m else np.full(m, -1)
                            for q in queries])
            got = idx.count_many(ids)
            assert got.tolist() == [sum(post[q].values()) for q in queries], m
    assert one.count_many(np.zeros((2, 0), dtype=np.int64)).tolist() == [one.n_tokens] * 2


def test_ids_query_and_text_query_agree(shakespeare):
    docs, one, _ = shakespeare
    q = "Before we proceed any further, hear me"
    ids = one.encode(q)
    assert one.count(ids) == one.count(list(ids)) == one.count(q) > 0
    assert one.count("") == one.n_tokens == sum(len(word_tokenize(d.text)) for d in docs)


def test_snippets_show_the_match(shakespeare):
    docs, one, many = shakespeare
    res = one.documents("my lord", limit=20)
    assert res.n_documents > 20 and len(res.documents) == 20
    for d in res.documents:
        assert d.snippet[d.match_start:d.match_end] == "my lord"
        assert d.source == "shakespeare"
        assert d.snippet.replace("…", "") in docs[d.index].text
    top = one.documents("my lord", limit=3, order="count")
    counts = [d.count for d in one.documents("my lord", limit=None).documents]
    assert [d.count for d in top.documents] == sorted(counts, reverse=True)[:3]


def test_next_tokens_equal_brute_force(shakespeare):
    docs, one, many = shakespeare
    toks = [word_tokenize(d.text) for d in docs]
    rng = random.Random(3)
    contexts = [q for q in random_queries(toks, rng, 60, max_len=3)] + [("I", "am"), ("the",)]
    for ctx in contexts:
        n = len(ctx)
        nxt, eod, total = Counter(), 0, 0
        for t in toks:
            for i in range(len(t) - n + 1):
                if tuple(t[i:i + n]) == ctx:
                    total += 1
                    if i + n < len(t):
                        nxt[t[i + n]] += 1
                    else:
                        eod += 1
        for idx in (one, many):
            res = idx.next_tokens(" ".join(ctx), k=None)
            assert res.count == total and res.end_of_document == eod, ctx
            assert {c.token: c.count for c in res.candidates} == dict(nxt), ctx
            if res.candidates:
                assert abs(sum(c.prob for c in res.candidates) + eod / total - 1) < 1e-9
        top = one.next_tokens(" ".join(ctx), k=3)
        assert [c.count for c in top.candidates] == sorted(nxt.values(), reverse=True)[:3]
    uni = one.next_tokens("", k=5)
    allc = Counter(w for t in toks for w in t)
    assert [(c.token, c.count) for c in uni.candidates] == allc.most_common(5)


def test_mixed_slice_counts_documents_sources(mixed_slice):
    recs, idx = mixed_slice
    toks = [word_tokenize(r["text"]) for r in recs]
    assert idx.n_docs == len(recs)
    rng = random.Random(11)
    queries = list(set(random_queries(toks, rng, 400)))
    post = brute_postings(toks, queries)
    for q in queries:
        assert idx.count(" ".join(q)) == sum(post[q].values()), q
    for q in queries[:100]:
        res = idx.documents(" ".join(q), limit=None)
        assert [d.index for d in res.documents] == sorted(post[q])
        assert [d.id for d in res.documents] == [recs[i]["id"] for i in sorted(post[q])]
        assert [d.source for d in res.documents] == [recs[i]["source"] for i in sorted(post[q])]
    assert {idx.document(i)["source"] for i in range(idx.n_docs)} == {r["source"] for r in recs}


def test_hf_tokenizer_index_equals_brute_force(shakespeare, tmp_path):
    """A model-style BPE tokenizer.json: the index stores the tokenizer's own ids."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    docs = shakespeare[0][:2500]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator([d.text for d in docs], trainers.BpeTrainer(vocab_size=600, special_tokens=["[UNK]"]))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    rep = build_index_from_documents(docs, tmp_path / "idx", tokenizer=str(path), shard_tokens=60_000)
    assert rep.shards > 1 and rep.token_dtypes == [">u2"]
    idx = TokenIndex.open(tmp_path / "idx")
    assert idx.tokenizer.kind == "hf"
    ids = [tok.encode(d.text, add_special_tokens=False).ids for d in docs]
    rng = random.Random(5)
    queries = list(set(random_queries(ids, rng, 300, max_len=10)))
    post = brute_postings(ids, queries)
    for q in queries:
        assert idx.count(list(q)) == sum(post[q].values()), q
    for q in queries[:40]:
        assert [d.index for d in idx.documents(list(q), limit=None).documents] == sorted(post[q])
    # text queries go through the same tokenizer, and snippets re-tokenise the stored text
    d = next(x for x in docs[100:] if len(x.text) > 300)
    piece = d.text[: d.text.rindex(" ", 0, len(d.text) // 2)]  # cut between words: BPE pieces stay the same
    res = idx.documents(piece, limit=None)
    assert d.ordinal in [h.index for h in res.documents]
    hit = [h for h in res.documents if h.index == d.ordinal][0]
    assert hit.snippet[hit.match_start:hit.match_end] == piece
    # next tokens over ids
    ctx = tuple(ids[7][:2])
    nxt = Counter()
    for t in ids:
        for i in range(len(t) - 2):
            if tuple(t[i:i + 2]) == ctx:
                nxt[t[i + 2]] += 1
    assert idx.next_tokens(list(ctx), k=None).as_dict() == dict(nxt)


def test_uint32_shards_and_mixed_widths(tmp_path):
    """A vocabulary past 65,535 words moves later shards to uint32; id 65535 (the uint16
    separator value) is a real word there and must not match separators of uint16 shards."""
    rng = random.Random(1)
    docs = []
    # first documents: a small vocabulary (uint16 shards)
    for i in range(200):
        docs.append(Document(id=f"a{i}", text=" ".join(f"w{rng.randrange(300)}" for _ in range(50)), ordinal=len(docs)))
    # then 70k new words
    for i in range(700):
        docs.append(Document(id=f"b{i}", text=" ".join(f"v{i * 100 + j}" for j in range(100)) + " w1 w2", ordinal=len(docs)))
    rep = build_index_from_documents(docs, tmp_path / "idx", shard_tokens=9_000)
    assert rep.token_dtypes == [">u2", ">u4"]
    assert rep.vocab_size > 65_536
    idx = TokenIndex.open(tmp_path / "idx")
    word_65535 = idx.tokenizer.token_str(65535)
    toks = [word_tokenize(d.text) for d in docs]
    queries = [(word_65535,), ("w1", "w2"), ("w2", "v100"), ("v69999", "w1", "w2"), ("w5", "w7"), (word_65535, idx.tokenizer.token_str(65536))]
    queries += random_queries(toks, random.Random(2), 200, max_len=4)
    post = brute_postings(toks, list(set(queries)))
    for q in set(queries):
        assert idx.count(" ".join(q)) == sum(post[q].values()), q
    assert idx.count(word_65535) == 1
    assert idx.next_tokens("w1", k=None).as_dict()[idx.tokenizer.vocab[("w2")]] == sum(post[("w1", "w2")].values())


def test_no_match_crosses_a_document_boundary(tmp_path):
    docs = [Document(id="a", text="alpha beta", ordinal=0), Document(id="b", text="gamma delta", ordinal=1),
            Document(id="c", text="beta gamma", ordinal=2)]
    build_index_from_documents(docs, tmp_path / "idx")
    idx = TokenIndex.open(tmp_path / "idx")
    assert idx.count("beta gamma") == 1
    assert [d.id for d in idx.documents("beta gamma").documents] == ["c"]
    assert idx.next_tokens("beta", k=None).as_dict() == {idx.tokenizer.vocab["gamma"]: 1}
    assert idx.next_tokens("beta", k=None).end_of_document == 1
    assert idx.count("delta") == 1 and idx.count("delta alpha") == 0


def test_builds_are_atomic(tmp_path):
    docs = [Document(id=str(i), text=f"doc number {i}", ordinal=i) for i in range(10)]
    out = tmp_path / "idx"
    build_index_from_documents(docs, out)
    with pytest.raises(OutputError, match="--force"):
        build_index_from_documents(docs, out)  # exists: needs overwrite

    def failing():
        yield from docs[:5]
        raise RuntimeError("reader died")

    with pytest.raises(RuntimeError):
        build_index_from_documents(failing(), out, overwrite=True)
    assert TokenIndex.open(out).n_docs == 10  # the old index is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temporary folder left behind
    build_index_from_documents(docs[:3], out, overwrite=True)
    assert TokenIndex.open(out).n_docs == 3
    (tmp_path / "notanindex").mkdir()
    (tmp_path / "notanindex" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not written by curadebt"):
        build_index_from_documents(docs, tmp_path / "notanindex")
    build_index_from_documents(docs, tmp_path / "notanindex", overwrite=True)  # beside the user's file
    assert (tmp_path / "notanindex" / "notes.txt").read_text() == "mine"
    assert TokenIndex.open(tmp_path / "notanindex").n_docs == 10


def test_text_not_stored_gives_token_snippets(tmp_path):
    docs = [Document(id="a", text="The quick brown fox jumps over the lazy dog.", ordinal=0)]
    build_index_from_documents(docs, tmp_path / "idx", store_text=False)
    idx = TokenIndex.open(tmp_path / "idx")
    d = idx.documents("brown fox").documents[0]
    assert d.snippet[d.match_start:d.match_end] == "brown fox"
    assert idx.document(0)["text"] is None


def test_build_report_numbers(tmp_path):
    docs = [Document(id=str(i), text="a b c d e " * 20, ordinal=i) for i in range(50)]
    rep = build_index_from_documents(docs, tmp_path / "idx", shard_tokens=1000)
    assert rep.tokens == 50 * 100 and rep.documents == 50 and rep.separators == 50
    assert rep.shards == 6  # 9 documents of 101 tokens per shard of 1000
    assert rep.index_bytes == (rep.tokens + rep.separators) * (2 + 4)
    assert rep.index_bytes_per_token == pytest.approx(6 * 5050 / 5000)
    info = json.loads((tmp_path / "idx" / "index.json").read_text())
    assert info["build"]["tokens"] == rep.tokens and len(info["shards"]) == 6


def test_parallel_tokenising_gives_identical_index(shared_data, tmp_path):
    docs = shakespeare_docs(shared_data)[:3000]
    build_index_from_documents(docs, tmp_path / "a", shard_tokens=30_000, workers=1, batch_size=200)
    build_index_from_documents(docs, tmp_path / "b", shard_tokens=30_000, workers=2, batch_size=200)
    for f in ("tokenizer/vocab.json", "unigram.npy", "shard-00000/tokens.bin", "shard-00000/sa.bin", "shard-00002/tokens.bin"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
