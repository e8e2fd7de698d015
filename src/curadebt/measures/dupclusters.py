"""From a duplicates state to clusters: exact groups (same normalised text), near components
(MinHash-LSH over the exact representatives, see :mod:`curadebt.measures.minhash`), each document's
assignment, and the largest clusters for the report. In every cluster the representative is the
lowest ordinal. Used by :class:`curadebt.measures.duplicates.DuplicatesMeasure`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from curadebt.core.ids import Ids

from curadebt.measures.lsh import ONE_TASK_BYTES, best_matches, gather_blocks, lsh_cluster_on, lsh_one_task
from curadebt.measures.minhash import lsh_cluster

EXAMPLE_IDS = 5

KIND_UNIQUE = 0          # in no cluster
KIND_REPRESENTATIVE = 1  # kept: the lowest ordinal of its (exact and/or near) cluster
KIND_EXACT = 2           # an exact copy of an earlier document (``exact_of``)
KIND_NEAR = 3            # a near duplicate of an earlier document (``representative``)
KIND_NAMES = ("unique", "representative", "exact", "near")


@dataclass
class DuplicateCluster:
    kind: str                 # "exact" or "near"
    size: int                 # exact: documents; near: distinct texts (exact copies are counted under exact)
    representative: str       # id of the lowest-ordinal member
    representative_ordinal: int
    example_ids: list[str]    # up to 5 other members, in ordinal order
    preview: str = ""         # the start of the representative's text (filled in by the audit's second pass)


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
    ids: Ids
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
class Clusters:
    """What clustering found, before it becomes the report section."""

    assignments: ClusterAssignments
    exact_sizes: np.ndarray          # sizes of the exact clusters (>= 2)
    near_sizes: np.ndarray           # sizes of the near components (>= 2 distinct texts)
    exact_docs: int                  # exact copies (beyond each cluster's first)
    near_docs: int                   # near duplicates (beyond each component's representative)
    largest: list[DuplicateCluster]
    candidate_pairs: int
    verified_pairs: int


@dataclass
class _Rows:
    """The state's documents sorted by ordinal, and their exact groups."""

    order: np.ndarray                # sorted row -> position in the state's concatenation
    ordinals: np.ndarray
    ids: Ids
    has_shingles: np.ndarray
    first: np.ndarray                # per distinct key: its first row
    counts: np.ndarray               # per distinct key: its rows
    inverse: np.ndarray              # per row: its key's index
    exact_rep: np.ndarray            # per row: the first row with its key
    is_copy: np.ndarray


def _rows(state: Any) -> _Rows:
    ordinals = np.concatenate(state.ordinals) if state.ordinals else np.empty(0, dtype=np.int64)
    n = len(ordinals)
    keys = np.concatenate(state.keys) if n else np.empty(0, dtype=np.uint64)
    has = np.concatenate(state.has_shingles) if n else np.empty(0, dtype=bool)
    ids_all = Ids.concat(state.ids) if state.ids else Ids()
    order = np.lexsort((keys, ordinals))  # by ordinal (keys only break ties of malformed input)
    ordinals, keys, has = ordinals[order], keys[order], has[order]
    # exact: the first row (lowest ordinal) with each key represents it
    _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    exact_rep = first[inverse] if n else np.arange(n, dtype=np.int64)
    return _Rows(order=order, ordinals=ordinals, ids=ids_all.take(order), has_shingles=has, first=first,
                 counts=counts, inverse=inverse, exact_rep=exact_rep, is_copy=exact_rep != np.arange(n))


@dataclass
class _Near:
    root: np.ndarray                 # per row: its near component's root row (itself when alone)
    in_near: np.ndarray              # per row: in a component of >= 2
    multi: np.ndarray                # roots of the components of >= 2
    sizes: np.ndarray
    best_similarity: np.ndarray
    best_partner: np.ndarray         # ordinals
    pair_ordinals: np.ndarray | None
    pair_similarity: np.ndarray | None
    candidate_pairs: int
    verified_pairs: int


def _near(state: Any, r: _Rows, num_perm: int, bands: int, threshold: float, seed: int, bucket_window: int,
          executor: Any) -> _Near:
    """LSH over the exact representatives that have shingles, in this process or on an engine."""
    n = len(r.ordinals)
    cand = np.flatnonzero(~r.is_copy & r.has_shingles)
    best_sim = np.full(n, np.nan)
    best_partner = np.full(n, -1, dtype=np.int64)
    pair_ords: np.ndarray | None = np.empty((0, 2), dtype=np.int64)
    pair_sim: np.ndarray | None = np.empty(0)
    n_candidates = n_verified = 0
    root_c = cand
    in_memory = all(isinstance(s, np.ndarray) for s in state.signatures)
    if len(cand) >= 2 and in_memory:
        lsh = lsh_cluster(_signatures(state, r.order, cand), bands, threshold, seed, bucket_window)
        n_candidates, n_verified = lsh.candidate_pairs, len(lsh.verified_pairs)
        pair_ords, pair_sim = r.ordinals[cand[lsh.verified_pairs]], lsh.estimates
        sim_c, partner_c = best_matches(len(cand), lsh.verified_pairs, lsh.estimates)
        root_c = cand[lsh.roots]
    elif len(cand) >= 2:
        if executor is None:
            raise RuntimeError("the signatures are in an engine's store (detached): finalize with "
                               "finalize_on(state, executor) of that engine")
        if len(cand) * num_perm * 4 <= ONE_TASK_BYTES:
            chunks, chunk_rows = _candidate_chunks(state, r.order, cand)
            lsh = lsh_one_task(executor, chunks, chunk_rows, len(cand), num_perm, bands, threshold, seed,
                               bucket_window)
        else:
            blocks, starts = _signature_blocks(executor, state, r.order, cand, num_perm)
            lsh = lsh_cluster_on(executor, blocks, starts, bands, threshold, seed, bucket_window)
            executor.free(blocks)
        n_candidates, n_verified = lsh.candidate_pairs, lsh.verified_pairs
        pair_ords = pair_sim = None  # not collected on one machine
        sim_c, partner_c = lsh.best_similarity, lsh.best_partner
        root_c = cand[lsh.roots]
    if len(cand) >= 2:
        best_sim[cand] = sim_c
        best_partner[cand] = np.where(partner_c >= 0, r.ordinals[cand[np.maximum(partner_c, 0)]], -1)
    root = np.arange(n, dtype=np.int64)
    root[cand] = root_c
    comp_roots, comp_sizes = np.unique(root_c, return_counts=True)
    multi = comp_roots[comp_sizes >= 2]
    in_near = np.zeros(n, dtype=bool)
    in_near[cand] = np.isin(root_c, multi)
    return _Near(root=root, in_near=in_near, multi=multi, sizes=comp_sizes[comp_sizes >= 2],
                 best_similarity=best_sim, best_partner=best_partner, pair_ordinals=pair_ords,
                 pair_similarity=pair_sim, candidate_pairs=n_candidates, verified_pairs=n_verified)


