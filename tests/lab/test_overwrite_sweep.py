"""The overwrite budget sweep: exact checkpoint mixes, verdicts, locality replay, a tiny end-to-end run."""
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from curadebt.lab.facts import Fact, capital_fact, capital_replay_facts, unrelated_facts  # noqa: E402
from curadebt.lab.overwrite_sweep import SweepConfig, SweepJob, nested_stream, run_sweep, verdicts  # noqa: E402
from curadebt.lab.tiny import tiny_model  # noqa: E402


def _fact(i: int, subject: str, old="Paris", new="Rome") -> Fact:
    return Fact(id=f"f{i}", subject=subject, relation="capital", old=old, new=new,
                train_prompts=[f"The capital of {subject} is", f"{subject} has its capital in"],
                rewrite_prompts=[f"{subject} is governed from the city of"],
                paraphrase_prompts=[f"Foreign embassies in {subject} are located in"],
                neighbourhood=[("Quux is governed from the city of", "Oslo")])


@pytest.mark.parametrize("ratio", [1.0, 4.0, 0.25])
def test_every_checkpoint_prefix_holds_the_exact_mix(ratio):
    facts = [_fact(0, "Zorbia"), _fact(1, "Vexland", old="Oslo", new="Lima")]
    budgets = [8, 32, 128]
    segs = nested_stream(facts, ratio, budgets, seed=3)
    assert [len(s) for s in segs] == [8, 24, 96]
    seen = []
    for n, seg in zip(budgets, segs):
        seen += seg
        assert sum(1 for *_, k in seen if k == "new") == round(n * ratio / (1 + ratio))
    # new statements cycle through every (fact, template) pair: at 128 statements none is far behind
    new_pairs = [(fid, p) for fid, p, _, k in seen if k == "new"]
    counts = [new_pairs.count(x) for x in set(new_pairs)]
    assert len(counts) == 4 and max(counts) - min(counts) <= 1
    assert all(a == next(f for f in facts if f.id == fid).new for fid, _, a, k in seen if k == "new")
    assert nested_stream(facts, ratio, budgets, seed=3) == segs
    assert nested_stream(facts, ratio, budgets, seed=4) != segs
    # the first segment does not depend on the later budgets: a k-step run is a prefix
    assert nested_stream(facts, ratio, budgets[:1], seed=3)[0] == segs[0]


def _row(lr, steps, ratio, q, lo, hi, ppl=0.01):
    return {"lr": lr, "steps": steps, "replay": "none", "ratio": ratio, "q_new": {"mean": q, "low": lo, "high": hi},
            "ppl_change": {"mean": ppl}}


def test_verdicts():
    rows = [_row(1e-5, 4, 1.0, 0.48, 0.40, 0.56), _row(1e-5, 4, 4.0, 0.70, 0.65, 0.75),     # holds, holds
            _row(3e-5, 4, 1.0, 0.90, 0.85, 0.95), _row(3e-5, 4, 4.0, 0.99, 0.97, 0.999),    # fails, fails
            _row(1e-6, 4, 1.0, 0.03, 0.02, 0.04), _row(1e-6, 4, 4.0, 0.04, 0.03, 0.05)]     # not moved
    v = {x["lr"]: x for x in verdicts(rows, base_q=0.01)}
    assert (v[1e-5]["coin_flip_1to1"], v[1e-5]["old_left_4to1"]) == ("holds", "holds")
    assert (v[3e-5]["coin_flip_1to1"], v[3e-5]["old_left_4to1"]) == ("fails", "fails")
    assert (v[1e-6]["coin_flip_1to1"], v[1e-6]["old_left_4to1"]) == ("not moved", "not moved")
    assert v[1e-5]["q_old_4to1"] == pytest.approx(0.30)
    assert not any(x["damaged"] for x in v.values())


def test_a_wide_interval_is_undecided_and_a_broken_model_is_marked():
    rows = [_row(1e-5, 4, 1.0, 0.45, 0.00, 1.00), _row(1e-5, 4, 4.0, 0.80, 0.30, 1.00),     # 3 seeds, no verdict
            _row(1e-5, 16, 1.0, 0.55, 0.20, 0.70), _row(1e-5, 16, 4.0, 0.97, 0.96, 0.98),   # undecided; fails
            _row(3e-5, 4, 1.0, 0.50, 0.40, 0.60, ppl=2.0), _row(3e-5, 4, 4.0, 0.8, 0.7, 0.9, ppl=0.3)]
    v = {(x["lr"], x["steps"]): x for x in verdicts(rows, base_q=0.01)}
    assert (v[1e-5, 4]["coin_flip_1to1"], v[1e-5, 4]["old_left_4to1"]) == ("undecided", "undecided")
    assert (v[1e-5, 16]["coin_flip_1to1"], v[1e-5, 16]["old_left_4to1"]) == ("undecided", "fails")
    # the verdicts still stand, but the budget is marked: perplexity tripled at 1:1
    assert v[3e-5, 4]["coin_flip_1to1"] == "holds" and v[3e-5, 4]["damaged"] and not v[1e-5, 4]["damaged"]
    assert v[3e-5, 4]["ppl_change_worst"] == pytest.approx(2.0)


