import json
import os

import pytest

from typer.testing import CliRunner

from curadebt.cli import app

runner = CliRunner()
os.environ["CURADEBT_NO_PROGRESS"] = "1"

STABLE_KEYS = ["corpus.documents_read", "corpus.documents_audited", "corpus.documents_quarantined", "corpus.tokens",
               "duplicates.exact_duplicate_documents", "duplicates.near_duplicate_documents", "salience.entities",
               "salience.spillover", "mixture", "order", "probes", "debt"]


def _get(d, dotted):
    for part in dotted.split("."):
        d = d[part]
    return d


def test_help_explains_every_command():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("audit", "demo"):
        assert cmd in res.output
    res = runner.invoke(app, ["audit", "--help"])
    assert res.exit_code == 0 and "--source-field" in res.output and "quarantine" in res.output


def test_audit_garbage_corpus_reconciles_and_writes_reports(tmp_path):
    corpus = tmp_path / "c.jsonl"
    lines = [json.dumps({"text": f"Tom Cruise met Tom Hanks in Paris, doc {i}.", "src": "a" if i % 3 else "b"})
             for i in range(30)]
    lines += ["{broken", json.dumps({"nope": 1}), json.dumps({"text": ""})]
    corpus.write_bytes(("\n".join(lines) + "\n").encode() + b'{"text": "\xff\xfe"}\n')
    probes = tmp_path / "p.jsonl"
    probes.write_text(json.dumps({"id": "fr", "subject": "Tom Cruise", "answers": ["Paris", "Rome"]}) + "\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["audit", str(corpus), "--out", str(out), "--source-field", "src", "--probes", str(probes)])
    assert res.exit_code == 0, res.output
    assert "documents_read 34 = audited 30 + quarantined 4" in res.output
    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == 1
    for key in STABLE_KEYS:
        _get(report, key)
    c = report["corpus"]
    assert c["documents_read"] == c["documents_audited"] + c["documents_quarantined"] == 34
    assert c["quarantine_reasons"] == {"empty_text": 1, "invalid_json": 1, "invalid_utf8": 1, "missing_text": 1}
    assert len((out / "quarantine.jsonl").read_text().splitlines()) == 4
    assert report["probes"]["probes"][0]["top_answer"] == "Paris"
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")


def test_same_seed_same_bytes(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"alpha beta gamma delta {i % 7}"}) + "\n" for i in range(50)))
    outs = []
    for name in ("a", "b"):
        res = runner.invoke(app, ["audit", str(corpus), "--out", str(tmp_path / name), "--quiet"])
        assert res.exit_code == 0, res.output
        outs.append(((tmp_path / name / "report.json").read_bytes(), (tmp_path / name / "report.html").read_bytes()))
    assert outs[0] == outs[1]


def test_missing_corpus_is_a_clear_error_with_exit_code(tmp_path):
    res = runner.invoke(app, ["audit", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 3
    assert "no such file" in res.output


@pytest.mark.slow
def test_mixed_corpus_audit_from_the_cli(shared_data, tmp_path):
    path = shared_data("mixed", "corpus.jsonl")
    out = tmp_path / "out"
    res = runner.invoke(app, ["audit", str(path), "--source-field", "source", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    r = json.loads((out / "report.json").read_text())
    assert r["corpus"]["documents_read"] == 8657 and r["corpus"]["documents_quarantined"] == 0
    # brute-force exact duplicates with the documented normalisation
    from collections import Counter

    from curadebt.text.normalize import normalize_for_exact

    keys = Counter(normalize_for_exact(json.loads(line)["text"]) for line in path.open(encoding="utf-8"))
    assert r["duplicates"]["exact_duplicate_documents"] == sum(n - 1 for n in keys.values())
    bible = next(s for s in r["order"]["sources"] if s["name"] == "bible")
    assert bible["early_share"]["0.01"] == 1.0 and bible["concentration"]["0.1"] > 2
    assert r["debt"]["dimensions"]["order"]["is_debt"] is True