def cluster_state(state: Any, num_perm: int, bands: int, threshold: float, seed: int, bucket_window: int,
                  largest: int, executor: Any = None) -> Clusters:
    """Cluster every document a duplicates state holds (``executor``: an engine's, when the
    signatures are spread over its workers)."""
    r = _rows(state)
    near = _near(state, r, num_perm, bands, threshold, seed, bucket_window, executor)
    n = len(r.ordinals)
    rows = np.arange(n, dtype=np.int64)
    representative = near.root[r.exact_rep]
    kind = np.full(n, KIND_UNIQUE, dtype=np.int8)
    in_exact = r.counts[r.inverse] >= 2 if n else np.zeros(0, dtype=bool)
    clustered = in_exact | near.in_near[r.exact_rep]
    kind[clustered] = KIND_REPRESENTATIVE
    kind[near.in_near & (near.root != rows)] = KIND_NEAR
    kind[r.is_copy] = KIND_EXACT
    assignments = ClusterAssignments(ordinals=r.ordinals, ids=r.ids, representative=r.ordinals[representative],
                                     exact_of=r.ordinals[r.exact_rep], kind=kind,
                                     cluster=np.where(clustered, r.ordinals[representative], -1),
                                     pairs=near.pair_ordinals, pair_similarity=near.pair_similarity,
                                     best_similarity=near.best_similarity, best_partner=near.best_partner)
    exact_sizes = r.counts[r.counts >= 2]
    return Clusters(assignments=assignments, exact_sizes=exact_sizes, near_sizes=near.sizes,
                    exact_docs=int(r.is_copy.sum()), near_docs=int(near.sizes.sum() - len(near.sizes)),
                    largest=_largest(r, near, exact_sizes, largest), candidate_pairs=near.candidate_pairs,
                    verified_pairs=near.verified_pairs)


def _candidate_chunks(state: Any, order: np.ndarray, cand: np.ndarray) -> tuple[list, list[np.ndarray]]:
    """The state's signature chunks (arrays, or refs left in the engine's store by ``detach``) and,
    per chunk, the candidate row of each of its rows (-1: not a candidate)."""
    n = len(order)
    cand_row = np.full(n, -1, dtype=np.int64)   # sorted row -> candidate row
    cand_row[cand] = np.arange(len(cand), dtype=np.int64)
    sorted_of = np.empty(n, dtype=np.int64)     # concatenation position -> sorted row
    sorted_of[order] = np.arange(n, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum([len(o) for o in state.ordinals])]).astype(np.int64)
    return state.signatures, [cand_row[sorted_of[bounds[c]:bounds[c + 1]]] for c in range(len(state.ordinals))]


def _signature_blocks(executor, state: Any, order: np.ndarray, cand: np.ndarray, num_perm: int):
    """Signature blocks of the candidate rows, gathered by the executor from the state's chunks."""
    chunks, chunk_rows = _candidate_chunks(state, order, cand)
    return gather_blocks(executor, chunks, chunk_rows, len(cand), num_perm)


def _signatures(state: Any, order: np.ndarray, rows: np.ndarray) -> np.ndarray:
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


def _largest(r: _Rows, near: _Near, exact_sizes: np.ndarray, k: int) -> list[DuplicateCluster]:
    if k <= 0:
        return []
    ordinals, ids = r.ordinals, r.ids
    # (-size, kind, representative ordinal) picks the top k without materialising every cluster
    cands = [(-int(s), "exact", int(root)) for s, root in _top(exact_sizes, r.first[r.counts >= 2], k)]
    cands += [(-int(s), "near", int(root)) for s, root in _top(near.sizes, near.multi, k)]
    cands.sort(key=lambda t: (t[0], ordinals[t[2]], t[1]))
    out = []
    for neg, kind, root in cands[:k]:
        if kind == "exact":
            members = np.flatnonzero(r.is_copy & (r.exact_rep == root))
        else:
            members = np.flatnonzero(near.in_near & (near.root == root) & (np.arange(len(ordinals)) != root))
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


def size_distribution(sizes: np.ndarray) -> dict[str, int]:
    if len(sizes) == 0:
        return {}
    u, c = np.unique(sizes, return_counts=True)
    return {str(int(s)): int(n) for s, n in zip(u, c)}