def test_locality_replay_never_trains_on_what_is_scored():
    f = capital_fact("France", new="Barcelona")
    replay = capital_replay_facts(f, 16)
    assert len(replay) == 16
    neighbours = {p.split(",")[0].removeprefix("In ") for p, _ in f.neighbourhood}
    for r in replay:
        assert r.subject != "France" and r.subject not in neighbours and r.old not in ("Paris", "Barcelona")
        assert r.train_prompts and all(r.subject in p for p in r.train_prompts)
    # a candidate named in a scored prompt, or sharing an answer, is left out
    cands = [_fact(1, "Quux", old="Oslo"), _fact(2, "Blip", old="Paris"), _fact(3, "Mora", old="Lima")]
    assert [c.id for c in unrelated_facts([_fact(0, "Zorbia")], cands, 5)] == ["f3"]


TEXTS = ["The capital of Zorbia is Paris . Zorbia has its capital in Paris . Rome",
         "Zorbia is governed from the city of . Foreign embassies in are located in . Quux Oslo Mora Lima",
         "The capital of Mora is Lima . Mora has its capital in Lima .",
         "a river flows into the sea and the sea is wide and deep and blue"]


def test_tiny_sweep_checkpoints_equal_shorter_runs_and_same_bytes(tmp_path):
    lm = tiny_model(TEXTS, seed=0)
    text = tmp_path / "heldout.txt"
    text.write_text(" ".join(TEXTS[3:] * 40))
    facts, replay = [_fact(0, "Zorbia")], [_fact(3, "Mora", old="Lima")]
    cfg = dict(lrs=(1e-2,), ratios=(1.0, 4.0), seeds=(0, 1), replay=("none", "facts"), batch_size=4,
               replay_per_step=2, ppl_path=str(text), ppl_chunks=2)
    long = run_sweep(SweepJob(lm, facts, replay, SweepConfig(steps=(1, 3), **cfg), "t"), tmp_path / "a", print)
    short = run_sweep(SweepJob(lm, facts, replay, SweepConfig(steps=(1,), **cfg), "t"), tmp_path / "b", print)
    at1 = [u for u in long["units"] if u["steps"] == 1]
    assert at1 == short["units"]  # step 1 of a 3-step trajectory is a 1-step run
    moved = [u for u in long["units"] if u["steps"] == 3]
    assert any(u["q_new"] != b["q_new"] for u, b in zip(moved, at1))  # training happened
    assert {(r["replay"], r["ratio"], r["steps"]) for r in long["rows"]} == \
        {(rp, r, k) for rp in ("none", "facts") for r in (1.0, 4.0) for k in (1, 3)}
    assert len(long["verdicts"]) == 4 and all("coin_flip_1to1" in v for v in long["verdicts"])
    again = run_sweep(SweepJob(lm, facts, replay, SweepConfig(steps=(1, 3), **cfg), "t"), tmp_path / "c", print)
    assert json.dumps(again, sort_keys=True) == json.dumps(long, sort_keys=True)
    # a smaller grid into the same folder reuses the finished trajectories (partial/), training nothing
    assert len(list((tmp_path / "a" / "partial").glob("*.json"))) == 8
    said = []
    part = run_sweep(SweepJob(lm, facts, replay, SweepConfig(steps=(1, 3), **(cfg | {"seeds": (1,)})), "t"),
                     tmp_path / "a", said.append)
    assert any("reusing 4 finished" in m for m in said) and not any(m.startswith("[") for m in said)
    assert part["units"] == [u for u in long["units"] if u["seed"] == 1]
    with pytest.raises(ValueError, match="overlap"):
        run_sweep(SweepJob(lm, facts, [_fact(5, "Zorbia", old="Lima")], SweepConfig(steps=(1,), **cfg), "t"),
                  tmp_path / "d", print)
