"""lab depth: the branch schedule, the data slices, and a tiny end-to-end run (same bytes twice)."""
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from curadebt.lab.depth import (CORRECT_TEMPLATES, INJECT_TEMPLATES, PROMPT_SETS, DepthConfig, branch_plan,  # noqa: E402
                                injection_statements, make_facts, run_depth)
from curadebt.lab.scratch import TrainConfig  # noqa: E402
from curadebt.worlds.templates import shared_ngrams  # noqa: E402


def test_branch_points_and_the_shared_schedule_after_them():
    plan = branch_plan(25_000, 1024, (5, 20, 80), window_steps=100, decay_steps=20)
    assert plan.branch_steps == (122, 488, 1953)  # round(tpp * N / tokens per step)
    lr_at = plan.lr_after_branch(1e-3)
    assert [lr_at(k) for k in (0, 50, 99)] == [1e-3] * 3           # the injection window: constant
    assert lr_at(100) == pytest.approx(1e-3 * (1 - 0.9 / 20))       # the decay starts right after it
    assert lr_at(119) == pytest.approx(1e-4) and lr_at(500) == pytest.approx(1e-4)  # to 10%, then held
    # one function of the steps since the branch: every branch gets the same rates
    assert branch_plan(25_000, 1024, (1, 2), 100, 20).lr_after_branch(1e-3)(110) == lr_at(110)
    with pytest.raises(ValueError):
        branch_plan(100, 1024, (1, 2), 10, 2)  # both branch points on step 1


def test_phrasings_and_exposures():
    assert not set(INJECT_TEMPLATES) & set(CORRECT_TEMPLATES)
    # counter-examples share no word pair with either scored set
    for scored in PROMPT_SETS.values():
        assert shared_ngrams(CORRECT_TEMPLATES, [t for t in scored if t not in CORRECT_TEMPLATES]) == {}
    cfg = DepthConfig(people=3, tiers=(2, 5))
    facts = make_facts(cfg, 0)
    assert [f.tier for f in facts] == [2, 2, 2, 5, 5, 5] and all(f.city != f.new for f in facts)
    st = injection_statements(facts)
    assert len(st) == 21 and sum(facts[3].person in s for s in st) == 5
    assert make_facts(cfg, 0) == facts and make_facts(cfg, 1) != facts


def test_tiny_depth_run_is_deterministic(tmp_path):
    text = tmp_path / "text.txt"
    words = "the river runs past old mills and the town keeps its market by the bridge over the water".split()
    paras = [" ".join(words[(i * 7 + j) % len(words)] for j in range(40)) for i in range(400)]
    text.write_text("\n\n".join(paras))
    cfg = DepthConfig(seeds=(0,), branch_tpp=(0.5, 1.0), text=str(text), people=2, tiers=(1, 3), window_steps=4,
                      decay_steps=2, max_counter=4, heldout_rows=16, replay_rows=32, perturb_draws=1,
                      train=TrainConfig(size="xxs", batch_size=8, ctx=64, vocab_size=400))
    a = run_depth(cfg, tmp_path / "a")
    b = run_depth(cfg, tmp_path / "b")
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    run = a["runs"][0]
    steps = [br["pretrain_steps"] for br in run["branches"]]
    assert steps[0] < steps[1] and run["fact_rows"] >= 1 and run["window_rows"] == 4 * 8
    for br in run["branches"]:
        assert br["doses"] == [1, 2, 4] and len(br["facts"]) == 4
        assert br["collateral"] == pytest.approx(br["heldout_loss_after_correction"] - br["heldout_loss_before_correction"])
        assert br["perturbation_sensitivity"] == br["perturbation_sensitivity"]  # not NaN
    assert [r["tokens_per_param"] for r in a["rows"]] == [0.5, 1.0]
    assert (tmp_path / "a" / "partial" / "seed0.json").exists()


def test_pooled_r50_is_a_geometric_mean_with_a_seed_bootstrap_on_the_log_scale():
    from curadebt.lab.depth import pooled_r50

    r = pooled_r50([[2, 8], [4], []])
    assert abs(r["mean"] - 4.0) < 1e-9 and r["facts"] == 3 and r["n"] == 2
    assert 0 < r["low"] <= r["mean"] <= r["high"]          # never below 0, as a t-interval on means was
    assert pooled_r50([[]])["facts"] == 0 and abs(pooled_r50([[5]])["low"] - 5) < 1e-9
