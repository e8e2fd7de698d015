"""lab curate-vs-correct: the arms' corpora, the scoring, the matched budget, the paired analysis,
partial results and same bytes."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")

from curadebt.core.stats import mean_of_group_means, two_level_bootstrap_ci  # noqa: E402
from curadebt.lab import cvc_arms as A  # noqa: E402
from curadebt.lab.curate_vs_correct import EXPERIMENT, CvcConfig, jobs, run_cvc, seeded  # noqa: E402
from curadebt.lab.scratch import ScratchLM, TrainConfig, score  # noqa: E402
from curadebt.lab.zipf_eval import city_choice, city_logprobs  # noqa: E402
from curadebt.worlds.zipf import CITIES, HELDOUT_TEMPLATES, ZipfWorldConfig, generate_zipf, prompt  # noqa: E402


def tiny(**kw) -> CvcConfig:
    base = dict(seeds=(0,), epochs=1.0, head_min=8, cap=4,
                world=ZipfWorldConfig(facts=32, top=16, heldout_filler=30),
                train=TrainConfig(size="xs", batch_size=16, vocab_size=1200))
    base.update(kw)
    return CvcConfig(**base)


def test_oracle_arms_change_only_the_fact_documents():
    w = generate_zipf(ZipfWorldConfig(facts=60, top=40, heldout_filler=0))
    cfg = tiny(cap=5)
    filler = sorted(d["text"] for d in w.docs if d["source"] == "filler")
    cap = A.ARMS["cap"].build(w, cfg, None).phases[0].texts
    assert A.fact_counts(cap, w) == [min(5, f.exposures) for f in w.facts]
    assert sorted(t for t in cap if A.fact_counts([t], w) == [0] * 60) == filler
    uni = A.ARMS["uniform"].build(w, cfg, None).phases[0].texts
    m = round(sum(f.exposures for f in w.facts) / 60)
    assert A.fact_counts(uni, w) == [m] * 60           # every fact the mean: the fact share is kept
    assert len(uni) == len(filler) + 60 * m
    raw = A.ARMS["raw"].build(w, cfg, None).phases[0].texts
    assert raw == w.texts()


def test_docs_naming_finds_a_persons_documents_by_the_name():
    w = generate_zipf(ZipfWorldConfig(facts=40, top=20, heldout_filler=0))
    i = max(range(40), key=lambda k: w.facts[k].exposures)
    docs = A.docs_naming(w.texts(), w, {i})
    assert len(docs) == w.facts[i].exposures and all(w.facts[i].person in d for d in docs)


def test_city_choice_reads_single_token_cities_off_one_forward_pass():
    """The one-pass reading equals the token-by-token score for single-token cities, and the
    fallback is used for the others."""
    cfg = tiny()
    s = seeded(0, cfg)
    lm = ScratchLM(s.tok, cfg.train, seed=0)
    f = s.world.facts[:3]
    prompts = [prompt(HELDOUT_TEMPLATES[0], x.person) for x in f]
    lp = city_logprobs(lm, prompts)
    for j in (0, 5, len(CITIES) - 1):
        assert lp[:, j] == pytest.approx(score(lm, prompts, [CITIES[j]] * 3), abs=1e-4)
    acc = city_choice(lm, f, HELDOUT_TEMPLATES)
    assert acc.shape == (3,) and ((acc >= 0) & (acc <= 1)).all()


def test_two_level_bootstrap_pairs_and_brackets():
    rng = np.random.default_rng(0)
    groups = [rng.normal(0.2, 0.1, 200) for _ in range(4)]
    ci = two_level_bootstrap_ci(groups, mean_of_group_means)
    assert ci.low < 0.2 < ci.high and ci.n == 4
    zero = two_level_bootstrap_ci([np.zeros(50)] * 3, mean_of_group_means)
    assert zero.mean == zero.low == zero.high == 0.0


def test_arms_are_validated_and_raw_always_runs():
    with pytest.raises(ValueError, match="unknown arm"):
        tiny(arms=("raw", "bogus")).validate()
    cfg = tiny(arms=("uniform", "raw+fix"))
    assert cfg.selected() == ("raw", "uniform", "raw+fix")
    assert jobs(cfg) == [(0, "raw"), (0, "uniform")]   # the fix arms branch off the raw job


@pytest.mark.slow
def test_a_tiny_run_matches_steps_pairs_arms_and_gives_the_same_bytes(tmp_path):
    cfg = tiny(arms=("cap", "uniform", "normalize", "raw+fix", "raw+fix-extra"))
    res = EXPERIMENT(cfg, tmp_path / "a")
    run = res["runs"][0]
    S = run["steps"]
    final = {p["arm"]: p for p in run["points"] if p["arm"] != "raw" or p["step"] == S}
    assert set(final) == {"raw", "cap", "uniform", "normalize", "raw+fix", "raw+fix-extra"}
    for arm, p in final.items():  # matched steps, but for the arm that is extra by design
        assert p["step"] == (S + round(cfg.fix_extra * S) if arm == "raw+fix-extra" else S)
        assert len(p["heldout"]) == len(p["train"]) == 32 and p["flops"] > 0
    assert final["raw+fix"]["fixed_facts"] > 0 and final["raw+fix"]["fix_documents"] > 0
    s = res["summary"]
    assert set(s["paired"]) == set(final) - {"raw"} and s["facts_per_bin"]["all"] == 32
    assert s["arms"]["raw+fix-extra"]["compute_vs_raw"] > 1.1
    assert s["arms"]["normalize"]["compute_vs_raw"] == pytest.approx(1.0, abs=0.15)
    assert run["corpora"]["normalize"]["curate"]["ops"][0]["op"] == "normalize"
    paths = EXPERIMENT.write(res, tmp_path / "a")
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "| raw+fix |" in md and "slope per doubling" in md
    # a rerun reuses the finished jobs and writes the same bytes; a fresh run too
    again = EXPERIMENT(cfg, tmp_path / "a")
    assert json.dumps(again["runs"]) == json.dumps(res["runs"])
    fresh = EXPERIMENT(cfg, tmp_path / "b")
    EXPERIMENT.write(fresh, tmp_path / "b")
    assert (tmp_path / "a" / "curate_vs_correct.json").read_bytes() == (tmp_path / "b" / "curate_vs_correct.json").read_bytes()
    # a partial result of other settings is not reused
    other = replace(cfg, cap=3, arms=("cap",))
    assert run_cvc(other, tmp_path / "a")["runs"][0]["corpora"]["cap"] != run["corpora"]["cap"]


def test_cli_lists_and_checks_the_arms(tmp_path):
    from typer.testing import CliRunner

    from curadebt.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["lab", "curate-vs-correct", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for arm in A.ARMS:
        assert arm in res.output
    res = runner.invoke(app, ["lab", "curate-vs-correct", "--arms", "raw,nope", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown arm" in res.output
