"""The decide pass's per-document features, collected as a mergeable measure inside the input audit.

:class:`ScanMeasure` runs in the same streaming pass as the audit's measures (it reuses the batch's
word spans and entities; the word features come from the spans without a string per token, see
:func:`capitalised_features` and :func:`context_sketch`), so looking at the corpus costs one pass.
It keeps, per document, only compact numbers, never text:

- ``id``, ``source``, ``tokens`` (the audit tokenizer's count, as the mixture measure), ``bytes``,
  and the XXH3-64 of the text's UTF-8 bytes (written to the ledger, so that an output can be
  checked against it);
- entity mentions: xxh3-64 of each distinct entity string and its count (sparse, CSR);
- entity pairs (the salience competition's ``token -> continuation`` inside entity spans, e.g.
  ("Tom", "Cruise")): xxh3-64 of each distinct pair and its mentions (CSR);
- capitalised words (the salience measure's spillover vocabulary): 32-bit hash and count (CSR);
- a context sketch: the ``context_k`` smallest 32-bit hashes of the document's distinct lower-cased
  words of 4+ letters (a consistent sample, so two documents share a sketch entry only when they
  share the word): the "context words" whose coverage the diverse selections maximise;
- probe support: for each probe answer the document supports (subject and answer co-occur, the
  probes measure's own matching rules), its sentence count (CSR).

Memory is about ``100 + 12 x entities + 8 x capitalised words + 4 x context words`` bytes per
document (the sketch keeps only the slots a document fills: at most ``context_k``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import xxhash

from curadebt.core.ids import Ids
from curadebt.core.measure import Measure
from curadebt.corpus.batch import Batch
from curadebt.measures.ngramcount import ragged_gather
from curadebt.text.capitalised import capitalised_tokens, entity_pairs, is_capitalised
from curadebt.text.wordhash import WordSpans, xxh3_64

CONTEXT_K = 24
_NO_HASH = np.uint32(0xFFFFFFFF)
_h64 = xxhash.xxh3_64_intdigest

_STOP = frozenset("""that this with from have were they will would there their which when what been them then than
into upon unto shall also more some such only other very your said could should these those where about after
before being over under again most many much like just each even here made make does done thou thee thy hath
doth unto ye""".split())


def entity_hash(entity: str) -> int:
    """The 64-bit key of an entity string (as stored per document)."""
    return _h64(entity.encode("utf-8", "surrogatepass"))


def pair_hash(token: str, continuation: str) -> int:
    """The 64-bit key of a competition pair ``token -> continuation`` (as stored per document)."""
    return _h64(f"{token}\x00{continuation}".encode("utf-8", "surrogatepass"))


def word_hash(word: str) -> int:
    """The 32-bit key of a (case-kept) word, as stored per document for capitalised words."""
    return _h64(word.encode("utf-8", "surrogatepass")) >> 32


def _context_key(word: str) -> int:
    """64-bit context key of a lower-cased word; its top 32 bits are :func:`_context_hash`."""
    return _h64(b"c:" + word.encode("utf-8", "surrogatepass"))


def _context_hash(word: str) -> int:
    """The 32-bit key of a lower-cased context word, as stored in the context sketch."""
    return _context_key(word) >> 32


_STOP_KEYS = np.array(sorted(_context_key(w) for w in _STOP), dtype=np.uint64)  # sorted, for searchsorted


def capitalised_features(words: WordSpans, n_docs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document, its distinct capitalised words (the salience filter) by string ascending:
    CSR ``(offsets, 32-bit word_hash, count)``. Only capitalised tokens become strings."""
    idx, strings = capitalised_tokens(words)
    bounds = np.searchsorted(idx, words.offsets).tolist()  # each document's capitalised tokens
    off, hashes, counts = [0], [], []
    for d in range(n_docs):
        caps = Counter(strings[bounds[d]:bounds[d + 1]])
        for w, c in sorted(caps.items()):
            hashes.append(word_hash(w))
            counts.append(c)
        off.append(len(hashes))
    return (np.asarray(off, dtype=np.int64), np.asarray(hashes, dtype=np.uint32),
            np.asarray(counts, dtype=np.uint32))


