"""Salience as competition, on real text: findings an expert would sign, and a curate that pays the
planted debt without touching the tail.

- A world of real paragraphs (Shakespeare speeches and WikiText paragraphs, ../shared/data) where one
  person, "Tom Cruise", is named in 200 of them and five other Toms in 6 each (the lab's salience
  world: peers of 6 documents): the first salience finding names him; the default curate brings him
  under the debt line and drops no other Tom's document.
- The real mixed corpus: no collocation is a finding; the one debt is a real competition.
- The inaugural and State of the Union folders: no speech is removed for salience.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curadebt.measures.runner import audit
from curadebt.curation.runner import curate

from conftest import shared_data_path

pytestmark = pytest.mark.realdata

OTHER_TOMS = ["Tom Hanks", "Tom Baker", "Tom Hardy", "Tom Upton", "Tom Ashby"]
VERBS = ["was seen reading this aloud", "quoted these lines in an interview", "recited this on stage",
         "wrote about this passage"]


def _paragraphs(shared_data=shared_data_path) -> list[str]:
    text = shared_data("tinyshakespeare", "input.txt").read_text(encoding="utf-8")
    out = []
    for speech in text.split("\n\n"):
        body = " ".join(line.strip() for line in speech.strip().split("\n")[1:])  # without the speaker line
        if 40 <= len(body.split()) <= 150:
            out.append(body)
    for name in ("valid.txt", "test.txt"):
        for line in shared_data("wikitext2", name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line.startswith("=") and 40 <= len(line.split()) <= 150:
                out.append(line)
    return out


@pytest.fixture(scope="module")
def tom_world(tmp_path_factory) -> Path:
    paras = _paragraphs()
    rng = random.Random(0)
    rng.shuffle(paras)
    people = {"Tom Cruise": 200, **{p: 6 for p in OTHER_TOMS}}
    rows, i = [], 0
    for person, n in people.items():
        for k in range(n):
            rows.append({"id": f"{person.split()[1].lower()}-{k}", "person": person,
                         "text": f"{person} {rng.choice(VERBS)}. {paras[i]}"})
            i += 1
    rows += [{"id": f"f-{k}", "text": p} for k, p in enumerate(paras[i:])]
    rng.shuffle(rows)
    path = tmp_path_factory.mktemp("tom") / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _salience_findings(report: dict) -> list[dict]:
    return [f for f in report["debt"]["findings"] if f["dimension"] == "salience" and f["severity"] != "info"]


def test_planted_person_is_the_first_finding(tom_world):
    rep = audit(tom_world).to_json()
    first = _salience_findings(rep)[0]
    assert first["subject"] == "Tom" and first["entity"] == "Tom Cruise" and first["severity"] == "high"
    assert "5 established competitors" in first["message"]  # 200 planted + 3 real WikiText mentions
    assert rep["debt"]["dimensions"]["salience"]["is_debt"]


def test_default_curate_pays_the_planted_debt_and_keeps_every_other_tom(tom_world, tmp_path):
    res = curate(tom_world, tmp_path / "out")
    assert res.reconciliation["ok"]
    before, after = res.before["debt"]["dimensions"]["salience"], res.after["debt"]["dimensions"]["salience"]
    assert before["is_debt"] and not after["is_debt"]
    row = next(r for r in res.after["salience"]["competition"] if r["token"] == "Tom")
    assert row["continuation"] == "Cruise" and row["ratio"] < 10
    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    people = {json.loads(line)["id"]: json.loads(line).get("person") for line in tom_world.read_text().splitlines()}
    capped = [r for r in led if r["op"] == "entity_cap" and r["decision"] == "dropped"]
    assert capped and all(people[r["id"]] == "Tom Cruise" for r in capped)
    assert all(r["decision"] == "kept" for r in led if people[r["id"]] in OTHER_TOMS)
    cap = next(o for o in res.operations if o.op == "entity_cap").details["competitions"]["Tom -> Cruise"]
    # paragraphs holding the last copy of another entity stay; what dropping cannot reach, repeating
    # the other Toms' own documents does (both ways)
    assert cap["reached"] and cap["spared"]["entity"] > 0 and cap["ratio_after"] <= 9.0
    repeated = [r for r in led if r["op"] == "entity_cap" and r["copies"] > 1]
    assert repeated and all(people[r["id"]] in OTHER_TOMS for r in repeated)
    assert len(repeated) == cap["competitor_documents_repeated"] == 30


@pytest.mark.slow
def test_mixed_corpus_findings_an_expert_would_sign(shared_data, tmp_path):
    rep = audit(shared_data("mixed", "corpus.jsonl"), source_field="source").to_json()
    findings = _salience_findings(rep)
    subjects = {f["subject"] for f in findings}
    assert not subjects & {"Fu", "Du", "Ghost", "Holy", "Beauty", "American", "Middle", "Social"}
    debts = [f for f in findings if f["severity"] in ("high", "medium")]
    assert [(f["subject"], f["continuation"]) for f in debts] == [("God", "Israel")]  # 'God of Israel' 130 docs
    rows = {(r["token"], r["continuation"]): r for r in rep["salience"]["competition"]}
    assert rows[("Holy", "Ghost")]["status"] == "collocation" and rows[("Middle", "East")]["status"] == "collocation"
    assert ("Du", "Fu") not in rows  # one article: too few documents to compare at all
    # frequent entities of one long document are no outliers
    ents = {e["entity"]: e for e in rep["salience"]["entities"]}
    assert all(e["documents"] >= 20 for e in ents.values() if e["outlier"])
    # the default curate caps nothing: the God of Israel chapters are long texts that name it in passing
    res = curate(shared_data("mixed", "corpus.jsonl"), tmp_path / "out", source_field="source")
    cap = next(o for o in res.operations if o.op == "entity_cap")
    assert cap.ran and cap.dropped == 0
    assert "not capped" in cap.details["competitions"]["God -> Israel"]["note"]


def test_speeches_are_never_removed_for_salience(shared_data, tmp_path):
    res = curate([shared_data("inaugural"), shared_data("state_union")], tmp_path / "out")
    assert not res.before["debt"]["dimensions"]["salience"]["is_debt"]
    assert all(o.dropped == 0 for o in res.operations if o.op in ("entity_cap", "token_cap"))
    led = pq.read_table(tmp_path / "out" / "ledger.parquet").to_pylist()
    assert not [r for r in led if r["decision"] == "dropped" and r["op"] in ("entity_cap", "token_cap")]
