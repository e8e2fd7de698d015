"""Exact and near duplicates: how much of the corpus is a copy, or almost a copy, of another part.

Exact duplicates share :func:`curadebt.text.normalize.exact_key` (NFC, stripped, whitespace runs
collapsed; case kept). Near duplicates are found with MinHash + LSH over word shingles (the default
word tokenizer's tokens, case kept; see :mod:`curadebt.measures.minhash`): candidate pairs that share
an LSH bucket are kept only when their estimated Jaccard (share of equal signature slots) is at
least ``threshold``; near clusters are the connected components of the kept pairs. Only one
document per exact cluster (its representative) takes part in the near search, so an exact copy is
counted once, as exact. In every cluster the representative is the document with the lowest
ordinal (the one seen first in training order).

Defaults, chosen by measurement (tests/measures/test_duplicates.py, bench/neardup.py)
---------------------------------------------------------------------------
``shingle_size=3, threshold=0.5, num_perm=128, bands=32 (rows=4)``.

The target is a copy of a real paragraph with up to 10% of its words replaced, inserted or deleted.
Each edit breaks up to ``k`` shingles, so the Jaccard similarity of the shingle sets falls fast with
``k``: on WikiText-2 paragraphs of >= 50 words with exactly 10% edits, the 5th/50th percentiles of
the true Jaccard are 0.39/0.46 for k=5, 0.47/0.53 for k=4, 0.58/0.62 for k=3 and 0.70/0.73 for k=2.
With k=5 the threshold would have to drop to ~0.3 and the LSH S-curve with it (many more candidate
pairs); k=3 keeps the targets above ~0.55 while unrelated paragraphs stay below 0.02 (99.9th
percentile), so a threshold of 0.5 sits about two standard deviations of the 128-slot estimate
(``sqrt(J(1-J)/128) ~ 0.044``) below the targets, and pairs below 0.45 rarely pass verification.

LSH must then make almost every pair above 0.55 a candidate while keeping unrelated pairs out. The
S-curve ``P(candidate | s) = 1 - (1 - s**r)**b`` with ``b=32, r=4`` gives 0.87 at s=0.5, 0.95 at
0.55, 0.99 at 0.6, but 0.05 at s=0.2 and 0.003 at s=0.1 (its steepest point is near
``(1/b)**(1/r) = 0.42``, below the threshold, as it must be for recall); ``b=16, r=8`` would make
only 13% of the pairs at 0.55 candidates and ``b=64, r=2`` would make 93% of the pairs at s=0.2
candidates. num_perm=256 with b=64 finds a few more pairs at exactly 10% edits but halves speed.

Measured on WikiText-2 (2,938 paragraphs of >= 50 words; tests/measures/test_duplicates.py), seeds 0-9,
300 planted copies with 0-10% word edits plus 200 distractors with 15-40% edits: recall 0.993-1.000
(mean 0.998); reported pairs with true Jaccard >= threshold - 0.05: 98.7-100% (mean 99.5%). With
exactly 10% edits (seeds 0-4): recall 0.977-0.993. bench/neardup.py (100 MB, same parameters, a
shared 2-core machine): 7.4k docs/s in one process, 11.6x the docs/s of datasketch MinHash +
MinHashLSH (11.3x in CPU time) and 2.0x rensa's, with a fifth of their peak memory (README, Performance).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import xxhash

from curadebt.core.ids import Ids
from curadebt.core.measure import Measure
from curadebt.measures.dupclusters import (KIND_EXACT, KIND_NAMES, KIND_NEAR, KIND_REPRESENTATIVE,  # noqa: F401
                                          KIND_UNIQUE, ClusterAssignments, DuplicateCluster, cluster_state,
                                          size_distribution)
from curadebt.measures.minhash import BUCKET_WINDOW, MinHasher
from curadebt.measures.ngramcount import ragged_gather
from curadebt.corpus.batch import Batch
from curadebt.text.normalize import exact_key  # noqa: F401  (the definition _exact_key must equal)
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import FollowupContext, MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

#: signatures a state keeps in memory before :meth:`DuplicatesMeasure.spill` moves them to the
#: engine's store (about 65k documents of 128 slots, a block of the staged grouping)
SPILL_BYTES = 32 << 20
DEFAULT_NUM_PERM = 128
DEFAULT_BANDS = 32
DEFAULT_SHINGLE_SIZE = 3
DEFAULT_THRESHOLD = 0.5
LARGEST_CLUSTERS = 10


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------

@dataclass
class DuplicatesParams:
    num_perm: int
    bands: int
    rows: int
    shingle_size: int
    threshold: float
    seed: int


@dataclass
class DuplicatesResult:
    documents: int
    exact_duplicate_documents: int
    exact_clusters: int
    near_duplicate_documents: int
    near_clusters: int
    duplicate_share: float
    cluster_size_distribution: dict[str, dict[str, int]]
    largest_clusters: list[DuplicateCluster]
    params: DuplicatesParams
    candidate_pairs: int
    verified_pairs: int

    @property
    def assignments(self) -> ClusterAssignments | None:
        """Per-document assignments (an attribute, not a dataclass field: kept out of report.json)."""
        return self.__dict__.get("_assignments")


# ---------------------------------------------------------------------------------------------
# state
# ---------------------------------------------------------------------------------------------

@dataclass
class DuplicatesState:
    """Per-document arrays, kept as a list of chunks (merge = concatenation; finalize sorts by
    ordinal, so neither batch split nor merge order changes the result)."""

    ordinals: list[np.ndarray] = field(default_factory=list)    # int64
    keys: list[np.ndarray] = field(default_factory=list)        # uint64 exact keys
    has_shingles: list[np.ndarray] = field(default_factory=list)  # bool
    signatures: list = field(default_factory=list)              # (n, num_perm) uint32, or a ref in a store
    ids: list[Ids] = field(default_factory=list)

    def first_held(self) -> int:
        """The first of the chunks at the end whose signatures are in memory (not yet in a store)."""
        k = len(self.signatures)
        while k and isinstance(self.signatures[k - 1], np.ndarray):
            k -= 1
        return k

    def __len__(self) -> int:
        return sum(len(o) for o in self.ordinals)


def _exact_key(text: str) -> int:
    """Same value as :func:`curadebt.text.normalize.exact_key`, about twice as fast: ``str.split()``
    and ``str.strip()`` use the same whitespace definition as the regex ``\\s`` (``str.isspace``), so
    joining the split words with one space equals stripping and collapsing whitespace runs
    (checked character by character in tests/measures/test_duplicates.py)."""
    return xxhash.xxh3_64_intdigest(" ".join(unicodedata.normalize("NFC", text).split()).encode("utf-8", "surrogatepass"))


def _token_hashes(batch: Batch, rows) -> tuple[np.ndarray, np.ndarray]:
    """xxh3 hashes of the default word tokens of ``batch.docs[rows]`` (all docs when ``rows`` is None):
    near duplicates are judged on word shingles whatever tokenizer the batch uses for other measures.
    Read off the batch's shared word spans (:attr:`Batch.words`, no Python object per token; the
    same hashes as ``hash_tokens([word_tokenize(text) ...])``, see :mod:`curadebt.text.wordhash`)."""
    words = batch.words
    if rows is None:
        return words.hashes, words.offsets
    starts = words.offsets[rows]
    lengths = words.offsets[np.asarray(rows) + 1] - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return ragged_gather(words.hashes, starts, lengths), offsets


class DuplicatesMeasure(Measure[DuplicatesState, DuplicatesResult]):
    """Exact and near duplicates. See the module docstring for the algorithm and the defaults."""

    name = "duplicates"

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, bands: int = DEFAULT_BANDS,
                 shingle_size: int = DEFAULT_SHINGLE_SIZE, threshold: float = DEFAULT_THRESHOLD,
                 seed: int = 0, largest: int = LARGEST_CLUSTERS, bucket_window: int = BUCKET_WINDOW):
        if bands < 1 or num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a positive multiple of bands ({bands})")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.params = DuplicatesParams(num_perm=num_perm, bands=bands, rows=num_perm // bands,
                                       shingle_size=shingle_size, threshold=float(threshold), seed=int(seed))
        self.hasher = MinHasher(num_perm, shingle_size, seed)
        self.largest = largest
        self.bucket_window = bucket_window

    # -- map / merge -------------------------------------------------------------------------

    def empty(self) -> DuplicatesState:
        return DuplicatesState()

    def map(self, batch: Batch) -> DuplicatesState:
        return self.accumulate(DuplicatesState(), batch)

    def accumulate(self, state: DuplicatesState, batch: Batch) -> DuplicatesState:
        docs = batch.docs
        if not docs:
            return state
        ordinals = np.fromiter((d.ordinal for d in docs), dtype=np.int64, count=len(docs))
        keys = np.fromiter((_exact_key(d.text) for d in docs), dtype=np.uint64, count=len(docs))
        # texts repeated inside the batch: sign the first copy only (only the first copy of a text
        # is ever used by finalize: it alone can be the representative of its exact cluster)
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        repeated = len(uniq) < len(keys)
        hashes, offsets = _token_hashes(batch, first if repeated else None)
        sig = self.hasher.signatures_from_hashes(hashes, offsets)
        has = np.diff(offsets) > 0
        if repeated:
            sig, has = sig[inverse], has[inverse]
        state.ordinals.append(ordinals)
        state.keys.append(keys)
        state.has_shingles.append(has)
        state.signatures.append(sig)
        state.ids.append(Ids.of(d.id for d in docs))
        return state

    def spill(self, state: DuplicatesState, put) -> DuplicatesState:
        """Past :data:`SPILL_BYTES` of signatures in memory, they go to the engine's store as one
        block (with their per-document arrays made one chunk, so chunks and blocks stay aligned)."""
        if sum(s.nbytes for s in state.signatures[state.first_held():]) < SPILL_BYTES:
            return state
        return self.detach(state, put)

    def detach(self, state: DuplicatesState, put) -> DuplicatesState:
        """On an engine: the worker's signatures (512 bytes a document) stay in the engine's
        store; only their ref travels, with the small per-document arrays."""
        k = state.first_held()
        if k == len(state.signatures):
            return state
        return DuplicatesState(state.ordinals[:k] + [np.concatenate(state.ordinals[k:])],
                               state.keys[:k] + [np.concatenate(state.keys[k:])],
                               state.has_shingles[:k] + [np.concatenate(state.has_shingles[k:])],
                               state.signatures[:k] + [put(np.concatenate(state.signatures[k:]))],
                               state.ids[:k] + [Ids.concat(state.ids[k:])])

    def merge(self, a: DuplicatesState, b: DuplicatesState) -> DuplicatesState:
        return DuplicatesState(a.ordinals + b.ordinals, a.keys + b.keys, a.has_shingles + b.has_shingles,
                               a.signatures + b.signatures, a.ids + b.ids)

    # -- finalize ----------------------------------------------------------------------------

    def finalize(self, state: DuplicatesState) -> DuplicatesResult:
        return self.finalize_on(state, None)

    def finalize_on(self, state: DuplicatesState, executor) -> DuplicatesResult:
        """With an executor, the LSH grouping, verification and connected components run as its
        tasks (:mod:`curadebt.measures.lsh`); the result is the same."""
        result, assignments = self.cluster(state, executor)
        result.__dict__["_assignments"] = assignments
        return result

    def cluster_assignments(self, state: DuplicatesState) -> ClusterAssignments:
        return self.cluster(state)[1]

    def cluster(self, state: DuplicatesState, executor=None) -> tuple[DuplicatesResult, ClusterAssignments]:
        """Exact groups and near components of everything the state holds (:mod:`dupclusters`)."""
        p = self.params
        c = cluster_state(state, p.num_perm, p.bands, p.threshold, p.seed, self.bucket_window, self.largest, executor)
        n = len(c.assignments)
        res = DuplicatesResult(
            documents=n,
            exact_duplicate_documents=c.exact_docs,
            exact_clusters=int(len(c.exact_sizes)),
            near_duplicate_documents=c.near_docs,
            near_clusters=int(len(c.near_sizes)),
            duplicate_share=(c.exact_docs + c.near_docs) / n if n else 0.0,
            cluster_size_distribution={"exact": size_distribution(c.exact_sizes),
                                       "near": size_distribution(c.near_sizes)},
            largest_clusters=c.largest,
            params=DuplicatesParams(**vars(p)),
            candidate_pairs=int(c.candidate_pairs),
            verified_pairs=int(c.verified_pairs),
        )
        return res, c.assignments


def find_duplicates(texts, ids=None, **params) -> DuplicatesResult:
    """Convenience: run the measure on a list of texts (one batch); ``params`` as for the measure."""
    from curadebt.core.document import Document

    texts = list(texts)
    ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
    m = DuplicatesMeasure(**params)
    batch = Batch([Document(id=i, text=t, ordinal=n) for n, (i, t) in enumerate(zip(ids, texts))])
    return m.finalize(m.map(batch))


__all__ = ["DuplicatesMeasure", "DuplicatesResult", "DuplicatesState", "DuplicatesParams", "DuplicateCluster",
           "ClusterAssignments", "find_duplicates", "KIND_UNIQUE", "KIND_REPRESENTATIVE",
           "KIND_EXACT", "KIND_NEAR", "KIND_NAMES", "DEFAULT_NUM_PERM", "DEFAULT_BANDS",
           "DEFAULT_SHINGLE_SIZE", "DEFAULT_THRESHOLD"]


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def score_duplicates(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    exact = int(sec.get("exact_duplicate_documents") or 0)
    near = int(sec.get("near_duplicate_documents") or 0)
    share = sk.number(sec.get("duplicate_share"))
    if share is None:
        docs = sk.number((report.get("corpus") or {}).get("documents_audited"))
        if not docs:
            return sk.not_measured("no duplicate_share and no document count", t.duplicate_share), []
        share = (exact + near) / docs
    crit = sk.Criterion("duplicate_share", share, t.duplicate_share, "share")
    ec, nc = int(sec.get("exact_clusters") or 0), int(sec.get("near_clusters") or 0)
    summary = (f"{sk.pct(share)} of documents are copies: {exact} exact in {ec} clusters, "
               f"{near} near in {nc} clusters")
    dim = sk.dimension([crit], summary)
    findings: list[dict] = []
    if crit.score >= sk.LOW:
        largest = (sec.get("largest_clusters") or [None])[0]
        subject = "corpus"
        msg = f"{sk.pct(share)} of documents are duplicates ({exact} exact copies in {ec} clusters, {near} near copies in {nc} clusters)"
        if isinstance(largest, dict) and largest.get("representative"):
            subject = str(largest["representative"])
            msg += (f"; largest: {largest.get('kind', '?')} cluster of {largest.get('size', '?')} documents "
                    f"around '{subject}'")
        findings.append(sk.finding("duplicates", crit.score, msg, subject, value=share, threshold=t.duplicate_share))
    return dim, findings


def render_duplicates(sec: dict, ctx: hk.RenderContext) -> str:
    out = [hk.tiles(([("documents", hk.num(sec.get("documents")))] if sec.get("documents") is not None else []) + [
        ("exact duplicate documents", hk.num(sec.get("exact_duplicate_documents"))),
        ("exact clusters", hk.num(sec.get("exact_clusters"))),
        ("near-duplicate documents", hk.num(sec.get("near_duplicate_documents"))),
        ("near clusters", hk.num(sec.get("near_clusters"))),
        ("duplicate share", hk.pct(sec.get("duplicate_share"))),
    ])]
    dist = hk.as_dict(sec.get("cluster_size_distribution"))
    if dist:
        out.append(ctx.plot(lambda: plots.cluster_size_svg({str(k): hk.as_dict(v) for k, v in dist.items()}),
                            "Duplicate clusters per size bucket, exact versus near (log scale when counts are large)."))
    clusters = [c for c in hk.as_list(sec.get("largest_clusters")) if isinstance(c, dict)]
    out.append("<h3>Largest clusters</h3>")
    if clusters:
        rows = []
        for c in clusters[:hk.MAX_ROWS]:
            ids = hk.as_list(c.get("example_ids"))
            shown = ", ".join(f"<code>{hk.esc(i)}</code>" for i in ids[:hk.MAX_EXAMPLE_IDS])
            if len(ids) > hk.MAX_EXAMPLE_IDS:
                shown += f" (+{len(ids) - hk.MAX_EXAMPLE_IDS:,} more)"
            rows.append([c.get("kind"), hk.cell(c.get("size")), hk.code(c.get("representative")), c.get("preview") or "",
                         hk.Trusted(shown)])
        out.append(hk.table(["kind", "size", "representative", "text", "example ids"], rows, total=len(clusters)))
    else:
        out.append('<p class="note">no duplicate clusters</p>')
    params = hk.as_dict(sec.get("params"))
    extra = [(k, sec.get(k)) for k in ("candidate_pairs", "verified_pairs") if sec.get(k) is not None]
    if params or extra:
        kv = [(k, hk.cell(v)) for k, v in list(params.items()) + extra]
        out.append("<details><summary>Near-duplicate parameters</summary>" + hk.table(["parameter", "value"], kv)
                   + "</details>")
    return "".join(out)


#: characters of a cluster representative's text shown in the report
PREVIEW_CHARS = 160


def fill_previews(ctx: FollowupContext, result: DuplicatesResult) -> None:
    """The start of each largest cluster's representative text, read from the corpus as far as the
    last of them (the pass keeps no text)."""
    from curadebt.corpus.quarantine import Quarantine
    from curadebt.corpus.readers import ReadStats, iter_documents

    wanted = {c.representative_ordinal: c for c in result.largest_clusters}
    if not wanted:
        return
    last = max(wanted)
    for doc in iter_documents(ctx.paths, ctx.config.reader, Quarantine(), ReadStats()):
        c = wanted.get(doc.ordinal)
        if c is not None:
            c.preview = " ".join(doc.text[:PREVIEW_CHARS * 2].split())[:PREVIEW_CHARS]
        if doc.ordinal >= last:
            break


def _build(cfg) -> DuplicatesMeasure:
    params = {k: getattr(cfg, k) for k in ("num_perm", "bands", "shingle_size", "threshold") if getattr(cfg, k) is not None}
    return DuplicatesMeasure(seed=cfg.seed, **params)


register(MeasureSpec(name="duplicates", title="Duplicates", position=20, debt_position=10, build=_build,
                     complete=fill_previews, score=score_duplicates, render=render_duplicates))
