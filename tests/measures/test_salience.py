from __future__ import annotations

import json
import math
import pickle
import random
from collections import Counter
from functools import reduce

import pytest

from curadebt.core.measure import to_jsonable
from curadebt.measures.salience import SalienceMeasure, robust_z
from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.text.entities import capitalised_spans
from curadebt.text.tokenize import WORD_RE

OTHER_TOMS = ["Abbott", "Baker", "Carter", "Dalton", "Ellis", "Foster", "Grant", "Hughes", "Irving", "Jensen",
              "Keller", "Lawson", "Mercer", "Norton", "Oakley", "Porter", "Quinn", "Reyes", "Sawyer", "Turner"]


def tom_corpus() -> list[Document]:
    """Tom Cruise 300 mentions; 20 other Tom X, 3 mentions each; "Tom" alone 10 times."""
    texts = [f"Film {i}: we saw Tom Cruise on screen." for i in range(300)]
    for name in OTHER_TOMS:
        texts += [f"We met Tom {name} at the market." for _ in range(3)]
    texts += ["Tom said hello, and tom was tired but the tomb was quiet." for _ in range(10)]
    rng = random.Random(7)
    rng.shuffle(texts)
    return [Document(id=str(i), text=t, ordinal=i) for i, t in enumerate(texts)]


def batches(docs: list[Document], size: int) -> list[Batch]:
    return [Batch(docs[i:i + size]) for i in range(0, len(docs), size)]


def run(measure: SalienceMeasure, docs: list[Document], size: int = 50):
    state = measure.empty()
    for b in batches(docs, size):
        state = measure.accumulate(state, b)
    return state


def test_planted_tom_cruise_spillover_hand_checked():
    m = SalienceMeasure(top_k=5)
    res = m.finalize(run(m, tom_corpus()))
    assert res.entity_mentions == 300 + 20 * 3
    assert res.entity_types == 21
    top = res.entities[0]
    assert (top.entity, top.mentions, top.documents) == ("Tom Cruise", 300, 300)
    assert top.mention_share == pytest.approx(300 / 360)
    # ties by count are ordered by key ascending
    assert [e.entity for e in res.entities[1:3]] == ["Tom Abbott", "Tom Baker"]

    rows = {r.token: r for r in res.spillover}
    tom = rows["Tom"]
    # "Tom": 300 (Cruise) + 60 (other Toms) + 10 alone = 370; "tom" and "tomb" do not count.
    assert tom.entity == "Tom Cruise"
    assert tom.token_count == 370
    assert tom.entity_mentions == 300
    assert tom.share == pytest.approx(300 / 370)
    # expected = 370 - 300 + median(3, 3, ..., 3) = 73; lift = 370 / 73
    assert tom.expected_count == pytest.approx(73)
    assert tom.lift == pytest.approx(370 / 73)
    assert tom.lift > 5 and tom.share > 0.8
    # "Cruise" only ever occurs inside "Tom Cruise": expected = max(300 - 300, 1) = 1
    cruise = rows["Cruise"]
    assert (cruise.token_count, cruise.share, cruise.expected_count, cruise.lift) == (300, 1.0, 1, 300)
    # a last name of a rare Tom: its own entity dominates, no others share it
    baker = rows["Baker"]
    assert (baker.entity, baker.token_count, baker.share, baker.lift) == ("Tom Baker", 3, 1.0, 3.0)
    # ranked by excess token_count - expected_count: Cruise (299) then Tom (297)
    assert [r.token for r in res.spillover[:2]] == ["Cruise", "Tom"]


def test_outlier_detection():
    m = SalienceMeasure()
    res = m.finalize(run(m, tom_corpus()))
    by = {e.entity: e for e in res.entities}
    # median log(mentions) = log 3, MAD = 0 -> floored at log 2
    assert by["Tom Cruise"].z == pytest.approx(0.6745 * (math.log(300) - math.log(3)) / math.log(2))
    assert by["Tom Cruise"].outlier
    assert res.outliers == ["Tom Cruise"]
    assert all(not e.outlier and e.z == 0 for e in res.entities if e.entity != "Tom Cruise")
    assert res.median_mentions == 3


def test_robust_z_plain_mad():
    vals = [1.0, 2.0, 3.0, 4.0, 100.0]
    z = robust_z(vals, mad_floor=0.0)
    # median 3, MAD = median(2, 1, 0, 1, 97) = 1
    assert z == pytest.approx([0.6745 * (v - 3) for v in vals])
    assert robust_z([]) == []
    assert robust_z([5.0, 5.0], mad_floor=0.0) == [0.0, 0.0]


