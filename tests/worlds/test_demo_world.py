"""The demo world: deterministic bytes, and every planted count in the manifest recounted by brute force
from the written files (no use of the generator's own bookkeeping)."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from curadebt.worlds.demo import WorldManifest, generate_world
from curadebt.worlds.demo_text import FACT_WORDS, OTHER_TOMS, TOM_CRUISE
from curadebt.text.tokenize import word_tokenize


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> WorldManifest:
    return generate_world(tmp_path_factory.mktemp("world0"), seed=0)


@pytest.fixture(scope="module")
def docs(world) -> list[dict]:
    return [json.loads(line) for line in world.corpus_path.read_text(encoding="utf-8").splitlines()]


def _word(phrase: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text) if s.strip()]


def _shingles(text: str, k: int = 3) -> frozenset:
    t = word_tokenize(text)
    return frozenset(" ".join(t[i:i + k]) for i in range(max(1, len(t) - k + 1)))


# --- determinism and shape ---------------------------------------------------------------------

def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def test_same_seed_same_bytes(world, tmp_path):
    again = generate_world(tmp_path / "again", seed=0)
    assert _files(world.out_dir) == _files(again.out_dir)
    assert set(_files(world.out_dir)) == {"corpus.jsonl", "probes.jsonl", "manifest.json"}


def test_different_seed_differs(world, tmp_path):
    other = generate_world(tmp_path / "other", seed=1)
    assert other.corpus_path.read_bytes() != world.corpus_path.read_bytes()
    assert other.manifest_path.read_bytes() != world.manifest_path.read_bytes()
    # the planted structure is the same, only the text differs
    docs_of = lambda m: {a: v["documents"] for a, v in m.debt("probes-capital-of-France")["answers"].items()}  # noqa: E731
    assert docs_of(other) == docs_of(world)


def test_manifest_round_trip(world):
    loaded = WorldManifest.load(world.out_dir)
    assert loaded.to_json() == world.to_json()
    assert json.loads(world.manifest_path.read_text())["n_docs"] == 3000
    assert {d["dimension"] for d in world.debts} == {"salience", "probes", "duplicates", "mixture", "order",
                                                    "frequency"}


def test_corpus_shape(world, docs):
    assert len(docs) == world.n_docs == 3000
    assert all(set(d) == {"id", "text", "source"} for d in docs)
    assert len({d["id"] for d in docs}) == len(docs)
    size = world.corpus_path.stat().st_size
    assert 1_000_000 < size < 2_500_000, size
    # varied documents: many distinct opening sentences in every source
    openings = defaultdict(set)
    for d in docs:
        openings[d["source"]].add(_sentences(d["text"])[0])
    assert {s: len(v) > 100 for s, v in openings.items()} == {s: True for s in openings}


def test_too_small_world_is_refused(tmp_path):
    with pytest.raises(ValueError):
        generate_world(tmp_path, n_docs=100)


# --- planted counts by brute force ----------------------------------------------------------------

def test_tom_cruise_and_other_toms(world, docs):
    d = world.debt("salience-tom-cruise")
    tc = _word(TOM_CRUISE)
    assert sum(1 for x in docs if tc.search(x["text"])) == d["entity_documents"] == 300
    assert sum(len(tc.findall(x["text"])) for x in docs) == d["entity_mentions"]
    tom_tokens = sum(word_tokenize(x["text"]).count("Tom") for x in docs)
    assert tom_tokens == d["token_count"]
    toms = [x["text"] for x in docs if "Tom" in x["text"]]
    for name in OTHER_TOMS:
        r = _word(name)
        assert sum(len(r.findall(x)) for x in toms) == d["other_entities"][name]
        assert sum(1 for x in toms if r.search(x)) == d["other_documents"][name]
    # every "Tom" belongs to a planted Tom, so the share is exact and dominated by one entity
    assert d["entity_mentions"] + sum(d["other_entities"].values()) == tom_tokens
    assert d["share"] == pytest.approx(d["entity_mentions"] / tom_tokens, abs=1e-6)
    assert d["share"] > 0.7 and d["lift"] > 2


def _probe_counts(docs, subject, answer, patterns):
    s_re, a_re = _word(subject), _word(answer)
    n_docs = n_sent = n_pat = 0
    for x in docs:
        text = x["text"]
        if not (s_re.search(text) and a_re.search(text)):
            continue
        n_docs += 1
        n_sent += sum(1 for s in _sentences(text) if s_re.search(s) and a_re.search(s))
        n_pat += sum(len(_word(p.replace("{subject}", subject).replace("{answer}", answer)).findall(text))
                     for p in patterns)
    return {"documents": n_docs, "sentences": n_sent, "pattern_matches": n_pat}


def test_facts_and_controls(world, docs):
    probes = {p["id"]: p for p in map(json.loads, world.probes_path.read_text().splitlines())}
    entries = [d for d in world.debts + world.controls if d["dimension"] == "probes"]
    assert sorted(e["probe_id"] for e in entries) == sorted(probes)
    for e in entries:
        p = probes[e["probe_id"]]
        assert p["subject"] == e["subject"] and p["answers"] == list(e["answers"])
        for answer, want in e["answers"].items():
            assert _probe_counts(docs, e["subject"], answer, p["patterns"]) == want, (e["probe_id"], answer)
    france = world.debt("probes-capital-of-France")["answers"]
    assert france["Paris"]["documents"] == 20 * france["Lyon"]["documents"] == 200
    bolivia = next(c for c in world.controls if c["subject"] == "Bolivia")["answers"]
    assert abs(bolivia["Sucre"]["documents"] - bolivia["La Paz"]["documents"]) <= 2


def test_fact_words_occur_only_in_fact_documents(world, docs):
    for word in FACT_WORDS:
        r = _word(word)
        hits = [len(r.findall(x["text"])) for x in docs if word in x["text"]]
        assert all(h <= 1 for h in hits), word  # at most once per document
    subjects = [_word(s) for s in ("France", "Bolivia", "Australia")]
    for word in ("Paris", "Lyon", "Marseille", "Sucre", "La Paz", "Canberra", "Sydney"):
        r = _word(word)
        assert all(any(s.search(x["text"]) for s in subjects) for x in docs
                   if word in x["text"] and r.search(x["text"])), word


def test_exact_duplicates(world, docs):
    d = world.debt("duplicates")
    groups = defaultdict(list)
    for x in docs:
        groups[" ".join(x["text"].split())].append(x["id"])
    clusters = [ids for ids in groups.values() if len(ids) > 1]
    assert sum(len(c) - 1 for c in clusters) == d["exact_duplicate_documents"] == 150
    assert len(clusters) == d["exact_clusters"]
    largest = max(clusters, key=len)
    assert sorted(largest) == d["largest_cluster"]["ids"] and len(largest) == 25
    byte_identical = Counter(x["text"] for x in docs)
    ws_variants = sum(len(c) - 1 for c in clusters) - sum(n - 1 for n in byte_identical.values() if n > 1)
    assert ws_variants == d["whitespace_variants"] > 0


def test_near_duplicates(world, docs):
    d = world.debt("duplicates")
    text = {x["id"]: x["text"] for x in docs}
    near = [c for c in d["copies"] if c["kind"] == "near"]
    assert len(near) == d["near_duplicate_documents"] == 90
    assert len({c["copy_of"] for c in near}) == d["near_clusters"]
    for c in near:
        a, b = _shingles(text[c["id"]]), _shingles(text[c["copy_of"]])
        assert " ".join(text[c["id"]].split()) != " ".join(text[c["copy_of"]].split())
        assert len(a & b) / len(a | b) >= 0.8
        wa, wb = text[c["id"]].split(), text[c["copy_of"]].split()
        assert len(wa) == len(wb) and 0.02 <= sum(x != y for x, y in zip(wa, wb)) / len(wa) <= 0.07


def test_no_accidental_near_duplicates(world, docs):
    """Every pair of documents with 3-shingle Jaccard >= 0.4 is a planted copy pair (all pairs, exactly)."""
    np = pytest.importorskip("numpy")
    sparse = pytest.importorskip("scipy.sparse")
    d = world.debt("duplicates")
    root = {x["id"]: x["id"] for x in docs}
    for c in d["copies"]:
        root[c["id"]] = c["copy_of"]
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, x in enumerate(docs):
        for s in _shingles(x["text"]):
            rows.append(i)
            cols.append(vocab.setdefault(s, len(vocab)))
    a = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(docs), len(vocab)))
    inter = (a @ a.T).toarray()
    size = np.asarray(a.sum(axis=1)).ravel()
    jac = inter / (size[:, None] + size[None, :] - inter)
    i, j = np.nonzero(np.triu(jac, 1) >= 0.4)
    unplanned = [(docs[p]["id"], docs[q]["id"]) for p, q in zip(i, j) if root[docs[p]["id"]] != root[docs[q]["id"]]]
    assert unplanned == []


def test_sources_and_order(world, docs):
    tokens, counts = Counter(), Counter()
    for x in docs:
        tokens[x["source"]] += len(word_tokenize(x["text"]))
        counts[x["source"]] += 1
    total = sum(tokens.values())
    assert total == world.tokens
    for s, row in world.sources.items():
        assert row["documents"] == counts[s] and row["tokens"] == tokens[s]
        assert row["token_share"] == pytest.approx(tokens[s] / total, abs=1e-6)
    mix = world.debt("mixture-dominant-source")
    assert mix["subject"] == "web" and 0.55 <= tokens["web"] / total <= 0.7
    assert all(tokens[s] / total < 0.2 for s in tokens if s != "web")
    order = world.debt("order-early-legal")
    n_legal = counts["legal"]
    assert [x["source"] for x in docs[:n_legal]] == ["legal"] * n_legal
    assert "legal" not in {x["source"] for x in docs[n_legal:]}
    assert order["ends_at_token_fraction"] == pytest.approx(tokens["legal"] / total, abs=1e-6)
    assert 0.05 <= order["ends_at_token_fraction"] <= 0.1


def test_frequency_coverage(world, docs):
    tri = Counter()
    for x in docs:
        t = word_tokenize(x["text"])
        tri.update(" ".join(t[i:i + 3]) for i in range(len(t) - 2))
    top = sorted(tri.values(), reverse=True)[:100]
    assert world.debt("frequency-templated-text")["top100_coverage_3gram"] == pytest.approx(
        sum(top) / sum(tri.values()), abs=1e-6)


def test_scaled_world_keeps_its_books(tmp_path):
    m = generate_world(tmp_path, seed=3, n_docs=600)
    docs = [json.loads(line) for line in m.corpus_path.read_text().splitlines()]
    assert len(docs) == 600
    d = m.debt("salience-tom-cruise")
    assert sum(1 for x in docs if TOM_CRUISE in x["text"]) == d["entity_documents"] == 60
    dup = m.debt("duplicates")
    groups = Counter(" ".join(x["text"].split()) for x in docs)
    assert sum(n - 1 for n in groups.values() if n > 1) == dup["exact_duplicate_documents"]
    assert dup["near_duplicate_documents"] == sum(1 for c in dup["copies"] if c["kind"] == "near")


# --- end to end: the audit names every planted debt -------------------------------------------

def test_demo_audit_names_every_planted_debt(world):
    runner = pytest.importorskip("curadebt.measures.runner")
    from curadebt.demo.verify import verify_report

    report = runner.audit(str(world.corpus_path), source_field="source", id_field="id",
                          probes=str(world.probes_path)).to_json()
    checks = verify_report(report, world)
    assert len(checks) == len(world.debts) + sum(1 for c in world.controls if c["dimension"] == "probes")
    failed = [c.line() for c in checks if not c.ok]
    assert not failed, "\n".join(failed)
    assert all(report["debt"]["dimensions"][d]["is_debt"] for d in
               ("duplicates", "salience", "mixture", "order", "probes", "frequency"))
