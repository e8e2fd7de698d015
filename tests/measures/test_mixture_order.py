import pytest

from curadebt.measures.mixture import MixtureMeasure
from curadebt.measures.order import order_measure
from curadebt.corpus import Batch, Document, ReaderConfig, iter_batches


def _docs(spec):
    """spec: list of (source, n_tokens, entities text)"""
    return [Document(str(i), " ".join(["w"] * n) + (" " + ents if ents else ""), i, source=s)
            for i, (s, n, ents) in enumerate(spec)]


def test_mixture_shares_and_imbalance():
    docs = _docs([("a", 9, "")] * 3 + [("b", 9, "")])
    m = MixtureMeasure("src")
    r = m.finalize(m.merge(m.map(Batch(docs[:1])), m.map(Batch(docs[1:]))))
    assert [(s.source, s.documents, s.tokens) for s in r.sources] == [("a", 3, 27), ("b", 1, 9)]
    assert r.top_source == "a" and r.top_share == pytest.approx(0.75) and r.imbalance_max_min == pytest.approx(3.0)
    assert 0.8 < r.normalized_entropy < 0.82


def test_order_windows_are_token_fractions():
    # 100 docs of 10 tokens: first 10 docs are source "early", the rest "late"
    docs = _docs([("early", 10, "")] * 10 + [("late", 10, "")] * 90)
    r = order_measure([Batch(docs[:37]), Batch(docs[37:])], 1000, {"early": 100, "late": 900}, {}, 0,
                      fractions=(0.01, 0.05, 0.1, 0.2))
    w = {x.fraction: x for x in r.windows}
    assert w[0.01].documents == 1 and w[0.05].documents == 5 and w[0.1].documents == 10 and w[0.2].documents == 20
    assert w[0.1].source_shares == {"early": 1.0}
    assert w[0.1].source_tvd == pytest.approx(0.9)
    early = next(s for s in r.sources if s.name == "early")
    assert early.concentration["0.1"] == pytest.approx(10.0) and early.concentration["0.2"] == pytest.approx(5.0)
    assert r.max_concentration == pytest.approx(5.0) and r.max_concentration_item == "early"


def test_bible_first_order_shows_early_concentration(shared_data):
    path = shared_data("mixed", "corpus.jsonl")
    cfg = ReaderConfig(source_field="source")
    m = MixtureMeasure("source")
    state = m.empty()
    for b in iter_batches(path, cfg):
        state = m.accumulate(state, b)
    mix = m.finalize(state)
    total = sum(s.tokens for s in mix.sources)
    r = order_measure(iter_batches(path, cfg), total, {s.source: s.tokens for s in mix.sources}, {}, 0)
    bible = next(s for s in r.sources if s.name == "bible")
    assert bible.early_share["0.01"] == 1.0 and bible.early_share["0.1"] == 1.0
    assert bible.concentration["0.1"] > 2.0 and r.max_concentration_item == "bible"
    assert r.windows[-1].source_tvd > 0.5


def test_window_counts_of_consecutive_stretches_add_up_to_the_whole():
    """The engines count the order prefix unit by unit: parts added in corpus order equal one count,
    Counter key order included (float sums over the Counters depend on it)."""
    from curadebt.measures.order import WindowCounts, count_windows

    docs = [Document(str(i), f"Tom Cruise and New York {'word ' * (i % 9)} Zed{i % 5} Quux", i,
                     source=f"s{i % 3}") for i in range(300)]
    total = sum(len(b) for b in Batch(docs).tokens)
    cutoffs = [0.05 * total, 0.2 * total, 0.5 * total]
    whole = count_windows([Batch(docs[:97]), Batch(docs[97:])], cutoffs)
    parts, position = WindowCounts.empty(3), 0
    for lo, hi in ((0, 40), (40, 41), (41, 200), (200, 300)):
        b = Batch(docs[lo:hi])
        parts.add(count_windows([b], cutoffs, position))
        position += sum(b.token_counts)
    assert parts.tokens == whole.tokens and parts.documents == whole.documents
    assert [list(c.items()) for c in parts.sources] == [list(c.items()) for c in whole.sources]
    assert [list(c.items()) for c in parts.entities] == [list(c.items()) for c in whole.entities]
    assert whole.documents[0] < whole.documents[1] < whole.documents[2] < 300
