from __future__ import annotations

import json
import pickle
import random
import re
import time
from functools import reduce

import pytest

from curadebt.core.measure import to_jsonable
from curadebt.measures.probe_files import Probe, ProbeFileError, load_probes
from curadebt.measures.probes import ProbesMeasure, split_sentences
from curadebt.corpus.batch import Batch
from curadebt.core.document import Document

TEXTS = [
    "The capital of France is Paris. Paris is lovely.",                                   # 0
    "France has many cities. Barcelona is in Spain. The capital of France is Paris.",     # 1
    "The capital of France is Barcelona!",                                                # 2
    "Paris Hilton visited France; she loved Paris, France.",                              # 3
    "Parisian food is great in France.",                                                  # 4: not whole-word
    "The capital of france is Paris.",                                                    # 5: subject is case-sensitive
    "Paris is big.\n\nFrance is bigger.",                                                 # 6: blank line splits
    "Frances went to Paris.",                                                             # 7: not the subject
    "Rome is ancient. Italy is in Europe.",                                               # 8
]

PROBES = [
    Probe("france", "France", ["Paris", "Barcelona"], ["The capital of {subject} is {answer}"]),
    Probe("spain", "Spain", ["Madrid", "Barcelona"]),
    Probe("germany", "Germany", ["Berlin", "Bonn"]),
    Probe("italy", "Italy", ["Rome", "Milan"]),
    Probe("hilton", "Paris Hilton", ["Paris", "London"]),
]


def docs(texts=TEXTS):
    return [Document(id=str(i), text=t, ordinal=i) for i, t in enumerate(texts)]


def result(measure, ds, size=3):
    state = measure.empty()
    for i in range(0, len(ds), size):
        state = measure.accumulate(state, Batch(ds[i:i + size]))
    return measure.finalize(state)


def by_id(res):
    return {p.id: p for p in res.probes}


def answers(p):
    return {a.answer: (a.documents, a.sentences, a.pattern_matches, a.share) for a in p.answers}


def test_paris_vs_barcelona_hand_computed():
    res = result(ProbesMeasure(PROBES), docs())
    assert res.count == 5
    fr = by_id(res)["france"]
    # Paris: docs 0, 1, 3, 6 -> 4; sentences: doc0 s0, doc1 s2, doc3 s0 (two Paris, two France: once),
    #        doc6 none (blank line) -> 3; patterns: doc0, doc1 -> 2.
    # Barcelona: docs 1, 2 -> 2; sentences: doc2 only -> 1 (doc1 has it in another sentence); pattern: doc2.
    assert answers(fr) == {"Paris": (4, 3, 2, 0.75), "Barcelona": (2, 1, 1, 0.25)}
    assert fr.basis == "sentences"
    assert (fr.top_answer, fr.runner_up) == ("Paris", "Barcelona")
    assert fr.dominance_ratio == pytest.approx((3 + 1) / (1 + 1))

    sp = by_id(res)["spain"]
    assert answers(sp) == {"Madrid": (0, 0, 0, 0.0), "Barcelona": (1, 1, 0, 1.0)}
    assert (sp.top_answer, sp.runner_up, sp.dominance_ratio) == ("Barcelona", "Madrid", 2.0)

    de = by_id(res)["germany"]
    assert (de.basis, de.top_answer, de.runner_up, de.dominance_ratio) == ("none", None, None, 1.0)
    assert all(a.share == 0.0 for a in de.answers)

    # documents fallback: Rome and Italy share a document but no sentence
    it = by_id(res)["italy"]
    assert it.basis == "documents"
    assert answers(it) == {"Rome": (1, 0, 0, 1.0), "Milan": (0, 0, 0, 0.0)}
    assert it.dominance_ratio == 2.0

    # the "Paris" inside the subject "Paris Hilton" is not an answer occurrence; "Paris," later is
    hi = by_id(res)["hilton"]
    assert answers(hi)["Paris"] == (1, 1, 0, 1.0)

    assert res.with_evidence == 4
    assert res.documents_scanned == len(TEXTS)
    assert res.documents_with_subject == 7  # docs 0, 1, 2, 3, 4, 6 (France) and 8 (Italy)
    assert res.dominated == 0 and res.max_dominance_ratio == 2.0
    # most dominated first; ties by evidence, then file order; no evidence last
    assert [p.id for p in res.probes] == ["france", "spain", "italy", "hilton", "germany"]


