"""The order op's dominant entity (vectorised) against its per-document definition."""
import numpy as np

from curadebt.curation.ops.order import _dominant_entity


class _Table:
    def __init__(self, rng, n):
        sizes = rng.integers(0, 5, n)
        self.ent_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.ent_hash = rng.integers(1, 6, int(sizes.sum())).astype(np.uint64)   # small: many ties
        self.ent_cnt = rng.integers(1, 4, int(sizes.sum())).astype(np.uint32)


def _reference(table, ordinals):
    out = []
    for d in ordinals:
        a, b = table.ent_off[d], table.ent_off[d + 1]
        pairs = sorted(zip((-int(c) for c in table.ent_cnt[a:b]), (int(h) for h in table.ent_hash[a:b])))
        out.append(pairs[0][1] if pairs else 0)
    return out


def test_dominant_entity_is_the_most_mentioned_then_the_smallest_hash():
    rng = np.random.default_rng(4)
    table = _Table(rng, 500)
    ords = np.sort(rng.choice(500, 300, replace=False)).astype(np.int64)
    assert _dominant_entity(table, ords).tolist() == _reference(table, ords.tolist())
    assert _dominant_entity(table, np.empty(0, dtype=np.int64)).tolist() == []