def test_merge_order_independent_and_accumulate_equals_merge():
    m = SalienceMeasure()
    docs = tom_corpus()
    parts = [m.map(b) for b in batches(docs, 37)]
    ref = to_jsonable(m.finalize(run(m, docs, size=1000)))
    left = reduce(m.merge, parts, m.empty())
    right = reduce(lambda a, b: m.merge(b, a), reversed(parts), m.empty())
    shuffled = parts[:]
    random.Random(1).shuffle(shuffled)
    tree = shuffled
    while len(tree) > 1:  # pairwise tree merge
        tree = [m.merge(tree[i], tree[i + 1]) if i + 1 < len(tree) else tree[i] for i in range(0, len(tree), 2)]
    for state in (left, right, tree[0], pickle.loads(pickle.dumps(left))):
        assert to_jsonable(m.finalize(state)) == ref
    # merge does not mutate its inputs
    before = pickle.dumps(parts[0])
    m.merge(parts[0], parts[1])
    assert pickle.dumps(parts[0]) == before


def test_budget_prunes_deterministically_and_keeps_heavy_hitters():
    m = SalienceMeasure(max_entities=4, max_tokens=8)
    docs = tom_corpus()
    res = m.finalize(run(m, docs, size=40))
    assert not res.exact and res.entity_error > 0
    assert res.entities[0].entity == "Tom Cruise"
    assert res.entity_mentions == 360  # the total stays exact
    # true count lies within [reported, reported + error]
    assert res.entities[0].mentions <= 300 <= res.entities[0].mentions + res.entity_error
    parts = [m.map(b) for b in batches(docs, 40)]
    a = reduce(m.merge, parts, m.empty())
    b = reduce(m.merge, parts, m.empty())
    assert to_jsonable(m.finalize(a)) == to_jsonable(m.finalize(b))


def test_html_unsafe_entity_text_is_plain_data():
    weird = '<script>alert("Tom & Jerry")</script>'

    def extractor(text: str) -> list[str]:
        return [weird] if "Jerry" in text else []

    m = SalienceMeasure(extractor, token_filter=lambda t: True)
    docs = [Document(id=str(i), text="Tom & Jerry <b>again</b>", ordinal=i) for i in range(3)]
    res = m.finalize(m.map(Batch(docs)))
    assert res.entities[0].entity == weird  # not escaped: escaping is the HTML renderer's job
    data = json.loads(json.dumps(to_jsonable(res)))
    assert data["entities"][0]["entity"] == weird
    assert {r["token"] for r in data["spillover"]} >= {"script", "Jerry"}


def test_named_extractor_and_batch_entities_are_used():
    docs = [Document(id="1", text="We saw Tom Cruise.", ordinal=0)]
    assert SalienceMeasure("capitalised").finalize(SalienceMeasure("capitalised").map(Batch(docs))).entity_mentions == 1
    m = SalienceMeasure(lambda text: ["Tom"])
    assert m.finalize(m.map(Batch(docs))).entities[0].entity == "Tom"
    # no extractor given: the batch's (the run's) extractor is used
    m = SalienceMeasure()
    assert m.finalize(m.map(Batch(docs, None, lambda text: ["Cruise"]))).entities[0].entity == "Cruise"


def test_two_worker_processes_equal_single_process():
    from curadebt.engine.local import run_measures

    m = SalienceMeasure()
    bs = batches(tom_corpus(), 30)
    single = m.finalize(run_measures(bs, [m])["salience"])
    multi = m.finalize(run_measures(bs, [m], workers=2)["salience"])
    assert to_jsonable(multi) == to_jsonable(single)