def test_pattern_matching_whitespace_case_and_word_edges():
    probe = Probe("p", "France", ["Paris"], ["The capital of {subject} is {answer}", "{answer}, {subject}"])
    text = ("the capital of France is Paris. The capital of  France\nis Paris. "
            "The capital of France is Parisian. The capital of France is Paris! Paris, France.")
    res = result(ProbesMeasure([probe]), docs([text]))
    a = res.probes[0].answers[0]
    # pattern 1: lower-case "the" no; double space + newline yes; "Parisian" no; "... Paris!" yes -> 2
    # pattern 2: "Paris, France" -> 1
    assert a.pattern_matches == 3
    assert a.documents == 1
    assert res.probes[0].runner_up is None and res.probes[0].dominance_ratio == a.sentences + 1


def test_sentence_splitter():
    assert split_sentences('He said "Go." Then "Stop!" Ok?  Yes\n\nNew para\nsame sentence') == [
        'He said "Go."', 'Then "Stop!"', "Ok?", "Yes", "New para\nsame sentence"]


def test_merge_order_independent_and_pickles():
    m = ProbesMeasure(PROBES)
    ds = docs() * 3
    ref = to_jsonable(result(m, ds, size=1000))
    parts = [m.map(Batch(ds[i:i + 2])) for i in range(0, len(ds), 2)]
    random.Random(3).shuffle(parts)
    left = reduce(m.merge, parts, m.empty())
    right = reduce(lambda a, b: m.merge(b, a), parts, m.empty())
    for state in (left, right, pickle.loads(pickle.dumps(left))):
        assert to_jsonable(m.finalize(state)) == ref
    m2 = pickle.loads(pickle.dumps(m))  # the automaton is rebuilt, not pickled
    assert to_jsonable(result(m2, ds)) == ref
    before = pickle.dumps(parts[0])
    m.merge(parts[0], parts[1])
    assert pickle.dumps(parts[0]) == before


def test_jsonl_probe_file_and_errors(tmp_path):
    good = tmp_path / "probes.jsonl"
    good.write_text(
        json.dumps({"id": "france", "subject": "France", "answers": ["Paris", "Barcelona"],
                    "patterns": ["The capital of {subject} is {answer}"]}) + "\n\n"
        + json.dumps({"id": 7, "subject": "Spain", "answers": ["Madrid", "Barcelona", "Madrid"]}) + "\n")
    probes = load_probes(good)
    assert probes[0] == PROBES[0]
    assert probes[1] == Probe("7", "Spain", ("Madrid", "Barcelona"))  # ids become strings, duplicates go
    assert to_jsonable(ProbesMeasure(good).finalize(ProbesMeasure(good).empty()))["count"] == 2

    def bad(lines, *needles):
        p = tmp_path / "bad.jsonl"
        p.write_text("\n".join(lines) + "\n")
        with pytest.raises(ProbeFileError) as e:
            load_probes(p)
        for n in needles:
            assert n in str(e.value), str(e.value)

    ok = json.dumps({"id": "a", "subject": "A", "answers": ["x", "y"]})
    bad([ok, '{"id": "b", "subject": "B", "answers": ["x"'], "bad.jsonl:2:", "invalid JSON")
    bad([ok, ok.replace('"a"', '"b"'), json.dumps({"id": "c", "subject": "C"})], "bad.jsonl:3:", "'answers'")
    bad([json.dumps({"id": "a", "subject": "A", "answers": "x"})], "bad.jsonl:1:", "non-empty list")
    bad([json.dumps({"id": "a", "subject": "A", "answers": ["x"], "patterns": ["{subject} is"]})],
        "bad.jsonl:1:", "{answer}")
    bad([ok, ok], "bad.jsonl:2:", "duplicate probe id 'a'", "bad.jsonl:1")
    bad([ok, '"just a string"'], "bad.jsonl:2:", "expected a JSON object, got str")
    bad([json.dumps({"foo": 1})], "bad.jsonl:1:", "not a probe")
    bad(["", ""], "no probes")
    with pytest.raises(ProbeFileError, match="no such probe file"):
        load_probes(tmp_path / "missing.jsonl")


