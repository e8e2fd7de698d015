"""The conflict world: each fact's early answer only in the early window, its late answer only in the late one."""
from __future__ import annotations

import pytest

from curadebt.worlds.conflict import ConflictWorldConfig, generate_conflict
from curadebt.worlds.facts import WorldError
from curadebt.worlds.zipf import CITIES, TRAIN_TEMPLATES, statement


def test_answers_sit_in_their_windows_n_times_each():
    cfg = ConflictWorldConfig(ns=(2, 6), facts_per_n=5, filler_docs=500, window=0.3)
    w = generate_conflict(cfg)
    n = len(w.docs)
    assert [f.n for f in w.facts] == [2] * 5 + [6] * 5
    for fi, f in enumerate(w.facts):
        assert f.early != f.late and {f.early, f.late} <= set(CITIES)
        for side, city, lo, hi in (("early", f.early, 0, int(0.3 * n)), ("late", f.late, n - int(0.3 * n), n)):
            pos = [i for i, d in enumerate(w.docs) if d["meta"].get("fact") == fi and d["meta"]["side"] == side]
            assert len(pos) == f.n and all(lo <= p < hi for p in pos)
            assert all(any(statement(t, f.person, city) in w.docs[p]["text"] for t in TRAIN_TEMPLATES) for p in pos)
        assert sum(f.person in t for t in w.texts()) == 2 * f.n
    # the cities are mirrored: early for some facts and late for others, not one side each
    early, late = {f.early for f in w.facts}, {f.late for f in w.facts}
    assert early & late


def test_same_seed_same_bytes(tmp_path):
    cfg = ConflictWorldConfig(ns=(2,), facts_per_n=4, filler_docs=100)
    assert generate_conflict(cfg).write(tmp_path / "a").read_bytes() == generate_conflict(cfg).write(tmp_path / "b").read_bytes()


def test_bad_window_is_a_clear_error():
    with pytest.raises(WorldError, match="window"):
        generate_conflict(ConflictWorldConfig(window=0.7))
