"""From-scratch lab: the world generator (exact exposures), packing, fits and metrics, and a smoke run."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from curadebt.worlds import facts as W
from curadebt.lab.inertia import InertiaConfig, exposures_seen, fit_power, run_inertia
from curadebt.lab.scratch import EOS, PAD, ScratchError, ScratchLM, TrainConfig, encode, pack, score, train_tokenizer


def small(**kw) -> W.WorldConfig:
    base = dict(seed=3, tiers=(1, 4, 16, 64), facts_per_tier=3, placements=("early", "late", "spread"),
                filler_docs=400, people_per_first=2, docs_per_person=2)
    base.update(kw)
    return W.WorldConfig(**base)


def test_exposure_counts_are_exact():
    w = W.generate(small())
    texts = w.texts()
    assert len(w.facts) == 12
    for f in w.facts:
        assert f.exposures == f.tier
        assert len(f.positions) == f.tier
        assert W.count_statements(texts, f) == f.tier
        # the country and the capital occur in no other document
        assert sum(1 for t in texts if f.country in t) == f.tier
        assert sum(1 for t in texts if f.capital in t) == f.tier
        assert all(w.docs[p]["source"] == "fact" and w.docs[p]["meta"]["fact"] == w.facts.index(f) for p in f.positions)
    # held-out paraphrases never occur in the corpus
    for f in w.facts:
        for t in W.EVAL_TEMPLATES:
            assert W.fact_statement(t, f.country, f.capital) not in "\n".join(texts)


def test_placements_put_documents_early_or_late():
    w = W.generate(small(place_frac=0.25))
    n = len(w.docs)
    region = int(0.25 * n)
    for f in w.facts:
        if f.placement == "early":
            assert max(f.positions) < region
        elif f.placement == "late":
            assert min(f.positions) >= n - region
    early = [p for f in w.facts if f.placement == "early" for p in f.positions]
    late = [p for f in w.facts if f.placement == "late" for p in f.positions]
    assert max(early) < min(late)


def test_star_is_over_represented_at_matched_size():
    w1 = W.generate(small(tom_m=1))
    w10 = W.generate(small(tom_m=10))
    assert len(w1.docs) == len(w10.docs)
    def star_docs(w):
        return sum(1 for d in w.docs if "Tom Cruise" in d["text"])
    assert star_docs(w1) == 2 and star_docs(w10) == 20
    assert w10.star_docs == 20
    toms = [p for p in w10.people if p[0] == "Tom"]
    assert len(toms) == 2 and ("Tom", "Cruise") in toms
    # every other person keeps docs_per_person documents
    other = [p for p in w10.people if p != ("Tom", "Cruise")][0]
    name = " ".join(other)
    assert sum(1 for d in w10.docs if d["source"] == "people" and d["text"].startswith(name) or f" {name}" in d["text"]) >= 2


def test_same_seed_same_bytes(tmp_path):
    a = W.generate(small()).write(tmp_path / "a")
    b = W.generate(small()).write(tmp_path / "b")
    c = W.generate(small(seed=4)).write(tmp_path / "c")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert [f["exposures"] for f in man["facts"]] == [f.tier for f in W.generate(small()).facts]


@pytest.mark.parametrize("kw", [dict(tiers=(0, 4)), dict(placements=("sideways",)), dict(facts_per_tier=100),
                                dict(tom_m=1000, filler_docs=10), dict(place_frac=0.0)])
def test_bad_world_config_is_a_clear_error(kw):
    with pytest.raises(W.WorldError):
        W.generate(small(**kw))


def test_pack_keeps_documents_whole_and_maps_rows():
    docs = [[5, 6, 7], [8] * 10, [9, 9], [10] * 5]
    p = pack(docs, ctx=16)
    assert p.rows.shape[1] == 16
    for i, ids in enumerate(docs):
        row = p.rows[p.row_of_doc[i]].tolist()
        s = " ".join(map(str, row))
        assert " ".join(map(str, [EOS] + ids + [EOS])) in s or " ".join(map(str, ids + [EOS])) in s
    assert all(r[0] == EOS for r in p.rows.tolist())
    assert p.tokens() == int((p.rows != PAD).sum())
    with pytest.raises(ScratchError):
        pack([[1] * 20], ctx=16)


def test_fit_power_recovers_exponent():
    x = np.array([4, 16, 64, 256, 1024], dtype=float)
    g, a = fit_power(x, 2.0 * x ** 0.4)
    assert g == pytest.approx(0.4) and a == pytest.approx(2.0)
    assert math.isnan(fit_power([16, 16], [3, 4])[0])
    assert math.isnan(fit_power([16], [3])[0])


def test_exposures_seen_counts_rows_before_a_checkpoint():
    w = W.generate(small())
    row_of_doc = np.arange(len(w.docs)) // 3  # three documents a row
    f = w.facts[-1]
    k = 3 * len(w.docs) // 6
    seen = exposures_seen(w, row_of_doc, k // 3)
    assert seen[-1] == sum(1 for p in f.positions if p // 3 < k // 3)
    assert exposures_seen(w, row_of_doc, len(w.docs))[-1] == f.tier


def test_score_is_a_log_probability():
    tok = train_tokenizer(["The capital of France is Paris."] * 20 + ["Lyon is a city."] * 5, vocab_size=300)
    lm = ScratchLM(tok, TrainConfig(size="xs", ctx=32, vocab_size=300), seed=0)
    lp = score(lm, ["The capital of France is"] * 2, ["Paris", "Lyon"])
    assert (lp < 0).all()
    # a vocabulary-wide sum of next-token probabilities is 1 (single-token answers)
    vocab = [t for t, i in tok.get_vocab().items() if i > 1 and t.startswith("Ġ") and len(encode(tok, [" " + t[1:]])[0]) == 1]
    ps = np.exp(score(lm, ["The capital of France is"] * len(vocab), [t[1:] for t in vocab]))
    assert ps.sum() < 1.0 + 1e-6


def test_smoke_inertia_is_deterministic(tmp_path):
    cfg = InertiaConfig(seeds=(0, 1), sizes=("xs",), depths=(0.5, 1.0), max_counter=3, rebound_depth=0.5,
                        world=W.WorldConfig(tiers=(2, 16), facts_per_tier=2, filler_docs=60, people_per_first=1,
                                            docs_per_person=1, placements=("spread",)),
                        train=TrainConfig(size="xs", batch_size=16, vocab_size=1000, ctx=96), save_checkpoints=False)
    a = run_inertia(cfg)
    b = run_inertia(cfg)
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
    run = a["runs"][0]
    assert [d["depth"] for d in run["depths"]] == [0.5, 1.0]
    assert run["depths"][-1]["doses"] == [1, 2, 3]
    assert [f["exposure"] for f in run["depths"][-1]["facts"]] == [2, 2, 16, 16]
    assert "rebound" in run["depths"][0]
    g = a["summary"]["gamma"]["xs@1"]["train"]
    assert g["n"] <= 2 and len(g["per_seed"]) == 2
    # the second ratio: counter-examples per pretraining exposure, r50 / tier, for the whole epoch only
    from curadebt.lab.scratch_report import inertia_markdown

    md = inertia_markdown(a)
    rows = [ln for ln in md.splitlines() if "r50 per pretraining exposure" in ln]
    assert rows and all(ln.startswith("| xs@1 |") for ln in rows)
    by = a["summary"]["r50_by_tier"]["xs@1"]["train"]
    for t, cell in zip(by, rows[0].split("|")[3:]):
        m = by[t]["r50_geomean"]["mean"]
        assert cell.strip() == "n/a" if m is None else float(cell.split()[0]) == pytest.approx(m / float(t), rel=0.05)


# ---------------------------------------------------------------------------- salience and cost helpers

from curadebt.lab import cost as C  # noqa: E402
from curadebt.lab.salience import data_share, entropy_bits, kl_bits, slot_prompts, surname_prompts  # noqa: E402


def test_entropy_and_kl_on_hand_values():
    assert entropy_bits([1, 1, 1, 1]) == pytest.approx(2.0)
    assert entropy_bits([1, 0]) == pytest.approx(0.0)
    assert entropy_bits([2, 2]) == pytest.approx(1.0)          # normalised first
    assert kl_bits([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert kl_bits([1, 0], [0.5, 0.5]) == pytest.approx(1.0)
    assert kl_bits([0.75, 0.25], [0.5, 0.5]) == pytest.approx(0.75 * math.log2(1.5) + 0.25 * math.log2(0.5))
    assert kl_bits([0.5, 0.5], [1, 0]) == math.inf


def test_salience_prompts_are_held_out_and_data_share_is_exact():
    w = W.generate(small(tom_m=10, tiers=(), facts_per_tier=0))
    corpus = "\n".join(w.texts())
    for p in slot_prompts(2):
        assert p not in corpus
    from curadebt.lab.salience import unrelated_prompts

    for p in unrelated_prompts(3):
        assert p not in corpus and "Tom" not in p
    sp = surname_prompts(w.people)
    assert sp and all(p.endswith("Tom") and last != "Cruise" for p, last in sp)
    ds = data_share(w)
    assert ds["tom_share_of_person_docs"] == pytest.approx((20 + 2) / (2 * 24 * 2 - 2 + 20))
    assert ds["star_share_of_tom_docs"] == pytest.approx(20 / 22)


def test_cost_arithmetic():
    assert C.parse_exposures("1024x2,16") == [1024, 1024, 16]
    with pytest.raises(ValueError):
        C.parse_exposures("abc")
    # r50 = 2 * e ** 0.5: e=16 -> 8, e=64 -> 16
    assert C.finetune_tokens([16, 64], 0.5, 2.0, 10) == pytest.approx((8 + 16) * 10)
    assert C.finetune_tokens([16, 64], 0.5, 2.0, 10, mode="mass") == pytest.approx(2 * 16 * 10)
    assert C.finetune_tokens([16], 0.5, 2.0, 10, replay=1.0) == pytest.approx(160)
    fake = {"config": {"sizes": ["s"]},
            "runs": [{"size": "s", "n_nonembedding_params": 1000, "tokens_per_epoch": 100000,
                      "depths": [{"depth": 1.0, "fit": {"train": {"gamma": g, "a": 2.0}},
                                  "facts": [{"exposure": 16, "train": {"known": True}}]}]} for g in (0.4, 0.5, 0.6)]}
    est = C.estimate(fake, [64, 64], tokens_per_counter=10)
    assert est["retrain_flops"] == 6.0 * 1000 * 100000
    seq = [6.0 * 1000 * 2 * 2.0 * 64 ** g * 10 for g in (0.4, 0.5, 0.6)]
    assert est["finetune_flops_sequential"]["mean"] == pytest.approx(np.mean(seq))
    assert "cheaper" in est["verdict"]
    assert est["break_even_facts_by_exposure"]["64"]["mean"] == pytest.approx(
        np.mean([100000 / (10 * 2.0 * 64 ** g) for g in (0.4, 0.5, 0.6)]))


def test_cli_bad_input_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from curadebt.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["lab", "inertia", "--depths", "2", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "depths" in res.output
    res = runner.invoke(app, ["lab", "salience", "--ms", "10,100", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "balanced" in res.output
    res = runner.invoke(app, ["lab", "cost", "--inertia", str(tmp_path / "missing.json"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "not" in res.output and "found" in res.output
    res = runner.invoke(app, ["lab", "cost", "--exposures", "x", "--inertia", str(tmp_path / "missing.json")])
    assert res.exit_code == 2
    for cmd in ("inertia", "salience", "curate-vs-correct", "lock-in", "cost"):
        assert runner.invoke(app, ["lab", cmd, "--help"]).exit_code == 0


def test_lab_settings_come_from_a_config_file_and_flags(tmp_path):
    """The experiments' options are their config dataclasses' fields: a --config file reaches the
    config (its bad value is reported like a flag's), a typed flag wins over it, lists are spelt
    with commas on the command line."""
    from typer.testing import CliRunner

    from curadebt.cli import app

    runner = CliRunner()
    cfg = tmp_path / "inertia.yaml"
    cfg.write_text("world: {tiers: [0, 4]}\nmax_counter: 8\n")
    res = runner.invoke(app, ["lab", "inertia", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "tiers must be >= 1" in res.output
    res = runner.invoke(app, ["lab", "inertia", "--config", str(cfg), "--tiers", "2,16", "--depths", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "depths must be in (0, 1]" in res.output, "the flag's tiers passed, depths did not"
    res = runner.invoke(app, ["lab", "salience", "--ms", "1,ten", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--ms takes int values" in res.output
    cfg.write_text("tiers: [1]\nflavour: mild\n")
    res = runner.invoke(app, ["lab", "curate-vs-correct", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "flavour" in res.output
    assert not (tmp_path / "o").exists()


def test_html_page_escapes_and_is_self_contained(tmp_path):
    from curadebt.lab.scratch_report import html_page

    page = html_page("Tom <Cruise>", "| x | <script>alert(1)</script> |", None)
    assert "<script>" not in page and "&lt;script&gt;" in page and "Tom &lt;Cruise&gt;" in page
    assert "http://" not in page and "https://" not in page


def test_smoke_salience_runs_and_reports_every_metric():
    from curadebt.lab.salience import METRICS, SalienceConfig, run_salience

    cfg = SalienceConfig(seeds=(0, 1), ms=(1, 4), prompts_per_template=1,
                         world=W.WorldConfig(tiers=(), facts_per_tier=0, filler_docs=10, people_per_first=2,
                                             docs_per_person=1),
                         train=TrainConfig(size="xs", batch_size=16, vocab_size=1000, ctx=96))
    res = run_salience(cfg)
    assert [(r["seed"], r["m"]) for r in res["runs"]] == [(0, 1), (0, 4), (1, 1), (1, 4)]
    for m in ("1", "4"):
        for k in METRICS:
            assert res["summary"][m][k]["n"] == 2
    assert res["summary"]["1"]["kl_vs_balanced"]["mean"] == 0.0
    assert res["summary"]["1"]["tom_priming_ratio"]["mean"] == 1.0, "the balanced model is its own reference"
    assert res["summary"]["4"]["data_tom_share"] > res["summary"]["1"]["data_tom_share"]
    for r in res["runs"]:
        assert 0 < r["tom_share"] < 1 and 0 < r["entropy"] <= math.log2(24) + 1e-9
        assert 0 < r["p_tom_unrelated"] < 1 and 0 < r["p_true_surname"] < 1
        assert r["tom_share_excess"] == pytest.approx(r["tom_share"] - r["tom_share_of_person_docs"])


def test_outputs_get_ordinary_permissions(tmp_path):
    import os

    from curadebt.lab.io import write_json

    p = write_json(tmp_path / "x.json", {"a": float("nan"), "b": (1, 2)})
    umask = os.umask(0)
    os.umask(umask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)
    assert json.loads(p.read_text()) == {"a": None, "b": [1, 2]}


def test_worlds_scale_to_tokens_per_parameter_and_rates_to_width():
    """Scale at matched tokens per parameter (issue: inertia without confounds): each size's world is
    sized to ~20 tokens per non-embedding parameter; with --width-lr a half-width model gets twice the rate."""
    from curadebt.lab.inertia import world_for

    cfg = InertiaConfig(tokens_per_param=20, world=small(filler_docs=200))
    w, tok, packed = world_for(cfg, 0, "xxs")
    n = ScratchLM(tok, TrainConfig(size="xxs")).n_nonembedding_params()
    assert packed.tokens() / n == pytest.approx(20, rel=0.15)
    assert [f.exposures for f in w.facts] == [f.exposures for f in W.generate(small(filler_docs=200)).facts]
    assert InertiaConfig(width_lr=True).lr_scale("xs") == 2.0 and InertiaConfig().lr_scale("xs") == 1.0
