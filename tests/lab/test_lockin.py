"""lab lock-in: one pass per schedule, log odds against a never-seen name, resumable, same bytes."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from curadebt.lab.lockin import EXPERIMENT, LockinConfig, control_names  # noqa: E402
from curadebt.lab.scratch import TrainConfig  # noqa: E402
from curadebt.worlds.conflict import ConflictWorldConfig, generate_conflict  # noqa: E402


def tiny(**kw) -> LockinConfig:
    base = dict(seeds=(0,), schedules=("constant", "wsd"), world=ConflictWorldConfig(ns=(2, 8), facts_per_n=6, filler_docs=600),
                train=TrainConfig(size="xs", batch_size=16, vocab_size=1200))
    base.update(kw)
    return LockinConfig(**base)


def test_control_names_are_never_in_the_corpus():
    w = generate_conflict(ConflictWorldConfig(ns=(2,), facts_per_n=10, filler_docs=50))
    names = control_names(w)
    assert len(names) == 10 and not set(names) & {f.person for f in w.facts}
    corpus = "\n".join(w.texts())
    assert not any(n in corpus for n in names)


def test_bad_schedule_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown schedule"):
        tiny(schedules=("constant", "step")).validate()


@pytest.mark.slow
def test_a_tiny_run_scores_both_answers_and_gives_the_same_bytes(tmp_path):
    cfg = tiny()
    res = EXPERIMENT(cfg, tmp_path / "a")
    assert [(r["seed"], r["schedule"]) for r in res["runs"]] == [(0, "constant"), (0, "wsd")]
    r = res["runs"][0]
    f = r["final"]["train"]
    assert len(f["log_odds"]) == 12
    spec = np.asarray(f["log_odds"]) - np.asarray(f["control_log_odds"])
    assert np.allclose(spec, f["specific_log_odds"])
    assert all(0 <= p <= 1 for p in f["p_a"] + f["p_b"]) and r["window_end_step"] < r["steps"]
    assert set(res["summary"]) == {f"{s}|{n}|{p}" for s in ("constant", "wsd") for n in (2, 8) for p in ("heldout", "train")}
    EXPERIMENT.write(res, tmp_path / "a")
    b = EXPERIMENT(cfg, tmp_path / "b")
    EXPERIMENT.write(b, tmp_path / "b")
    assert (tmp_path / "a" / "lock_in.json").read_bytes() == (tmp_path / "b" / "lock_in.json").read_bytes()
    assert json.loads((tmp_path / "a" / "lock_in.json").read_text())["runs"][1]["schedule"] == "wsd"
    # the schedules differ in the model they give
    assert res["runs"][0]["final"] != res["runs"][1]["final"]