def context_sketch(words: WordSpans, n_docs: int, k: int) -> np.ndarray:
    """``(n_docs, k)`` uint32: per document the ``k`` smallest :func:`_context_hash` values of its
    distinct lower-cased words of 4+ characters that are not stop words, ascending (padded with
    ``_NO_HASH``). ASCII tokens are lower-cased, prefixed and hashed as bytes (vectorised); tokens
    with other characters go through ``str.lower`` one by one. Words are told apart by their 64-bit
    key (so two words whose 32-bit hashes collide both count, as with the strings)."""
    data, starts, lengths, offsets = words.data, words.starts, words.lengths, words.offsets
    buf = np.frombuffer(data, dtype=np.uint8)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(offsets))
    if data.isascii():
        wide = np.zeros(len(starts), dtype=bool)
    else:  # tokens holding a byte >= 0x80: a cumulative count of such bytes differs across the token
        high = np.zeros(len(buf) + 1, dtype=np.int32 if len(buf) < (1 << 31) else np.int64)
        np.cumsum(buf >= 0x80, out=high[1:])
        wide = high[starts + lengths] != high[starts]
    ascii_rows = np.flatnonzero(~wide & (lengths >= 4))
    # "c:" + the lower-cased bytes of every selected ASCII token, in one buffer
    lower = buf + ((buf >= 65) & (buf <= 90)).astype(np.uint8) * np.uint8(32)
    body_len = lengths[ascii_rows]
    key_len = body_len + 2
    key_start = np.zeros(len(ascii_rows), dtype=np.int64)
    if len(ascii_rows):
        np.cumsum(key_len[:-1], out=key_start[1:])
    keybuf = np.empty(int(key_len.sum()), dtype=np.uint8)
    is_body = np.ones(len(keybuf), dtype=bool)
    is_body[key_start] = is_body[key_start + 1] = False
    keybuf[key_start], keybuf[key_start + 1] = ord("c"), ord(":")
    keybuf[is_body] = ragged_gather(lower, starts[ascii_rows], body_len)
    keys = [xxh3_64(keybuf.tobytes(), key_start, key_len)]
    docs = [doc_of[ascii_rows]]
    other_keys, other_docs = [], []
    for t in np.flatnonzero(wide).tolist():  # tokens with non-ASCII characters: as str.lower does
        w = words.token(t)
        if len(w) >= 4:
            other_keys.append(_context_key(w.lower()))
            other_docs.append(doc_of[t])
    keys.append(np.asarray(other_keys, dtype=np.uint64))
    docs.append(np.asarray(other_docs, dtype=np.int64))
    keys, docs = np.concatenate(keys), np.concatenate(docs)
    pos = np.minimum(np.searchsorted(_STOP_KEYS, keys), len(_STOP_KEYS) - 1)
    keep = _STOP_KEYS[pos] != keys
    keys, docs = keys[keep], docs[keep]
    order = np.lexsort((keys, docs))  # distinct (document, word)
    keys, docs = keys[order], docs[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
    h32, docs = (keys[first] >> np.uint64(32)).astype(np.uint32), docs[first]
    order = np.lexsort((h32, docs))  # the k smallest 32-bit hashes of each document
    h32, docs = h32[order], docs[order]
    rank = np.arange(len(docs)) - np.searchsorted(docs, docs, side="left")
    take = rank < k
    ctx = np.full((n_docs, k), _NO_HASH, dtype=np.uint32)
    ctx[docs[take], rank[take]] = h32[take]
    return ctx


def sketch_csr(ctx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A ``(n, k)`` context sketch without its padding, as CSR ``(offsets, hashes)`` (a short
    document holds a few of its ``k`` slots: 16 bytes instead of 96 for a two-word one)."""
    real = ctx != _NO_HASH
    off = np.zeros(len(ctx) + 1, dtype=np.int64)
    np.cumsum(real.sum(axis=1), out=off[1:])
    return off, ctx[real]


@dataclass
class ScanChunk:
    """Features of one batch (consecutive ordinals)."""

    ordinals: np.ndarray
    ids: Ids
    sources: list[str | None]
    tokens: np.ndarray
    nbytes: np.ndarray
    text_hash: np.ndarray
    ent_off: np.ndarray
    ent_hash: np.ndarray
    ent_cnt: np.ndarray
    pair_off: np.ndarray
    pair_hash: np.ndarray
    pair_cnt: np.ndarray
    cap_off: np.ndarray
    cap_hash: np.ndarray
    cap_cnt: np.ndarray
    ctx_off: np.ndarray
    ctx_hash: np.ndarray
    pr_off: np.ndarray
    pr_probe: np.ndarray
    pr_answer: np.ndarray
    pr_sent: np.ndarray


@dataclass
class ScanState:
    chunks: list[ScanChunk] = field(default_factory=list)


def _concat_csr(offs: list[np.ndarray], vals: list[list[np.ndarray]]) -> tuple[np.ndarray, list[np.ndarray]]:
    sizes = [o[-1] for o in offs]
    base = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    off = np.concatenate([np.asarray([0], dtype=np.int64)] + [o[1:] + b for o, b in zip(offs, base[:-1])])
    cols = [np.concatenate(col) if col else np.empty(0) for col in zip(*vals)] if vals else []
    return off, cols


class DocTable:
    """The finalized features, indexed by ordinal (0..n-1)."""

    def __init__(self, chunks: Sequence[ScanChunk], context_k: int = CONTEXT_K):
        chunks = sorted(chunks, key=lambda c: int(c.ordinals[0]) if len(c.ordinals) else -1)
        chunks = [c for c in chunks if len(c.ordinals)]
        self.n = sum(len(c.ordinals) for c in chunks)
        if not chunks:
            z64, z32 = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
            self.ordinals, self.ids, self.tokens, self.nbytes = z64, Ids(), z64, z64
            self.text_hash = np.empty(0, dtype=np.uint64)
            self.source_names: list[str | None] = []
            self.source = np.empty(0, dtype=np.int32)
            self.ent_off, self.ent_hash, self.ent_cnt = np.zeros(1, np.int64), np.empty(0, np.uint64), z32
            self.pair_off, self.pair_hash, self.pair_cnt = np.zeros(1, np.int64), np.empty(0, np.uint64), z32
            self.cap_off, self.cap_hash, self.cap_cnt = np.zeros(1, np.int64), z32, z32
            self.ctx_off, self.ctx_hash = np.zeros(1, np.int64), z32
            self.pr_off = np.zeros(1, np.int64)
            self.pr_probe, self.pr_answer, self.pr_sent = np.empty(0, np.int32), np.empty(0, np.int16), np.empty(0, np.int32)
            return
        self.ordinals = np.concatenate([c.ordinals for c in chunks])
        if not np.array_equal(self.ordinals, np.arange(self.n)):
            raise RuntimeError("scan: document ordinals are not 0..n-1 (a batch was lost or repeated)")
        self.ids = Ids.concat([c.ids for c in chunks])
        srcs = [s for c in chunks for s in c.sources]
        names = sorted({s for s in srcs if s is not None})
        self.source_names = names + ([None] if any(s is None for s in srcs) else [])
        code = {s: i for i, s in enumerate(self.source_names)}
        self.source = np.fromiter((code[s] for s in srcs), dtype=np.int32, count=self.n)
        self.tokens = np.concatenate([c.tokens for c in chunks]).astype(np.int64)
        self.nbytes = np.concatenate([c.nbytes for c in chunks]).astype(np.int64)
        self.text_hash = np.concatenate([c.text_hash for c in chunks]).astype(np.uint64)
        self.ent_off, (self.ent_hash, self.ent_cnt) = _concat_csr([c.ent_off for c in chunks],
                                                                  [[c.ent_hash, c.ent_cnt] for c in chunks])
        self.pair_off, (self.pair_hash, self.pair_cnt) = _concat_csr([c.pair_off for c in chunks],
                                                                     [[c.pair_hash, c.pair_cnt] for c in chunks])
        self.cap_off, (self.cap_hash, self.cap_cnt) = _concat_csr([c.cap_off for c in chunks],
                                                                  [[c.cap_hash, c.cap_cnt] for c in chunks])
        self.ctx_off, (self.ctx_hash,) = _concat_csr([c.ctx_off for c in chunks], [[c.ctx_hash] for c in chunks])
        self.pr_off, (self.pr_probe, self.pr_answer, self.pr_sent) = _concat_csr(
            [c.pr_off for c in chunks], [[c.pr_probe, c.pr_answer, c.pr_sent] for c in chunks])

    def __len__(self) -> int:
        return self.n

    def source_name(self, ordinal: int) -> str | None:
        return self.source_names[int(self.source[ordinal])] if self.source_names else None

    # -- sparse lookups ---------------------------------------------------------------------
    @staticmethod
    def _rows_with(off: np.ndarray, keys: np.ndarray, cnt: np.ndarray, key: int) -> tuple[np.ndarray, np.ndarray]:
        hit = np.flatnonzero(keys == key)
        if not len(hit):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows = np.searchsorted(off, hit, side="right") - 1
        return rows.astype(np.int64), cnt[hit].astype(np.int64)

    def entity_docs(self, entity: str) -> tuple[np.ndarray, np.ndarray]:
        """(ordinals, mentions) of the documents mentioning ``entity``."""
        return self._rows_with(self.ent_off, self.ent_hash, self.ent_cnt, entity_hash(entity))

    def pair_docs(self, token: str, continuation: str) -> tuple[np.ndarray, np.ndarray]:
        """(ordinals, mentions) of the documents holding the pair ``token -> continuation`` inside an
        entity span."""
        return self._rows_with(self.pair_off, self.pair_hash, self.pair_cnt, pair_hash(token, continuation))

    def entity_hashes(self, ordinal: int) -> np.ndarray:
        """The entity keys (:func:`entity_hash`) of one document."""
        return self.ent_hash[self.ent_off[ordinal]:self.ent_off[ordinal + 1]]

    def word_docs(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """(ordinals, occurrences) of the documents containing the capitalised ``word``."""
        return self._rows_with(self.cap_off, self.cap_hash, self.cap_cnt, word_hash(word))

    def features(self, ordinal: int, exclude: set[int] = frozenset()) -> list[int]:
        """Diversity features of a document: its other entities and its context sketch."""
        e0, e1 = self.ent_off[ordinal], self.ent_off[ordinal + 1]
        ents = [int(h) for h in self.ent_hash[e0:e1] if int(h) not in exclude]
        c0, c1 = self.ctx_off[ordinal], self.ctx_off[ordinal + 1]
        ctx = [int(h) | (1 << 32) for h in self.ctx_hash[c0:c1]]  # disjoint from entity keys' use
        return ents + ctx

    def probe_support(self, ordinal: int) -> list[tuple[int, int, int]]:
        a, b = self.pr_off[ordinal], self.pr_off[ordinal + 1]
        return list(zip(self.pr_probe[a:b].tolist(), self.pr_answer[a:b].tolist(), self.pr_sent[a:b].tolist()))


class ScanMeasure(Measure[ScanState, DocTable]):
    """Per-document features for the curate decisions (see the module docstring)."""

    name = "curate_scan"

    def __init__(self, probes=None, context_k: int = CONTEXT_K):
        self.context_k = context_k
        self.probes_measure = None
        if probes:
            from curadebt.measures.probes import ProbesMeasure

            self.probes_measure = ProbesMeasure(probes)
            self._probe_index = {p.id: i for i, p in enumerate(self.probes_measure.probes)}

    def empty(self) -> ScanState:
        return ScanState()

    def map(self, batch: Batch) -> ScanState:
        return self.accumulate(ScanState(), batch)

    def merge(self, a: ScanState, b: ScanState) -> ScanState:
        return ScanState(a.chunks + b.chunks)

    def finalize(self, state: ScanState) -> DocTable:
        return DocTable(state.chunks, self.context_k)

    def accumulate(self, state: ScanState, batch: Batch) -> ScanState:
        docs = batch.docs
        if not docs:
            return state
        n, k = len(docs), self.context_k
        # word features from the batch's shared word spans (the default word tokens whatever the
        # audit tokenizer, as the salience measure uses them)
        cap_off, cap_hash, cap_cnt = capitalised_features(batch.words, n)
        ctx_off, ctx_hash = sketch_csr(context_sketch(batch.words, n, k))
        encoded = [d.text.encode("utf-8", "surrogatepass") for d in docs]
        ent_off, ent_hash, ent_cnt = [0], [], []
        pair_off, pair_keys, pair_cnt = [0], [], []
        pr_off, pr_probe, pr_answer, pr_sent = [0], [], [], []
        for doc, ents in zip(docs, batch.entities):
            if ents:
                for e, c in sorted(Counter(ents).items()):
                    ent_hash.append(entity_hash(e))
                    ent_cnt.append(c)
            ent_off.append(len(ent_hash))
            pairs = Counter(pr for e in ents for pr in entity_pairs(e) if is_capitalised(pr[0]) and is_capitalised(pr[1]))
            for (t, c), k in sorted(pairs.items()):
                pair_keys.append(pair_hash(t, c))
                pair_cnt.append(k)
            pair_off.append(len(pair_keys))
            if self.probes_measure is not None:
                for pi, ai, sents in self._support(doc):
                    pr_probe.append(pi)
                    pr_answer.append(ai)
                    pr_sent.append(sents)
            pr_off.append(len(pr_probe))
        state.chunks.append(ScanChunk(
            ordinals=np.fromiter((d.ordinal for d in docs), dtype=np.int64, count=n),
            ids=Ids.of(d.id for d in docs), sources=[d.source for d in docs],
            tokens=np.asarray(batch.token_counts, dtype=np.int64),
            nbytes=np.fromiter((len(t) for t in encoded), dtype=np.int64, count=n),
            text_hash=np.fromiter((_h64(t) for t in encoded), dtype=np.uint64, count=n),
            ent_off=np.asarray(ent_off, dtype=np.int64), ent_hash=np.asarray(ent_hash, dtype=np.uint64),
            ent_cnt=np.asarray(ent_cnt, dtype=np.uint32),
            pair_off=np.asarray(pair_off, dtype=np.int64), pair_hash=np.asarray(pair_keys, dtype=np.uint64),
            pair_cnt=np.asarray(pair_cnt, dtype=np.uint32),
            cap_off=cap_off, cap_hash=cap_hash, cap_cnt=cap_cnt, ctx_off=ctx_off, ctx_hash=ctx_hash,
            pr_off=np.asarray(pr_off, dtype=np.int64), pr_probe=np.asarray(pr_probe, dtype=np.int32),
            pr_answer=np.asarray(pr_answer, dtype=np.int16), pr_sent=np.asarray(pr_sent, dtype=np.int32)))
        return state

    def _support(self, doc) -> list[tuple[int, int, int]]:
        """(probe index, answer index, sentences) for every answer the document supports, by the
        probes measure's own rules (one-document run of the measure)."""
        pm = self.probes_measure
        st = pm.accumulate(pm.empty(), Batch([doc]))
        out = []
        for pid, row in st.counts.items():
            for ai, (d, s, _p) in enumerate(row):
                if d:
                    out.append((self._probe_index[pid], ai, s))
        out.sort()
        return out
