"""The tail guard in dedup: a near copy that is the only place a name lives is kept; short texts are
left to exact dedup; the lab's fact worlds keep every fact after the default recipe."""
from __future__ import annotations

import json
import random

import pytest
from pathlib import Path

import pyarrow.parquet as pq

from curadebt.curation import recipe as R
from curadebt.curation.ops.dedup import ExactDedup, NearDedup
from curadebt.curation.runner import curate

FILLER = ("The committee met on a grey morning and the minutes record a long discussion of the budget, the "
          "roads, the school buildings and the water supply, with every member asked to speak in turn before "
          "the vote was taken and the meeting closed shortly after noon.")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_near_copies_that_hold_the_last_copy_of_a_name_are_kept(tmp_path):
    rows = [{"id": "ana", "text": f"Ana Lind was born in Graz. {FILLER}"},
            {"id": "ben", "text": f"Ben Okoro was born in Kumasi. {FILLER}"},
            {"id": "ana2", "text": f"Ana Lind was born in Graz. {FILLER.replace('grey', 'wet')}"}]
    rng = random.Random(1)
    rows += [{"id": f"f{i}", "text": " ".join(rng.choice(FILLER.split()) for _ in range(40))} for i in range(30)]
    res = curate(_write(tmp_path / "c.jsonl", rows), tmp_path / "out", R.Recipe(ops=[NearDedup(threshold=0.5)]))
    led = {r["id"]: r for r in pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()}
    assert led["ana"]["decision"] == "kept" and led["ben"]["decision"] == "kept"
    why = " ".join(h["reason"] for h in led["ben"]["history"])
    assert "tail guard" in why and "duplicate of ana" in why
    assert led["ana2"]["decision"] == "dropped"  # a near copy holding nothing new goes
    d = res.operations[0].details
    assert d["kept_back_by_tail_guard"] == 1 and d["dropped"] == 1


def test_short_documents_are_left_to_exact_dedup(tmp_path):
    rows = [{"id": f"s{i}", "text": f"Thanks for reading, see you soon {i}."} for i in range(20)]
    rows += [{"id": "x", "text": "Thanks for reading, see you soon 0."}]
    res = curate(_write(tmp_path / "c.jsonl", rows), tmp_path / "out",
                 R.Recipe(ops=[ExactDedup(), NearDedup(threshold=0.3)]))
    assert res.operations[0].dropped == 1  # the exact copy
    assert res.operations[1].dropped == 0 and res.operations[1].details.get("min_tokens", 20) == 20
    res = curate(_write(tmp_path / "c.jsonl", rows), tmp_path / "out2",
                 R.Recipe(ops=[NearDedup(threshold=0.3, min_tokens=0)]))
    assert res.operations[0].dropped > 1  # min_tokens 0: the template sentences are near copies


@pytest.mark.slow
def test_lab_fact_world_keeps_every_fact_after_the_default_recipe(tmp_path):
    """On the lab's Zipf world (most facts in one or two documents) the default recipe drops
    duplicates, never the last document of a fact."""
    from curadebt.lab.cvc_arms import curate_texts, fact_counts
    from curadebt.worlds.zipf import ZipfWorldConfig, generate_zipf

    for seed in (0, 1):
        world = generate_zipf(ZipfWorldConfig(seed=seed, facts=400, top=128, heldout_filler=0))
        texts, info = curate_texts(world, tmp_path / f"s{seed}", "default", None)
        assert len(texts) < len(world.docs)  # it did drop copies
        lost = [f.person for f, n in zip(world.facts, fact_counts(texts, world)) if n == 0]
        assert not lost, f"seed {seed}: facts that lost every document: {lost[:5]}"
