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
from typing import Any, Iterator

import numpy as np
import xxhash

from curadebt.core.measure import Measure
from curadebt.measures.lsh import best_matches, gather_blocks, lsh_cluster_on
from curadebt.measures.minhash import BUCKET_WINDOW, MinHasher, lsh_cluster
from curadebt.measures.ngramcount import ragged_gather
from curadebt.corpus.batch import Batch
from curadebt.text.normalize import exact_key  # noqa: F401  (the definition _exact_key must equal)
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

DEFAULT_NUM_PERM = 128
DEFAULT_BANDS = 32
DEFAULT_SHINGLE_SIZE = 3
DEFAULT_THRESHOLD = 0.5
LARGEST_CLUSTERS = 10
EXAMPLE_IDS = 5

KIND_UNIQUE = 0          # in no cluster
KIND_REPRESENTATIVE = 1  # kept: the lowest ordinal of its (exact and/or near) cluster
KIND_EXACT = 2           # an exact copy of an earlier document (``exact_of``)
KIND_NEAR = 3            # a near duplicate of an earlier document (``representative``)
KIND_NAMES = ("unique", "representative", "exact", "near")


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------

@dataclass
class DuplicateCluster:
    kind: str                 # "exact" or "near"
    size: int                 # exact: documents; near: distinct texts (exact copies are counted under exact)
    representative: str       # id of the lowest-ordinal member
    representative_ordinal: int
    example_ids: list[str]    # up to 5 other members, in ordinal order
    preview: str = ""         # the start of the representative's text (filled in by the audit's second pass)


@dataclass
class DuplicatesParams:
    num_perm: int
    bands: int
    rows: int
    shingle_size: int
    threshold: float
    seed: int