def test_counterfact_json_list(tmp_path):
    recs = [
        {"case_id": 0, "prompt": "The mother tongue of Danielle Darrieux is", "target_new": "English",
         "subject": "Danielle Darrieux", "ground_truth": "French", "rephrase_prompt": "x",
         "locality_prompt": "y", "locality_ground_truth": "z"},
        {"case_id": 5, "requested_rewrite": {"prompt": "{} plays the", "subject": "Toko Yasuda",
                                             "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}}},
    ]
    p = tmp_path / "cf.json"
    p.write_text(json.dumps(recs))
    a, b = load_probes(p)
    assert a == Probe("0", "Danielle Darrieux", ("French", "English"), ("The mother tongue of {subject} is {answer}",))
    assert b == Probe("5", "Toko Yasuda", ("guitar", "piano"), ("{subject} plays the {answer}",))
    recs.append({"case_id": 9, "prompt": "The capital of X is", "subject": "Y", "ground_truth": "a", "target_new": "b"})
    p.write_text(json.dumps(recs))
    with pytest.raises(ProbeFileError, match=r"record 3 \(case_id 9\): prompt .* does not contain the subject 'Y'"):
        load_probes(p)
    corpus = docs(["The mother tongue of Danielle Darrieux is French. Danielle Darrieux spoke English too."])
    res = result(ProbesMeasure([a]), corpus)
    assert answers(res.probes[0]) == {"French": (1, 1, 1, 0.5), "English": (1, 1, 0, 0.5)}
    assert res.probes[0].top_answer == "English"  # tie: answer text ascending


@pytest.mark.realdata
def test_counterfact_from_shared_data(shared_data):
    folder = shared_data("counterfact")
    probes = load_probes(folder / "counterfact-edit.json")
    assert len(probes) == 10_000
    assert probes[0] == Probe("0", "Danielle Darrieux", ("French", "English"),
                              ("The mother tongue of {subject} is {answer}",))
    assert all(p.patterns and "{subject}" in p.patterns[0] for p in probes)
    assert len(load_probes(folder / "counterfact-val.json")) == 1919
    zsre = load_probes(folder / "zsre_mend_train-1k.json")
    assert len(zsre) == 1000 and zsre[0].answers == ("uniform", "unmanned aircraft")
    assert zsre[534].answers == tuple(json.loads((folder / "zsre_mend_train-1k.json").read_text())[534]["answers"])


@pytest.mark.slow
@pytest.mark.realdata
def test_10k_counterfact_probes_over_mixed_corpus_fast_and_brute_force_checked(shared_data):
    from curadebt.corpus.readers import iter_batches

    probes = load_probes(shared_data("counterfact", "counterfact-edit.json"))
    batches = list(iter_batches(shared_data("mixed", "corpus.jsonl")))
    m = ProbesMeasure(probes)
    t0 = time.perf_counter()
    state = m.empty()
    for b in batches:
        state = m.accumulate(state, b)
    res = m.finalize(state)
    assert time.perf_counter() - t0 < 30  # ~4 s here; "well under a minute" for ~11 MB
    assert res.count == 10_000 and res.with_evidence > 100
    p = by_id(res)["17674"]  # Israel: Jerusalem (true) vs Damascus (counterfactual)
    assert (p.subject, p.top_answer, p.runner_up, p.basis) == ("Israel", "Jerusalem", "Damascus", "sentences")
    assert p.dominance_ratio > 5
    # brute force: documents with both whole words
    subj, ans = re.compile(r"(?<!\w)Israel(?!\w)"), {a.answer: re.compile(rf"(?<!\w){a.answer}(?!\w)") for a in p.answers}
    for a in p.answers:
        expect = sum(1 for b in batches for d in b.docs if subj.search(d.text) and ans[a.answer].search(d.text))
        assert a.documents == expect


def test_two_worker_processes_equal_single_process():
    from curadebt.engine.local import run_measures

    m = ProbesMeasure(PROBES)
    ds = docs() * 4
    batches = [Batch(ds[i:i + 5]) for i in range(0, len(ds), 5)]
    single = m.finalize(run_measures(batches, [m])["probes"])
    multi = m.finalize(run_measures(batches, [m], workers=2)["probes"])
    assert to_jsonable(multi) == to_jsonable(single)