@pytest.mark.realdata
def test_real_corpus_counts_match_brute_force(shared_data):
    from curadebt.corpus.readers import iter_batches

    path = shared_data("mixed", "corpus.jsonl")
    m = SalienceMeasure(top_k=30, spillover_k=10_000)
    state = m.empty()
    mentions, documents, words = Counter(), Counter(), Counter()
    for batch in iter_batches(path):
        state = m.accumulate(state, batch)
        for d in batch.docs:
            ents = capitalised_spans(d.text)
            mentions.update(ents)
            documents.update(set(ents))
            words.update(WORD_RE.findall(d.text))
    res = m.finalize(state)
    assert res.exact
    assert res.entity_mentions == sum(mentions.values())
    assert res.entity_types == len(mentions)
    for e in res.entities:
        assert (e.mentions, e.documents) == (mentions[e.entity], documents[e.entity])
    for r in res.spillover:
        assert r.token_count == words[r.token]
    # the appended corpus makes "United States" (speeches) and "God of Israel" (bible) stand out
    assert res.entities[0].entity == "United States"
    assert {"United States", "God of Israel", "Jesus Christ"} <= set(res.outliers)
    assert 0 < len(res.outliers) < 0.02 * res.entity_types
    united = next(r for r in res.spillover if r.token == "United")
    assert united.entity == "United States" and united.share > 0.5 and united.lift > 2


def test_capitalised_words_from_spans_equal_the_token_filter():
    """The default filter read off the batch's byte spans keeps exactly the tokens is_capitalised keeps."""
    from curadebt.text.capitalised import capitalised_words, is_capitalised
    from curadebt.text.tokenize import word_tokenize
    from curadebt.text.wordhash import word_spans_hashed

    rng = random.Random(11)
    alphabet = list("aZb Tq9_'’- \n.") + ["É", "é", "Σ", "σ", "ǅ", "Ⅻ", "ⅻ", "ß", "İ", "一", "\u0301", "\U0001D400",
                                         "\ud800"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in range(3000)]
    texts += ["Tom Cruise met tom and Émile in Σparta", ""]
    want = [w for t in texts for w in word_tokenize(t) if is_capitalised(w)]
    assert capitalised_words(word_spans_hashed(texts)) == want
    assert any(w[0] == "ǅ" for t in texts for w in word_tokenize(t))  # a titlecase start is tested, and dropped
    assert not any(w[0] == "ǅ" for w in want)


def test_span_regex_equals_the_lookbehind_first_definition():
    """SPAN_RE tests the span start after its first capital (fast); the plain definition, start
    lookbehinds first, must find the same spans, including after joiners and word characters."""
    import re

    from curadebt.text import entities as E

    plain = re.compile(rf"(?<!\w)(?<!\w['’\-]){E._CAP}(?:{E._SP}(?:(?:of|de|da|van|von|del|la|le|bin|al){E._SP})?"
                       rf"{E._CAP})+{E._END}")
    rng = random.Random(5)
    pieces = ["Tom", "Cruise", "New", "York", "of", "de", "x", "É", "é9", "_", "-", "'", "’", " ", "  ", "\n", "\t",
              "Nuclear-Test-Ban", "remains-", "O'Brien", "LORD", "I", "9", "Mc"]
    texts = ["".join(rng.choice(pieces) + rng.choice(["", " ", "-", "'"]) for _ in range(rng.randrange(0, 25)))
             for _ in range(4000)]
    texts += ["remains-Unconditional Surrender", "x'Tom Cruise", "aTom Cruise", "Tom Cruise's", "Duke of York"]
    for t in texts:
        assert [m.span() for m in E.SPAN_RE.finditer(t)] == [m.span() for m in plain.finditer(t)], t
    assert sum(bool(E.SPAN_RE.search(t)) for t in texts) > 200  # spans do occur


@pytest.mark.slow
def test_spacy_extractor_finds_named_entities_in_batches():
    pytest.importorskip("spacy", reason="spaCy is the optional NER extractor: pip install 'curadebt[ner]'")
    import pickle

    from curadebt.corpus.batch import Batch
    from curadebt.core.document import Document
    from curadebt.text.entities import SpacyExtractor, get_extractor

    ext = get_extractor("spacy")
    assert isinstance(ext, SpacyExtractor)
    docs = [Document("a", "Tom Cruise met Tom Hanks in New York in 1999.", 0),
            Document("b", "First Citizen: we are accounted poor citizens. " + "word " * 30000 + "Paris is far.", 1)]
    ents = Batch(docs, entity_extractor=ext).entities
    assert ents[0] == ["Tom Cruise", "Tom Hanks", "New York"]  # people and a place; the date is no entity
    assert "Paris" in ents[1] and "First Citizen" not in ents[1]  # one-word names in; title-case phrases out
    assert pickle.loads(pickle.dumps(ext))._nlp is None  # workers load the model themselves
    res = SalienceMeasure(extractor=ext).finalize(SalienceMeasure(extractor=ext).map(Batch(docs)))
    assert {e.entity for e in res.entities} >= {"Tom Cruise", "Tom Hanks", "New York"}