@dataclass
class ClusterAssignments:
    """Per-document cluster membership, in ordinal order (for the curate step; not in report.json).

    ``representative[i]``: ordinal of the document kept for document i's cluster (its own ordinal
    when it is unique or the representative); ``exact_of[i]``: ordinal of the first exact copy
    of its text (its own when it is not an exact copy); ``kind[i]``: one of the ``KIND_*`` codes;
    ``cluster[i]``: the cluster id (= the representative's ordinal), -1 for unique documents.
    ``pairs`` are the verified near-duplicate pairs (ordinals, lower first) with their estimated
    Jaccard in ``pair_similarity``; both are None when an engine found them (the pairs stay
    spread over its workers). ``best_similarity[i]`` / ``best_partner[i]``: the highest estimated
    Jaccard of a verified pair with document i and that pair's other ordinal (ties: the lowest),
    NaN / -1 where there is none (the same on every engine).
    An exact copy of a near duplicate has kind exact, ``exact_of`` its first copy, and
    ``representative`` the near cluster's representative.
    """

    ordinals: np.ndarray
    ids: list[str]
    representative: np.ndarray
    exact_of: np.ndarray
    kind: np.ndarray
    cluster: np.ndarray
    pairs: np.ndarray | None = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))  # verified near pairs
    pair_similarity: np.ndarray | None = field(default_factory=lambda: np.empty(0))            # their estimated Jaccard
    best_similarity: np.ndarray | None = None   # per document (see above)
    best_partner: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ordinals)

    def _row(self, ordinal: int) -> int:
        i = int(np.searchsorted(self.ordinals, ordinal))
        if i >= len(self.ordinals) or self.ordinals[i] != ordinal:
            raise KeyError(ordinal)
        return i

    def lookup(self, ordinal: int) -> dict[str, Any]:
        return self._record(self._row(ordinal))

    def _record(self, i: int) -> dict[str, Any]:
        return {"ordinal": int(self.ordinals[i]), "id": self.ids[i], "kind": KIND_NAMES[int(self.kind[i])],
                "cluster": int(self.cluster[i]), "representative": int(self.representative[i]),
                "exact_of": int(self.exact_of[i])}

    def records(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self.ordinals)):
            yield self._record(i)

    def duplicates(self) -> np.ndarray:
        """Ordinals of the documents a dedup step would drop (exact copies and near duplicates)."""
        return self.ordinals[self.kind >= KIND_EXACT]


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
    signatures: list[np.ndarray] = field(default_factory=list)  # (n, num_perm) uint32
    ids: list[list[str]] = field(default_factory=list)

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
        state.ids.append([d.id for d in docs])
        return state

    def detach(self, state: DuplicatesState, put) -> DuplicatesState:
        """On an engine: the worker's signatures (512 bytes a document) stay in the engine's
        store; only their ref travels, with the small per-document arrays."""
        if not state.ordinals or not all(isinstance(s, np.ndarray) for s in state.signatures):
            return state
        return DuplicatesState([np.concatenate(state.ordinals)], [np.concatenate(state.keys)],
                               [np.concatenate(state.has_shingles)], [put(np.concatenate(state.signatures))],
                               [[i for chunk in state.ids for i in chunk]])

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
        p = self.params
        ordinals = np.concatenate(state.ordinals) if state.ordinals else np.empty(0, dtype=np.int64)
        n = len(ordinals)
        keys = np.concatenate(state.keys) if n else np.empty(0, dtype=np.uint64)
        has = np.concatenate(state.has_shingles) if n else np.empty(0, dtype=bool)
        ids_all = [i for chunk in state.ids for i in chunk]
        order = np.lexsort((keys, ordinals))  # by ordinal (keys only break ties of malformed input)
        ordinals, keys, has = ordinals[order], keys[order], has[order]
        ids = [ids_all[i] for i in order]
        rows = np.arange(n, dtype=np.int64)

        # exact: the first row (lowest ordinal) with each key represents it
        _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
        exact_rep = first[inverse] if n else rows
        is_copy = exact_rep != rows

        # near: LSH over exact representatives that have shingles
        cand = np.flatnonzero(~is_copy & has)
        best_sim = np.full(n, np.nan)
        best_partner = np.full(n, -1, dtype=np.int64)
        pair_ords: np.ndarray | None = np.empty((0, 2), dtype=np.int64)
        pair_sim: np.ndarray | None = np.empty(0)
        if len(cand) >= 2 and executor is None:
            if not all(isinstance(s, np.ndarray) for s in state.signatures):
                raise RuntimeError("the signatures are in an engine's store (detached): finalize with "
                                   "finalize_on(state, executor) of that engine")
            sigs = self._signatures(state, order, cand)
            lsh = lsh_cluster(sigs, p.bands, p.threshold, p.seed, self.bucket_window)
            near_root_c = cand[lsh.roots]
            n_candidates, n_verified = lsh.candidate_pairs, len(lsh.verified_pairs)
            pair_ords, pair_sim = ordinals[cand[lsh.verified_pairs]], lsh.estimates
            sim_c, partner_c = best_matches(len(cand), lsh.verified_pairs, lsh.estimates)
        elif len(cand) >= 2:
            blocks, starts = self._signature_blocks(executor, state, order, cand)
            lsh = lsh_cluster_on(executor, blocks, starts, p.bands, p.threshold, p.seed, self.bucket_window)
            executor.free(blocks)
            near_root_c = cand[lsh.roots]
            n_candidates, n_verified = lsh.candidate_pairs, lsh.verified_pairs
            pair_ords = pair_sim = None  # not collected on one machine
            sim_c, partner_c = lsh.best_similarity, lsh.best_partner
        else:
            near_root_c = cand
            n_candidates = n_verified = 0
        if len(cand) >= 2:
            best_sim[cand] = sim_c
            best_partner[cand] = np.where(partner_c >= 0, ordinals[cand[np.maximum(partner_c, 0)]], -1)
        near_root = rows.copy()
        near_root[cand] = near_root_c
        comp_roots, comp_sizes = np.unique(near_root_c, return_counts=True)
        near_multi = comp_roots[comp_sizes >= 2]
        near_sizes = comp_sizes[comp_sizes >= 2]
        in_near = np.zeros(n, dtype=bool)
        in_near[cand] = np.isin(near_root_c, near_multi)

        # per-document assignments
        representative = near_root[exact_rep]
        kind = np.full(n, KIND_UNIQUE, dtype=np.int8)
        in_exact = counts[inverse] >= 2 if n else np.zeros(0, dtype=bool)
        clustered = in_exact | in_near[exact_rep]
        kind[clustered] = KIND_REPRESENTATIVE
        kind[in_near & (near_root != rows)] = KIND_NEAR
        kind[is_copy] = KIND_EXACT
        cluster = np.where(clustered, ordinals[representative], -1)
        assignments = ClusterAssignments(ordinals=ordinals, ids=ids, representative=ordinals[representative],
                                         exact_of=ordinals[exact_rep], kind=kind, cluster=cluster,
                                         pairs=pair_ords, pair_similarity=pair_sim,
                                         best_similarity=best_sim, best_partner=best_partner)

        # the report section
        exact_sizes = counts[counts >= 2]
        exact_docs = int(is_copy.sum())
        near_docs = int(near_sizes.sum() - len(near_sizes))
        dist = {"exact": _size_distribution(exact_sizes), "near": _size_distribution(near_sizes)}
        largest = self._largest(ordinals, ids, first[counts >= 2], exact_sizes, exact_rep, is_copy,
                                near_multi, near_sizes, near_root, in_near)
        res = DuplicatesResult(
            documents=n,
            exact_duplicate_documents=exact_docs,
            exact_clusters=int(len(exact_sizes)),
            near_duplicate_documents=near_docs,
            near_clusters=int(len(near_sizes)),
            duplicate_share=(exact_docs + near_docs) / n if n else 0.0,
            cluster_size_distribution=dist,
            largest_clusters=largest,
            params=DuplicatesParams(**vars(p)),
            candidate_pairs=int(n_candidates),
            verified_pairs=int(n_verified),
        )
        return res, assignments

    def _signature_blocks(self, executor, state: DuplicatesState, order: np.ndarray, cand: np.ndarray):
        """Signature blocks of the candidate rows, gathered by the executor from the state's chunks
        (arrays, or refs left in the engine's store by :meth:`detach`)."""
        n = len(order)
        cand_row = np.full(n, -1, dtype=np.int64)   # sorted row -> candidate row
        cand_row[cand] = np.arange(len(cand), dtype=np.int64)
        sorted_of = np.empty(n, dtype=np.int64)     # concatenation position -> sorted row
        sorted_of[order] = np.arange(n, dtype=np.int64)
        bounds = np.concatenate([[0], np.cumsum([len(o) for o in state.ordinals])]).astype(np.int64)
        chunk_rows = [cand_row[sorted_of[bounds[c]:bounds[c + 1]]] for c in range(len(state.ordinals))]
        return gather_blocks(executor, state.signatures, chunk_rows, len(cand), self.params.num_perm)

    @staticmethod
    def _signatures(state: DuplicatesState, order: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Signatures of the given sorted rows, without concatenating every chunk first."""
        src = order[rows]  # positions in concatenation order
        sizes = np.array([len(o) for o in state.ordinals], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        chunk = np.searchsorted(starts, src, side="right") - 1
        out = np.empty((len(rows), state.signatures[0].shape[1]), dtype=np.uint32)
        for c in np.unique(chunk):
            sel = np.flatnonzero(chunk == c)
            out[sel] = state.signatures[c][src[sel] - starts[c]]
        return out

    def _largest(self, ordinals, ids, exact_first, exact_sizes, exact_rep, is_copy,
                 near_multi, near_sizes, near_root, in_near) -> list[DuplicateCluster]:
        k = self.largest
        if k <= 0:
            return []
        # (-size, kind, representative ordinal) picks the top k without materialising every cluster
        cands = [(-int(s), "exact", int(r)) for s, r in _top(exact_sizes, exact_first, k)]
        cands += [(-int(s), "near", int(r)) for s, r in _top(near_sizes, near_multi, k)]
        cands.sort(key=lambda t: (t[0], ordinals[t[2]], t[1]))
        out = []
        for neg, kind, root in cands[:k]:
            if kind == "exact":
                members = np.flatnonzero(is_copy & (exact_rep == root))
            else:
                members = np.flatnonzero(in_near & (near_root == root) & (np.arange(len(ordinals)) != root))
            out.append(DuplicateCluster(kind=kind, size=-neg, representative=ids[root],
                                        representative_ordinal=int(ordinals[root]),
                                        example_ids=[ids[i] for i in members[:EXAMPLE_IDS]]))
        return out


def _top(sizes: np.ndarray, roots: np.ndarray, k: int):
    """The k largest (size, root) pairs, ties by lower root row."""
    if len(sizes) == 0:
        return []
    idx = np.lexsort((roots, -sizes))[:k]
    return list(zip(sizes[idx].tolist(), roots[idx].tolist()))


def _size_distribution(sizes: np.ndarray) -> dict[str, int]:
    if len(sizes) == 0:
        return {}
    u, c = np.unique(sizes, return_counts=True)
    return {str(int(s)): int(n) for s, n in zip(u, c)}


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


def _build(cfg) -> DuplicatesMeasure:
    params = {k: getattr(cfg, k) for k in ("num_perm", "bands", "shingle_size", "threshold") if getattr(cfg, k) is not None}
    return DuplicatesMeasure(seed=cfg.seed, **params)


register(MeasureSpec(name="duplicates", title="Duplicates", position=20, debt_position=10, build=_build,
                     score=score_duplicates, render=render_duplicates))
